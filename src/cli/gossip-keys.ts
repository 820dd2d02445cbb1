import { readFileSync } from 'node:fs';
import { parseKey } from '../membership/keyring.js';

/**
 * The speaker's gossip keys from its flags. Gossip decides who answers ARP on the LAN, so it is encrypted
 * unless the operator explicitly chose otherwise (--insecure-gossip); no key and no choice is an error.
 */
export function gossipKeys(
  flags: { keyFile?: string; insecureGossip?: boolean },
  read: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): Buffer[] {
  if (flags.keyFile !== undefined && flags.insecureGossip)
    throw new Error('--insecure-gossip and --key-file contradict each other: give one of them');
  if (flags.keyFile === undefined) {
    if (flags.insecureGossip) return [];
    throw new Error(
      'gossip needs a key: give --key-file FILE (one 32-byte key per line, e.g. `openssl rand -hex 32`, ' +
        'the same on every node), or --insecure-gossip to run it unencrypted on a network you trust',
    );
  }
  const keys = read(flags.keyFile)
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseKey);
  if (keys.length === 0) throw new Error(`--key-file ${flags.keyFile}: no key in the file`);
  return keys;
}

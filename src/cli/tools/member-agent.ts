/**
 * A standalone member process for tests and benchmarks:
 *   node dist/src/cli/tools/member-agent.js --name n1 --bind 127.0.0.1:7001 [--join 127.0.0.1:7000]...
 *     [--profile fast-lan|lan|local] [--key HEX]... [--cluster NAME] [--meta TEXT] [--join-retry-ms MS]
 * Prints one JSON object per line on stdout: {"ev":"ready",...}, membership events
 * {"ev":"dead","node":"n3","t":<epoch ms>}, and replies to commands read from stdin, one per line:
 * `members`, `stats`, `leave`, `meta TEXT`, `broadcast TEXT`, `exit`.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { ProfileName } from '../../membership/config.js';
import { parseKey } from '../../membership/keyring.js';
import { Memberlist } from '../../membership/memberlist.js';
import { parseGossipAddress } from '../../membership/push-pull.js';
import type { Member } from '../../membership/types.js';
import { pollUntil } from '../../util/wait.js';

function out(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);
}

function brief(m: Member): Record<string, unknown> {
  return { node: m.name, state: m.state, inc: m.incarnation, meta: m.meta.toString() };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      bind: { type: 'string', default: '127.0.0.1:0' },
      join: { type: 'string', multiple: true, default: [] },
      profile: { type: 'string', default: 'fast-lan' },
      key: { type: 'string', multiple: true, default: [] },
      cluster: { type: 'string', default: 'herald' },
      meta: { type: 'string' },
      'allow-plaintext': { type: 'boolean', default: false },
      'join-retry-ms': { type: 'string', default: '0' },
    },
  });
  if (!values.name) throw new Error('agent: --name is required');
  const bind = parseGossipAddress(values.bind, 0, 0);
  const ml = await Memberlist.create({
    name: values.name,
    profile: values.profile as ProfileName,
    bindAddr: bind.host,
    bindPort: bind.port,
    keys: values.key.map(parseKey),
    cluster: values.cluster,
    allowPlaintext: values['allow-plaintext'],
  });
  if (values.meta !== undefined) ml.setMeta(Buffer.from(values.meta));
  for (const ev of ['join', 'suspect', 'alive', 'dead', 'leave', 'update'] as const)
    ml.on(ev, (m) => out({ ev, ...brief(m) }));
  ml.on('message', (m) => out({ ev: 'message', from: m.from, payload: m.payload.toString(), key: m.key }));
  let joined = 0;
  let joinError: string | undefined;
  const join = async (): Promise<boolean> => {
    try {
      joined = await ml.join(values.join);
      joinError = undefined;
    } catch (error) {
      joinError = (error as Error).message;
    }
    return joined > 0;
  };
  // --join-retry-ms: keep trying that long (a seed starved of CPU may miss one exchange), like a speaker.
  if (values.join.length > 0 && !(await join()))
    await pollUntil(Number(values['join-retry-ms']), join, { intervalMs: 200, maxIntervalMs: 2000 });
  out({ ev: 'ready', name: values.name, port: ml.address().port, joined, joinError, pid: process.pid });

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [cmd, ...rest] = line.trim().split(' ');
    const arg = rest.join(' ');
    if (cmd === 'members') out({ ev: 'members', members: ml.members().map(brief) });
    else if (cmd === 'stats') out({ ev: 'stats', stats: ml.stats() });
    else if (cmd === 'meta') ml.setMeta(Buffer.from(arg));
    else if (cmd === 'broadcast') ml.broadcast(Buffer.from(arg));
    else if (cmd === 'leave') void ml.leave(2000).then(() => out({ ev: 'left' }));
    else if (cmd === 'exit') void ml.shutdown().then(() => process.exit(0));
  });
  const stop = (): void => void ml.shutdown().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`agent: ${(error as Error).message}\n`);
  process.exit(1);
});

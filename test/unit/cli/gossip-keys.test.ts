import t from 'tap';
import { gossipKeys } from '../../../src/cli/gossip-keys.js';

const KEY = 'ab'.repeat(32);
const files: Record<string, string> = {
  keys: `${KEY}\n${Buffer.alloc(32, 7).toString('base64')}\n`,
  empty: '\n  \n',
  bad: 'not-a-key\n',
};
const read = (f: string): string => {
  const text = files[f];
  if (text === undefined) throw new Error(`ENOENT ${f}`);
  return text;
};

t.test('gossip keys: encrypted unless --insecure-gossip is chosen explicitly', async (t) => {
  t.throws(() => gossipKeys({}, read), /gossip needs a key: give --key-file FILE .* or --insecure-gossip/);
  t.same(gossipKeys({ insecureGossip: true }, read), [], '--insecure-gossip: plaintext');
  const keys = gossipKeys({ keyFile: 'keys' }, read);
  t.equal(keys.length, 2, 'every key of the file, primary first');
  t.equal(keys[0]?.toString('hex'), KEY);
  t.throws(() => gossipKeys({ keyFile: 'keys', insecureGossip: true }, read), /contradict/);
  t.throws(() => gossipKeys({ keyFile: 'empty' }, read), /no key in the file/);
  t.throws(() => gossipKeys({ keyFile: 'bad' }, read), /32 bytes|key/);
  t.throws(() => gossipKeys({ keyFile: 'missing' }, read), /ENOENT/);
});

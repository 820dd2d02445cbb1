import t from 'tap';
import { decodeNodeMeta, encodeNodeMeta, NODE_META_MAX_BYTES } from '../../../src/speaker/node-meta.js';
import { localInterfaces } from '../../../src/speaker/local-interfaces.js';

t.test('node metadata round-trips and rejects junk', async (t) => {
  const meta = {
    interfaces: [{ name: 'eth0', cidrs: ['10.0.0.1/24', 'fd00::1/64'] }],
    labels: { zone: 'a' },
  };
  t.same(decodeNodeMeta(encodeNodeMeta(meta)), meta);
  t.same(decodeNodeMeta(encodeNodeMeta({ ...meta, labels: {} })), { ...meta, labels: {} });
  t.equal(decodeNodeMeta(Buffer.alloc(0)), undefined);
  const bad = Buffer.from('{"v":1,"ifs":[{"n":"eth0","a":["10.0.0.1/24","garbage","10.0.0.300/24"]}]}');
  t.same(decodeNodeMeta(bad)?.interfaces, [{ name: 'eth0', cidrs: ['10.0.0.1/24'] }], 'bad prefixes dropped');
  t.equal(decodeNodeMeta(Buffer.from('{not json')), undefined);
  t.equal(decodeNodeMeta(Buffer.from('{"v":1,"ifs":[{"n":""}]}')), undefined);
  const newer = Buffer.from('{"v":2,"ifs":[{"n":"eth0","a":[],"speed":10}],"extra":true}');
  t.same(decodeNodeMeta(newer)?.interfaces, [{ name: 'eth0', cidrs: [] }], 'newer versions still decode');
  const huge = {
    interfaces: [{ name: 'eth0', cidrs: Array.from({ length: 60 }, (_, i) => `10.0.${i}.1/24`) }],
    labels: {},
  };
  t.throws(() => encodeNodeMeta(huge), new RegExp(`${NODE_META_MAX_BYTES}-byte`));
});

t.test('local interfaces: unknown names are an error, loopback is never listed', async (t) => {
  t.throws(() => localInterfaces(['hrl-no-such-if']), /not found/);
  t.notOk(localInterfaces().some((i) => i.name === 'lo'));
});

t.test('failing health checks travel in the metadata and shrink to fit it', async (t) => {
  const meta = {
    interfaces: [{ name: 'eth0', cidrs: ['10.0.0.1/24'] }],
    labels: {},
    failing: { 'default/web': 'connect refused' },
  };
  t.same(decodeNodeMeta(encodeNodeMeta(meta)), meta);
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`default/service-${i}`, 'HTTP 503']));
  const buf = encodeNodeMeta({ ...meta, failing: many });
  t.ok(buf.length <= NODE_META_MAX_BYTES, `${buf.length} bytes`);
  t.same(decodeNodeMeta(buf)?.failing, { '*': 'too many failing checks to list' });
});

import t from 'tap';
import { FAST_LAN_PROFILE, LAN_PROFILE, resolveConfig } from '../../../src/membership/config.js';

t.test('profiles: fast-lan default, lan = memberlist DefaultLANConfig, overrides win', async (t) => {
  const c = resolveConfig({ name: 'n1' });
  t.equal(c.probeIntervalMs, FAST_LAN_PROFILE.probeIntervalMs);
  t.equal(c.bindPort, 7946);
  const lan = resolveConfig({ name: 'n1', profile: 'lan', gossipNodes: 5, bindPort: undefined });
  t.equal(lan.probeIntervalMs, 1000);
  t.equal(lan.probeTimeoutMs, 500);
  t.equal(lan.suspicionMult, 4);
  t.equal(lan.suspicionMaxTimeoutMult, 6);
  t.equal(lan.gossipNodes, 5);
  t.equal(lan.bindPort, 7946, 'undefined does not clear a default');
  t.equal(LAN_PROFILE.pushPullIntervalMs, 30_000);
});

t.test('invalid config names every bad field', async (t) => {
  t.throws(() => resolveConfig({ name: 'has space' }), /name: must not contain whitespace/);
  t.throws(() => resolveConfig({ name: 'n', keys: [Buffer.alloc(3)] }), /keys\.0: keys must be 32 bytes/);
  t.throws(
    () => resolveConfig({ name: 'n', probeTimeoutMs: 100, probeIntervalMs: 100 }),
    /probeTimeoutMs must be below/,
  );
  t.throws(
    () => resolveConfig({ name: 'n', bindPort: 70000, gossipNodes: 0 }),
    /bindPort.*gossipNodes|gossipNodes.*bindPort/,
  );
  t.throws(() => resolveConfig({ name: 'n', profile: 'wan' as 'lan' }), /unknown profile/);
});

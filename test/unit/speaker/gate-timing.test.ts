import t from 'tap';
import { alonePulseMs } from '../../../src/l2/gate.js';
import { gateTiming } from '../../../src/speaker/assemble.js';
import { SPEAKER_DEFAULTS, type SpeakerOptions } from '../../../src/speaker/options.js';

const options = (livenessMs?: number): SpeakerOptions => ({
  node: 'n1',
  interfaces: [],
  bind: { host: '0.0.0.0', port: 7946 },
  join: [],
  pinDir: SPEAKER_DEFAULTS.pinDir,
  xdpMode: 'auto',
  heartbeatMs: SPEAKER_DEFAULTS.heartbeatMs,
  watchDetectMult: SPEAKER_DEFAULTS.watchDetectMult,
  profile: SPEAKER_DEFAULTS.profile,
  keys: [],
  labels: {},
  startupGraceMs: SPEAKER_DEFAULTS.startupGraceMs,
  resyncMs: SPEAKER_DEFAULTS.resyncMs,
  allocation: 'compute',
  ...(livenessMs !== undefined ? { livenessMs } : {}),
});

t.test('an explicit shorter liveness bound is the one the pulse thread works with', async (t) => {
  const derived = gateTiming(options());
  t.equal(derived.livenessBoundMs, 130);
  const short = gateTiming(options(50));
  t.equal(short.livenessBoundMs, 50, 'the bound the XDP gate enforces');
  t.equal(short.swimTakeoverHoldMs, derived.swimTakeoverHoldMs, 'takeover holds stay derived');
  t.ok(alonePulseMs(short) < 50, `alone, every beat lands inside it (${alonePulseMs(short)} ms)`);
  t.throws(() => gateTiming(options(500)), /would outlive the earliest takeover/);
});

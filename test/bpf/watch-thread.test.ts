import { readdirSync, readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { XdpResponder } from '../../src/datapath/responder.js';
import type { FlowEntry } from '../../src/datapath/flow-layout.js';
import { DEFAULT_GATE_SETTINGS, deriveGateTiming } from '../../src/l2/gate.js';
import { PROFILES } from '../../src/membership/config.js';
import { type PreparedWatchThread, WatchThread } from '../../src/speaker/watch-thread.js';
import { pollUntil } from '../../src/util/wait.js';
import { twoNodeFlowEntry } from '../helpers/flow-entry.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true });

const timing = deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, swim: PROFILES['fast-lan'] });

/** A responder on its own pin dir (no program attached: only its config map matters here). */
function responder(t: Test, name: string): XdpResponder {
  const pinDir = `/sys/fs/bpf/hrl-wt-${process.pid}-${name}`;
  XdpResponder.cleanup(pinDir);
  const removePins = () => XdpResponder.cleanup(pinDir);
  process.once('exit', removePins);
  const r = XdpResponder.open({ pinDir });
  r.setLivenessBoundMs(timing.livenessBoundMs);
  t.teardown(() => {
    r.close();
    removePins();
    process.removeListener('exit', removePins);
  });
  return r;
}

async function thread(
  t: Test,
  name: string,
  port: number,
  peerPort: number,
  stallMs = 1000,
  prepared?: PreparedWatchThread,
): Promise<{ watch: WatchThread; r: XdpResponder; failures: Error[]; stalls: number[] }> {
  const r = responder(t, name);
  const failures: Error[] = [];
  const stalls: number[] = [];
  const watch = await WatchThread.open(
    {
      timing,
      detectMult: DEFAULT_GATE_SETTINGS.watch.detectMult,
      capMs: 2000,
      family: 4,
      host: '127.0.0.1',
      port,
      peerPort: () => peerPort,
      pinDir: `/sys/fs/bpf/hrl-wt-${process.pid}-${name}`,
      controlLoopStallMs: stallMs,
      nice: -5,
      onFailure: (e) => failures.push(e),
      onStall: (gapMs) => stalls.push(gapMs),
    },
    prepared,
  );
  t.teardown(() => watch.stop());
  return { watch, r, failures, stalls };
}

const PORT = 40000 + (process.pid % 10000);

t.test(
  'the pulse thread opens the gate, keeps a pair up through a busy control loop, AdminDown',
  async (t) => {
    // The owner's thread starts before its pin dir exists, as a speaker's does (while its config parses).
    const early = WatchThread.prepare();
    await new Promise((r) => setTimeout(r, 200));
    const o = await thread(t, 'o', PORT, PORT + 1, 1000, early);
    const s = await thread(t, 's', PORT + 1, PORT);
    t.same(o.watch.priority, { nice: -5 }, 'the pulse thread runs at the asked nice value (root)');
    const niceOf = (tid: string) =>
      Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]);
    const tasks = readdirSync('/proc/self/task');
    t.ok(
      tasks.some((tid) => niceOf(tid) === -5),
      'a thread of this process at nice -5',
    );
    t.equal(niceOf(String(process.pid)), 0, 'the main thread keeps its own');
    t.notOk(o.r.gateOpen(), 'shut before the start');
    // Both ends on one address: each names the other as its only peer.
    const setTargets = () => {
      o.watch.setTargets({ watching: new Set(), watchedBy: new Set(['s']) }, new Map([['s', '127.0.0.1']]));
      s.watch.setTargets({ watching: new Set(['o']), watchedBy: new Set() }, new Map([['o', '127.0.0.1']]));
    };
    setTargets();
    const verdicts: string[] = [];
    s.watch.on('verdict', (v) => verdicts.push(v.verdict));
    for (const x of [o, s]) {
      x.watch.start();
      x.watch.setReady();
      x.watch.applied();
    }
    // Ready takes effect with the next targets.
    setTargets();
    t.ok(
      (await pollUntil(5000, () => s.watch.verdict('o') === 'up')) !== undefined,
      'the successor sees the owner up',
    );
    t.ok((await pollUntil(5000, () => o.r.gateOpen())) !== undefined, 'the owner gate opens');
    // The control loop (this thread) blocked for 500 ms: above the liveness bound, below the stall limit.
    const until = Date.now() + 500;
    while (Date.now() < until) {
      /* busy */
    }
    t.ok(o.r.gateOpen(), 'the gate stayed open while the control loop was busy');
    await new Promise((r) => setTimeout(r, 100));
    t.ok(
      o.stalls.some((gap) => gap >= 500),
      `the control loop's stall is reported (tick gaps ≥ 100 ms: ${o.stalls.map(Math.round).join(', ')})`,
    );
    t.equal(s.watch.verdict('o'), 'up', 'and the successor never saw the owner down');
    t.notOk(verdicts.includes('down'));
    await o.watch.stop({ adminDown: true });
    t.notOk(o.r.gateOpen(), 'AdminDown: the gate is shut');
    t.ok(
      (await pollUntil(2000, () => s.watch.verdict('o') === 'down')) !== undefined,
      'the successor hears AdminDown',
    );
    t.same([...o.failures, ...s.failures], []);
  },
);

t.test('a control loop silent beyond the stall limit counts as a freeze', async (t) => {
  const o = await thread(t, 'o2', PORT + 2, PORT + 3, 300);
  const s = await thread(t, 's2', PORT + 3, PORT + 2, 300);
  const setTargets = () => {
    o.watch.setTargets({ watching: new Set(), watchedBy: new Set(['s2']) }, new Map([['s2', '127.0.0.1']]));
    s.watch.setTargets({ watching: new Set(['o2']), watchedBy: new Set() }, new Map([['o2', '127.0.0.1']]));
  };
  for (const x of [o, s]) {
    x.watch.start();
    x.watch.setReady();
    x.watch.applied();
  }
  // Ready takes effect with the next targets.
  setTargets();
  t.ok(
    (await pollUntil(5000, () => o.r.gateOpen() && s.watch.verdict('o2') === 'up')) !== undefined,
    'gate open, pair up',
  );
  // Both control loops are this thread: block it 700 ms, the owner's pulse thread stops at 300 ms.
  const until = Date.now() + 700;
  let shut = false;
  while (Date.now() < until) if (!o.r.gateOpen()) shut = true;
  t.ok(shut, 'the gate shut while the control loop was silent');
});

const flowEntry = (role: FlowEntry['role']) => twoNodeFlowEntry(role, '020000006601', '020000006602');

t.test(
  'the pulse thread takes an armed VIP over at the down verdict, entry first, control loop told',
  async (t) => {
    const o = await thread(t, 'o3', PORT + 4, PORT + 5);
    const s = await thread(t, 's3', PORT + 5, PORT + 4);
    const setTargets = () => {
      o.watch.setTargets({ watching: new Set(), watchedBy: new Set(['s3']) }, new Map([['s3', '127.0.0.1']]));
      s.watch.setTargets({ watching: new Set(['o3']), watchedBy: new Set() }, new Map([['o3', '127.0.0.1']]));
    };
    for (const x of [o, s]) {
      x.watch.start();
      x.watch.setReady();
      x.watch.applied();
    }
    setTargets();
    t.ok(
      (await pollUntil(5000, () => s.r.gateOpen() && s.watch.verdict('o3') === 'up')) !== undefined,
      'the successor is up and sees the owner up',
    );
    s.r.setVips([
      ['10.66.0.1', { action: 'suppress' }],
      ['10.66.0.2', { action: 'suppress' }],
      ['fd66::3', { action: 'suppress' }],
    ]);
    s.r.flows.set('fd66::3', flowEntry('member'));
    const lo = { ifname: 'lo', ifindex: 1, mac: '020000006601' };
    s.watch.arm([
      [
        'o3',
        [
          { ip: '10.66.0.1', ...lo },
          { ip: 'fd66::3', ...lo, flows: true },
        ],
      ],
    ]);
    const took: Array<{ ips: string[] } | undefined> = [];
    s.watch.on('verdict', (v) => v.verdict === 'down' && took.push(v.took));
    await o.watch.stop({ adminDown: true });
    t.ok((await pollUntil(2000, () => took.length > 0)) !== undefined, 'the successor saw the owner down');
    t.same(took, [{ ips: ['10.66.0.1', 'fd66::3'] }], 'and took the armed VIPs over itself');
    const vips = s.r.vips();
    t.equal(vips.get('10.66.0.1')?.action, 'answer');
    t.equal(vips.get('10.66.0.1')?.mac.toString('hex'), '020000006601');
    t.equal(vips.get('10.66.0.1')?.ifindex, 1);
    t.equal(vips.get('10.66.0.2')?.action, 'suppress', 'nothing it was not armed with');
    t.equal(vips.get('fd66::3')?.action, 'answer', 'the flow-mode VIP answers');
    t.same(s.r.flows.get('fd66::3'), flowEntry('owner'), 'and steers: its member entry is the owner one now');
    t.same([...o.failures, ...s.failures], []);
  },
);

t.test('a prepared thread opens once; cancelled before it opened, it stops', async (t) => {
  const used = WatchThread.prepare();
  await thread(t, 'p1', PORT + 4, PORT + 5, 1000, used);
  await t.rejects(thread(t, 'p2', PORT + 6, PORT + 7, 1000, used), /already opened/);
  await used.cancel();
  const unused = WatchThread.prepare();
  await unused.cancel();
  await t.rejects(thread(t, 'p3', PORT + 8, PORT + 9, 1000, unused), /already cancelled/);
});

import t from 'tap';
import {
  byKind,
  FAULT_KINDS,
  faultKinds,
  faultResult,
  faultSchedule,
  pingCounts,
} from '../../../bench/safety/events.js';
import type { WatchSummary } from '../../helpers/arp-watch.js';

t.test('faultSchedule: seeded, every kind in a long schedule, nodes in range', async (t) => {
  const a = faultSchedule(42, 60, 3);
  t.same(faultSchedule(42, 60, 3), a, 'the same seed gives the same schedule');
  t.not(JSON.stringify(faultSchedule(43, 60, 3)), JSON.stringify(a), 'another seed another one');
  t.same(new Set(a.map((f) => f.kind)), new Set(FAULT_KINDS));
  t.ok(a.every((f) => f.node >= 0 && f.node < 3));
  t.ok(a.filter((f) => f.kind === 'bad-config').every((f) => f.config !== undefined));
  t.ok(a.filter((f) => f.kind === 'partition').every((f) => f.ms >= 2000 && f.ms < 5000));
});

t.test('per-fault accounting and totals by kind', async (t) => {
  const window = (dual: number, silent: number, longest: number): WatchSummary => ({
    rounds: 100,
    from: 0,
    to: 0,
    dualRounds: dual,
    dualSamples: [],
    silentRounds: silent,
    longestSilentMs: longest,
    silentMsByVip: new Map(),
    firstAllAnsweredAt: undefined,
    maxHeartbeatAgeMs: [],
  });
  const results = [
    faultResult({ kind: 'crash', node: 0, ms: 2000 }, 'n1', 2000, window(0, 30, 400)),
    faultResult({ kind: 'crash', node: 1, ms: 2000 }, 'n2', 22000, window(1, 10, 600)),
    faultResult({ kind: 'freeze', node: 2, ms: 300 }, 'n3', 42000, window(0, 0, 0)),
  ];
  t.same(byKind(results).get('crash'), { faults: 2, dualRounds: 1, silentRounds: 40, longestSilentMs: 600 });
  t.same(byKind(results).get('freeze'), { faults: 1, dualRounds: 0, silentRounds: 0, longestSilentMs: 0 });
  t.equal(results[1]?.nodeName, 'n2');
});

t.test('pingCounts reads the summary line', async (t) => {
  t.same(
    pingCounts(
      '--- 10.80.0.1 ping statistics ---\n6000 packets transmitted, 5991 received, 0.15% packet loss',
    ),
    {
      sent: 6000,
      received: 5991,
    },
  );
  t.equal(pingCounts('nothing'), undefined);
});

t.test('faultSchedule: --kinds restricts the kinds; an unknown kind is refused', async (t) => {
  const only = faultSchedule(7, 30, 3, faultKinds('partition'));
  t.ok(only.every((f) => f.kind === 'partition'));
  t.same(faultKinds('crash, freeze'), ['crash', 'freeze']);
  t.throws(() => faultKinds('crash,partitoin'), /unknown fault kind\(s\) partitoin/);
});

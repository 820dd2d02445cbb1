import t from 'tap';
import {
  createPlacementLab,
  maxUtilization,
  PLACEMENT_THRESHOLD,
  type LinkUse,
} from '../../src/lab/placement-lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { brokenConnections, movesSince, runPlacement } from '../helpers/placement.js';

requirePrerequisites({ root: true, commands: ['nsenter'] });

// Links declared at 20 Mbit/s: the decision is relative to capacity, and 20 Mbit/s of paced datagrams
// keeps a 2-CPU machine shared with other tests responsive (100 Mbit/s behaves alike, 5 × the packets).
const CAPACITY = 20e6;

const pct = (use: ReadonlyMap<string, LinkUse>) =>
  [...use].map(([n, u]) => `${n} ${Math.round(u.utilization * 100)}%`).join(', ');

t.test(
  'bandwidth placement: the hot node sheds a heavy flow-mode VIP, no dual answer, connections kept',
  async (t) => {
    const lab = await createPlacementLab('pl', { capacityBits: CAPACITY });
    t.teardown(() => lab.cluster.destroy());
    const run = await runPlacement(lab, { maxMs: 150_000, moveTimeoutMs: 90_000 });
    const { load } = run;
    const secs = (at: number | undefined) =>
      at === undefined ? '?' : ((at - run.loadStartedAt) / 1000).toFixed(1);

    t.equal(run.ownersBefore.get(load.heavy[0]), load.hot, `${load.heavy[0]} starts on its hash owner`);
    t.equal(run.ownersBefore.get(load.heavy[1]), load.hot, `${load.heavy[1]} starts on the same node`);
    t.ok(
      maxUtilization(run.before) > PLACEMENT_THRESHOLD,
      `before: busiest link above ${PLACEMENT_THRESHOLD * 100}% (${pct(run.before)})`,
    );
    t.ok(
      maxUtilization(run.after) < PLACEMENT_THRESHOLD,
      `after moving ${run.moved.ip} ${run.moved.from} → ${run.moved.to} ` +
        `(decided ${secs(run.decidedAt)} s, handed over ${secs(run.movedAt)} s after the load started): ` +
        `every link below ${PLACEMENT_THRESHOLD * 100}% (${pct(run.after)})`,
    );
    const moves = movesSince(run, lab);
    t.ok(
      moves.some((m) => m.ip === run.moved.ip && m.to === run.moved.to),
      `the coordinator logged the move with its reason: ${moves.map((m) => m.reason).join('; ')}`,
    );

    const conns = brokenConnections(run, run.movedAt);
    const arp = await run.watch.stop();
    for (const child of run.children) child.kill('SIGTERM');
    t.equal(arp.dualRounds, 0, `no VIP answered twice in ${arp.rounds} ARP rounds`);
    t.equal(conns.broken, 0, `none of the ${conns.total} flow-mode connections to the heavy VIPs broke`);
    t.equal(conns.stale, 0, 'every connection answered after the move');
    t.comment(`longest silence of any VIP: ${arp.longestSilentMs} ms`);
  },
);

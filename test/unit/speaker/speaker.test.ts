import t from 'tap';
import { waitFor } from '../../../src/util/wait.js';
import { HealthMonitor } from '../../../src/health/monitor.js';
import { StartupStages } from '../../../src/speaker/startup-stages.js';
import { FakeDatapath, parseModel, rig, sixServices } from './fakes.js';

// Six single-owner VIPs served on nodes a, b and c; enough that each node owns some.
const yaml = sixServices(['a', 'b', 'c']);
const model = parseModel(yaml);

/** Every VIP's datapath entry matches the decision: the owner answers, every other node suppresses. */
function agrees(r: ReturnType<typeof rig>): boolean {
  const decisions = r.speaker.decisions();
  return (
    decisions.length === 6 &&
    decisions.every((d) => r.datapath.action(d.ip) === (d.owner === r.speaker.node ? 'answer' : 'suppress'))
  );
}

t.test('with no seeds it decides at once and programs the datapath from the decisions', async (t) => {
  const r = rig('a', model);
  t.teardown(() => r.speaker.stop());
  r.speaker.start();
  await waitFor('first decisions', 2000, () => agrees(r));
  t.ok(r.speaker.isReady());
  t.same(
    r.speaker.decisions().map((d) => d.owner),
    r.speaker.decisions().map(() => 'a'),
    'alone, this node owns every VIP',
  );
  t.ok(r.frames.length > 0, 'takeovers announce');
  t.ok(r.bgp.updates.length > 0, 'BGP part sees the same VIP groups');
  t.equal(r.bgp.updates.at(-1)?.groups.length, 6);
  const me = r.membership.members().find((m) => m.name === 'a');
  t.ok(me && me.meta.length > 0, 'its metadata is gossiped');
});

t.test(
  'until a seed answers, adopted datapath state stays untouched; then it decides with the cluster',
  async (t) => {
    const adopted = new FakeDatapath();
    adopted.setVip('10.0.0.200', { action: 'answer', ifindex: 2, buckets: 0xffffffffffffffffn });
    adopted.writes = 0;
    const r = rig('a', model, { join: ['10.0.0.2:7946'], startupGraceMs: 5000 }, adopted);
    t.teardown(() => r.speaker.stop());
    let answering = false;
    r.membership.answer = () => (answering ? 1 : 0);
    r.speaker.start();
    await waitFor('two join attempts', 2000, () => r.membership.joins.length >= 2);
    t.notOk(r.speaker.isReady());
    t.equal(adopted.writes, 0, 'nothing written before the cluster view is known');
    t.equal(adopted.action('10.0.0.200'), 'answer');
    r.membership.set('b', 'alive');
    r.membership.set('c', 'alive');
    answering = true;
    await waitFor('decisions with a, b and c', 2000, () => agrees(r));
    const owners = new Set(r.speaker.decisions().map((d) => d.owner));
    t.same([...owners].sort(), ['a', 'b', 'c'], 'the VIPs spread over the three nodes');
    t.same(r.membership.joins[0], ['10.0.0.2:7946'], 'the seed, not this node itself');
  },
);

t.test(
  'no seed answering: decides alone after the grace, keeps joining, decides again on joining',
  async (t) => {
    const r = rig('a', model, { join: ['10.0.0.1:7946', '10.0.0.2:7946'], startupGraceMs: 100 });
    t.teardown(() => r.speaker.stop());
    r.speaker.start();
    await waitFor('ready after the grace', 2000, () => r.speaker.isReady());
    t.ok(
      r.logs.some((l) => l.msg.includes('no seed answered')),
      'says it decides alone',
    );
    t.ok(
      r.membership.joins.every((seeds) => !seeds.includes('10.0.0.1:7946')),
      'its own address is never a seed',
    );
    await waitFor('owns every VIP alone', 2000, () => agrees(r));
    const before = r.membership.joins.length;
    r.membership.answer = () => 1;
    await waitFor('another join attempt', 3000, () => r.membership.joins.length > before);
    await waitFor('joined log', 2000, () => r.logs.some((l) => l.msg.includes('joined the cluster')));
  },
);

t.test('an owner failing moves its VIPs here: datapath, announcements, events', async (t) => {
  const r = rig('a', model);
  t.teardown(() => r.speaker.stop());
  r.membership.set('b', 'alive');
  const takeovers: string[] = [];
  const changes: Array<{ ip: string; from?: string; to?: string }> = [];
  const announced = new Map<string, number>();
  r.speaker.on('takeover', ({ ip }) => takeovers.push(ip));
  r.speaker.on('owner', (c) =>
    changes.push({ ip: c.ip, ...(c.from ? { from: c.from } : {}), ...(c.to ? { to: c.to } : {}) }),
  );
  r.speaker.on('announced', ({ ip, frames }) => announced.set(ip, (announced.get(ip) ?? 0) + frames));
  r.speaker.start();
  await waitFor('decisions with a and b', 2000, () => agrees(r));
  const ofB = r.speaker
    .decisions()
    .filter((d) => d.owner === 'b')
    .map((d) => d.ip);
  t.ok(ofB.length > 0, 'b owns some VIPs');
  t.ok(
    ofB.every((ip) => r.datapath.action(ip) === 'suppress'),
    'which this node suppresses',
  );
  takeovers.length = 0;
  changes.length = 0;
  announced.clear();
  r.membership.set('b', 'dead');
  await waitFor(
    'a owns everything',
    2000,
    () => agrees(r) && r.speaker.decisions().every((d) => d.owner === 'a'),
  );
  t.same(takeovers.sort(), [...ofB].sort(), 'a takeover event per VIP of b');
  t.same(
    changes.sort((x, y) => (x.ip < y.ip ? -1 : 1)),
    [...ofB].sort().map((ip) => ({ ip, from: 'b', to: 'a' })),
    'owner changes from b to a, and only those',
  );
  await waitFor('burst sent', 2000, () => ofB.every((ip) => (announced.get(ip) ?? 0) > 0));
});

t.test('a suspect member still owns its VIPs (a suspicion is not a failure)', async (t) => {
  const r = rig('a', model);
  t.teardown(() => r.speaker.stop());
  r.membership.set('b', 'alive');
  r.speaker.start();
  await waitFor('decisions', 2000, () => agrees(r));
  const owners = r.speaker.decisions().map((d) => d.owner);
  r.membership.set('b', 'suspect');
  let rounds = 0;
  r.speaker.on('decisions', () => rounds++);
  r.membership.emit('update', r.membership.members()[0]!);
  await waitFor('another round', 2000, () => rounds > 0);
  t.same(
    r.speaker.decisions().map((d) => d.owner),
    owners,
  );
});

t.test('observers that throw do not break the control loop', async (t) => {
  const r = rig('a', model);
  t.teardown(() => r.speaker.stop());
  r.speaker.on('decisions', () => {
    throw new Error('broken observer');
  });
  r.speaker.on('owner', () => {
    throw new Error('broken observer');
  });
  r.membership.set('b', 'alive');
  r.speaker.start();
  await waitFor('decisions', 2000, () => agrees(r));
  r.membership.set('b', 'dead');
  await waitFor(
    'takeover despite observers',
    2000,
    () => r.speaker.decisions().every((d) => d.owner === 'a') && agrees(r),
  );
  t.ok(r.logs.some((l) => l.msg === 'a speaker event listener failed'));
});

t.test('a configuration change reallocates and decides again; a rejected one changes nothing', async (t) => {
  const r = rig('a', model);
  t.teardown(() => r.speaker.stop());
  const results: string[] = [];
  r.speaker.on('config', ({ result }) => results.push(result));
  r.speaker.start();
  await waitFor('decisions', 2000, () => agrees(r));
  const fewer = parseModel(yaml.split('\n---\napiVersion: v1\nkind: Service\nmetadata: { name: s6')[0] ?? '');
  r.source.replace(fewer);
  await waitFor('five VIPs', 2000, () => r.speaker.decisions().length === 5);
  t.equal(r.speaker.allocations().size, 5);
  await waitFor('the sixth VIP removed from the datapath', 2000, () => r.datapath.entries.size === 5);
  r.source.emit('rejected', [{ file: 'x', doc: 0, path: 'spec', message: 'bad' }]);
  t.ok(r.logs.some((l) => l.msg.includes('the last good one stays in force')));
  t.equal(r.speaker.decisions().length, 5);
  t.same(results, ['applied', 'rejected'], 'each reload reported for the metrics');
});

t.test('heartbeat runs while started; stop releases every part once', async (t) => {
  const r = rig('a', model, { heartbeatMs: 10 });
  r.speaker.start();
  await waitFor('heartbeats', 2000, () => r.datapath.heartbeats >= 3);
  t.throws(() => r.speaker.start(), /once/);
  await r.speaker.stop({ leave: true });
  await r.speaker.stop();
  const beats = r.datapath.heartbeats;
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(r.datapath.heartbeats, beats, 'no heartbeat after stop');
  t.ok(r.datapath.closed);
  t.ok(r.membership.left && r.membership.shut);
  t.ok(r.source.stopped);
  t.equal(r.bgp.stoppedGraceful, false, 'leaving closes BGP with a NOTIFICATION');
});

t.test('updateMeta gossips the new metadata', async (t) => {
  const r = rig('a', model);
  t.teardown(() => r.speaker.stop());
  r.speaker.start();
  const before = r.membership.members().find((m) => m.name === 'a')?.incarnation ?? 0;
  r.speaker.updateMeta({ labels: { zone: 'z1' } });
  const me = r.membership.members().find((m) => m.name === 'a');
  t.equal(me?.incarnation, before + 1);
  t.match(me?.meta.toString(), /"zone":"z1"/);
});

t.test(
  'seeds that are there but refuse this node (wrong key, name conflict): it answers nothing',
  async (t) => {
    for (const outcome of ['rejected', 'conflict'] as const) {
      const r = rig('a', model, { join: ['10.0.0.2:7946'], startupGraceMs: 100 });
      r.membership.refuse = outcome;
      t.teardown(() => r.speaker.stop());
      r.speaker.start();
      await waitFor('ready after the grace', 2000, () => r.speaker.isReady());
      await waitFor('decided', 2000, () => r.speaker.decisions().length === 6);
      t.ok(
        r.speaker.decisions().every((d) => d.owner === undefined || d.owner === null || d.owner === ''),
        `${outcome}: it owns no VIP`,
      );
      t.notOk(
        [...r.datapath.entries.values()].some((e) => e.action === 'answer'),
        `${outcome}: no answer entry`,
      );
      t.equal(r.frames.length, 0, `${outcome}: nothing announced`);
      t.ok(r.bgp.updates.at(-1)?.excluded, `${outcome}: BGP withdraws`);
      t.ok(
        r.logs.some((l) => l.msg.includes('answering no VIP')),
        `${outcome}: says why`,
      );
      // Once the seeds let it in (key fixed), it decides with the cluster.
      r.membership.refuse = undefined;
      r.membership.answer = () => 1;
      r.membership.set('b', 'alive');
      await waitFor(
        `${outcome}: owns its share`,
        2000,
        () => agrees(r) && r.speaker.decisions().some((d) => d.owner === 'a'),
      );
    }
  },
);

t.test(
  'seeds that take the connection but answer late (busy): nothing answered until one answers',
  async (t) => {
    const r = rig('a', model, { join: ['10.0.0.2:7946', '10.0.0.3:7946'], startupGraceMs: 100 });
    r.membership.outcome = () => ({ outcome: 'busy', afterMs: 20 });
    t.teardown(() => r.speaker.stop());
    r.speaker.start();
    await waitFor('ready after the grace', 2000, () => r.speaker.isReady());
    await waitFor('decided', 2000, () => r.speaker.decisions().length === 6);
    t.notOk(
      [...r.datapath.entries.values()].some((e) => e.action === 'answer'),
      'no answer entry while the seeds are busy',
    );
    t.ok(
      r.logs.some((l) => l.msg.includes('busy or starting')),
      'says why',
    );
    t.notOk(
      r.logs.some((l) => l.msg.includes('seed refused') || l.msg.includes('no seed answered')),
      'neither refused nor alone',
    );
    r.membership.outcome = () => ({ outcome: 'joined' });
    r.membership.set('b', 'alive');
    await waitFor(
      'owns its share',
      3000,
      () => agrees(r) && r.speaker.decisions().some((d) => d.owner === 'a'),
    );
  },
);

t.test('a refusal that arrives after another seed let this node in does not silence it', async (t) => {
  const r = rig('a', model, { join: ['10.0.0.2:7946', '10.0.0.3:7946'], startupGraceMs: 1000 });
  r.membership.outcome = (seed) =>
    seed === '10.0.0.2:7946' ? { outcome: 'joined' } : { outcome: 'rejected', afterMs: 100 };
  r.membership.set('b', 'alive');
  t.teardown(() => r.speaker.stop());
  r.speaker.start();
  await waitFor(
    'decided with b',
    2000,
    () => agrees(r) && r.speaker.decisions().some((d) => d.owner === 'a'),
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.ok(agrees(r) && r.speaker.decisions().some((d) => d.owner === 'a'), 'still answers its share');
  t.notOk(
    r.logs.some((l) => l.msg.includes('answering no VIP')),
    'never went silent',
  );
});

t.test('health checks: verdicts and probes reach observers, a failing check is gossiped', async (t) => {
  const checked = parseModel(
    yaml.replace(
      'metadata: { name: s1, namespace: default }',
      "metadata: { name: s1, namespace: default, annotations: { herald.dev/health-check: 'tcp:80' } }",
    ),
  );
  const health = new HealthMonitor({
    node: 'a',
    prober: async () => ({ ok: false, detail: 'connect refused' }),
  });
  const r = rig('a', checked, {}, new FakeDatapath(), { health });
  t.teardown(() => r.speaker.stop());
  const probes: Array<{ service: string; ok: boolean }> = [];
  r.speaker.on('probe', ({ service, ok }) => probes.push({ service, ok }));
  r.speaker.start();
  await waitFor('a probe', 2000, () => probes.length > 0);
  t.same(probes[0], { service: 'default/s1', ok: false });
  await waitFor('the verdict', 2000, () => r.speaker.healthVerdicts().get('default/s1') === false);
  await waitFor('the failing check in gossip', 2000, () =>
    /connect refused/.test(
      r.membership
        .members()
        .find((m) => m.name === 'a')
        ?.meta.toString() ?? '',
    ),
  );
  t.same([...r.speaker.healthVerdicts().keys()], ['default/s1'], 'only checked services have a verdict');
});

t.test('an address added to an attached interface at run time is gossiped', async (t) => {
  let cidrs = ['10.0.0.1/24'];
  let fail = false;
  const rescanInterfaces = () => {
    if (fail) throw new Error('interface went away');
    return [{ name: 'eth0', cidrs }];
  };
  const r = rig('a', model, { resyncMs: 20 }, new FakeDatapath(), { rescanInterfaces });
  t.teardown(() => r.speaker.stop());
  r.speaker.start();
  const gossiped = () =>
    r.membership
      .members()
      .find((m) => m.name === 'a')
      ?.meta.toString() ?? '';
  await waitFor('first metadata', 2000, () => gossiped().includes('10.0.0.1/24'));
  const before = r.membership.members().find((m) => m.name === 'a')?.incarnation ?? 0;
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(
    r.membership.members().find((m) => m.name === 'a')?.incarnation,
    before,
    'unchanged addresses gossip nothing new',
  );
  cidrs = ['10.0.0.1/24', '192.168.7.1/24'];
  await waitFor('the new address in gossip', 2000, () => gossiped().includes('192.168.7.1/24'));
  fail = true;
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.match(gossiped(), '192.168.7.1/24', 'a failed rescan keeps the known addresses');
  t.ok(
    r.logs.some((l) => l.msg === 'interface addresses changed'),
    'and it is logged',
  );
});

t.test('the start-up stages are logged once, when the gate first opens', async (t) => {
  const stages = new StartupStages();
  stages.reached('attached');
  const r = rig('a', model, {}, new FakeDatapath(), { stages });
  t.teardown(() => r.speaker.stop());
  r.speaker.start();
  await waitFor('first decisions', 2000, () => agrees(r));
  const logged = () => r.logs.filter((l) => l.msg === 'start-up stages');
  t.equal(logged().length, 0, 'not before the gate opens');
  r.watch.emit('refreshed', { afterMs: 70, reason: 'start', gaveUpOn: [] });
  r.watch.emit('refreshed', { afterMs: 70, reason: 'stall', gaveUpOn: [] });
  t.equal(logged().length, 1);
  const line = logged()[0] as unknown as { msSinceProcessStart: Record<string, number> };
  t.same(Object.keys(line.msSinceProcessStart), ['attached', 'joined', 'decided', 'gate']);
});

t.test('the link monitor (an ip process) starts when the gate first opens, with one rescan', async (t) => {
  let monitors = 0;
  let stopped = 0;
  let rescans = 0;
  let onChange: (() => void) | undefined;
  const r = rig('a', model, { resyncMs: 600_000 }, new FakeDatapath(), {
    rescanInterfaces: () => {
      rescans++;
      return [{ name: 'eth0', cidrs: ['10.0.0.1/24'] }];
    },
    watchLinks: (change) => {
      monitors++;
      onChange = change;
      return () => stopped++;
    },
  });
  const opened: string[] = [];
  r.speaker.on('gateOpened', ({ reason }) => opened.push(reason));
  r.speaker.start();
  await waitFor('first decisions', 2000, () => agrees(r));
  t.equal(monitors, 0, 'not on the way to the first open gate');
  t.equal(rescans, 0);
  r.watch.emit('refreshed', { afterMs: 70, reason: 'start', gaveUpOn: [] });
  t.equal(monitors, 1, 'started at the first open gate');
  t.equal(rescans, 1, 'with a rescan for what changed since the start');
  onChange?.();
  t.equal(rescans, 2, 'a change it reports is followed');
  r.watch.emit('refreshed', { afterMs: 70, reason: 'stall', gaveUpOn: [] });
  t.equal(monitors, 1, 'once');
  t.same(opened, ['start'], 'gateOpened once');
  await r.speaker.stop();
  t.equal(stopped, 1, 'stopped with the speaker');
});

import t from 'tap';
import { HeraldController } from '../../src/k8s/controller.js';
import { leaseExpired, microTime } from '../../src/k8s/leader.js';
import { desiredServiceStatus, serviceEvent, serviceStatusUpdate } from '../../src/k8s/service-status.js';
import { createLogger } from '../../src/util/log.js';
import { TestApiServer } from './apiserver/server.js';
import { eventsFor, HERALD_NS, ingressOf, installHerald, lbService, pool } from './helpers/cluster.js';
import { eventually, kubeConfigFor } from './helpers/kube.js';

const log = createLogger('test-controller', process.env.HERALD_LOG_LEVEL ?? 'silent');

async function setup(
  t: { teardown(fn: () => Promise<void>): void },
  opts: { leaderElection?: boolean } = {},
) {
  const server = await TestApiServer.start({ bookmarkIntervalMs: 200 });
  const controllers: HeraldController[] = [];
  t.teardown(async () => {
    for (const c of controllers) await c.stop();
    await server.stop();
  });
  installHerald(server);
  const start = async (identity: string): Promise<HeraldController> => {
    const c = new HeraldController({
      kubeConfig: kubeConfigFor(server),
      namespace: HERALD_NS,
      identity,
      log,
      retryMs: 50,
      leaderElection: opts.leaderElection
        ? { leaseDurationSeconds: 1, renewDeadlineMs: 600, retryPeriodMs: 100 }
        : false,
    });
    controllers.push(c);
    await c.start();
    return c;
  };
  return { server, start, controllers };
}

t.test('allocation, requested IPs, sharing, class filter, events only on change', async (t) => {
  const { server, start } = await setup(t);
  server.createObject(pool('main', ['10.0.0.0/30'], { avoidBuggyIPs: true }));
  server.createObject(pool('reserved', ['10.1.0.10-10.1.0.12'], { autoAssign: false }));
  server.createObject(lbService('a'));
  await start('c1');
  await eventually('a allocated', () => ingressOf(server, 'a')[0] === '10.0.0.1');
  const a = server.get('v1', 'Service', 'a', 'default')!;
  const st = a.status as {
    loadBalancer: { ingress: Array<{ ipMode?: string }> };
    conditions: Array<{ type: string; status: string }>;
  };
  t.equal(st.loadBalancer.ingress[0]!.ipMode, 'VIP', 'ipMode VIP');
  t.same(
    st.conditions.map((c) => [c.type, c.status]),
    [['herald.dev/AddressAllocated', 'True']],
  );

  server.createObject(lbService('req', { annotations: { 'herald.dev/loadBalancerIPs': '10.1.0.11' } }));
  server.createObject(
    lbService('bypool', { annotations: { 'metallb.universe.tf/address-pool': 'reserved' } }),
  );
  server.createObject(lbService('other-class', { spec: { loadBalancerClass: 'example.com/other' } }));
  server.createObject(lbService('ours-class', { spec: { loadBalancerClass: 'herald.dev/lb' } }));
  server.createObject(lbService('clusterip', { spec: { type: 'ClusterIP' } }));
  server.createObject(
    lbService('share1', {
      annotations: { 'herald.dev/allow-shared-ip': 'k' },
      spec: { ports: [{ port: 443, protocol: 'TCP' }] },
    }),
  );
  server.createObject(
    lbService('share2', {
      annotations: { 'herald.dev/allow-shared-ip': 'k' },
      spec: { ports: [{ port: 53, protocol: 'UDP' }] },
    }),
  );
  await eventually('requested IP honoured', () => ingressOf(server, 'req')[0] === '10.1.0.11');
  await eventually('pool by annotation', () => ingressOf(server, 'bypool')[0] === '10.1.0.10');
  await eventually('class herald.dev/lb handled', () => ingressOf(server, 'ours-class').length === 1);
  await eventually(
    'shared',
    () => ingressOf(server, 'share1').length === 1 && ingressOf(server, 'share2').length === 1,
  );
  t.same(
    ingressOf(server, 'share1'),
    ingressOf(server, 'share2'),
    'services with the same sharing key share one IP',
  );
  t.same(ingressOf(server, 'other-class'), [], 'other loadBalancerClass ignored');
  t.same(ingressOf(server, 'clusterip'), [], 'ClusterIP ignored');

  // The pool is now full: the next one fails with a Warning event and a False condition.
  server.createObject(lbService('full'));
  await eventually('failure condition', () =>
    eventsFor(server, 'full').some((e) => e.reason === 'AllocationFailed'),
  );
  const full = server.get('v1', 'Service', 'full', 'default')!;
  t.match(JSON.stringify(full.status), /no free IPv4 address/);

  // No event spam: unrelated updates cause no writes and no events.
  const before = server.list('v1', 'Event').length;
  for (let i = 0; i < 5; i++)
    server.patchObject('v1', 'Service', 'a', 'default', { metadata: { labels: { touch: String(i) } } });
  await new Promise((r) => setTimeout(r, 300));
  t.equal(server.list('v1', 'Event').length, before, 'no events for updates that change nothing');
  t.same(
    eventsFor(server, 'a').map((e) => e.reason),
    ['AddressAllocated'],
    'one event for a',
  );

  // Deleting a service frees its address; retyping another frees its address and clears its status.
  server.deleteObjectNamed('v1', 'Service', 'a', 'default');
  await eventually(
    'freed address goes to the waiting service',
    () => ingressOf(server, 'full')[0] === '10.0.0.1',
  );
  const ourClassIp = ingressOf(server, 'ours-class')[0];
  server.patchObject('v1', 'Service', 'ours-class', 'default', { spec: { type: 'ClusterIP' } });
  await eventually('retyped service status cleared', () => ingressOf(server, 'ours-class').length === 0);
  t.match(
    JSON.stringify(server.get('v1', 'Service', 'ours-class', 'default')!.status),
    /^((?!AddressAllocated).)*$/,
    'our condition removed',
  );
  server.createObject(lbService('late'));
  await eventually('retyped service address reused', () => ingressOf(server, 'late')[0] === ourClassIp);

  // Pool status shows usage.
  await eventually('pool status', () => {
    const p = server.get('herald.dev/v1beta1', 'IPAddressPool', 'main', HERALD_NS);
    return (p?.status as { assignedIPv4?: number } | undefined)?.assignedIPv4 === 3;
  });
});

t.test('pool changes: new pool serves waiting services; shrink moves services out', async (t) => {
  const { server, start } = await setup(t);
  server.createObject(lbService('x'));
  await start('c1');
  await eventually('no pool → failure condition', () =>
    JSON.stringify(server.get('v1', 'Service', 'x', 'default')?.status).includes('no IPAddressPool'),
  );
  server.createObject(pool('p1', ['192.168.5.0/24']));
  await eventually('allocated after the pool appears', () => ingressOf(server, 'x')[0] === '192.168.5.0');
  server.patchObject('herald.dev/v1beta1', 'IPAddressPool', 'p1', HERALD_NS, {
    spec: { addresses: ['192.168.6.0/24'] },
  });
  await eventually('moved into the changed pool', () => ingressOf(server, 'x')[0] === '192.168.6.0');
  const bad = await fetch(`${server.url}/apis/herald.dev/v1beta1/namespaces/${HERALD_NS}/ipaddresspools`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(pool('bad', [])),
  });
  t.equal(bad.status, 422, 'the CRD schema (from the zod definitions) rejects a pool without addresses');
});

t.test('restart, API-server restart with compaction, no double allocation', async (t) => {
  const { server, start } = await setup(t);
  server.createObject(pool('p', ['10.9.0.0/28']));
  for (let i = 0; i < 5; i++) server.createObject(lbService(`s${i}`));
  const c1 = await start('c1');
  await eventually('first five allocated', () =>
    [0, 1, 2, 3, 4].every((i) => ingressOf(server, `s${i}`).length === 1),
  );
  const before = new Map([0, 1, 2, 3, 4].map((i) => [`s${i}`, ingressOf(server, `s${i}`)[0]]));
  const eventsBefore = server.list('v1', 'Event').length;

  // API server goes away; while it is down history is compacted and objects change behind the watch.
  await server.stop();
  server.deleteObjectNamed('v1', 'Service', 's0', 'default');
  server.createObject(lbService('s5'));
  server.createObject(lbService('s6'));
  server.compact();
  await new Promise((r) => setTimeout(r, 300));
  await server.restart();
  await eventually(
    'new services allocated after relist',
    () => ingressOf(server, 's5').length === 1 && ingressOf(server, 's6').length === 1,
    8000,
  );
  for (const i of [1, 2, 3, 4])
    t.equal(ingressOf(server, `s${i}`)[0], before.get(`s${i}`), `s${i} kept its address`);
  const all = [1, 2, 3, 4, 5, 6].map((i) => ingressOf(server, `s${i}`)[0]);
  t.equal(new Set(all).size, all.length, 'no address given twice');
  t.same(c1.allocations().has('default/s0'), false, 'the deleted service was released');

  // A brand-new controller (process restart) re-claims from status: nothing moves, no new events.
  await c1.stop();
  await eventually('c1 events for s5 and s6', () => server.list('v1', 'Event').length >= eventsBefore + 2);
  const c2 = await start('c2');
  await eventually('c2 reconciled', () => c2.allocations().size === 6);
  await new Promise((r) => setTimeout(r, 200));
  for (const i of [1, 2, 3, 4, 5, 6])
    t.equal(ingressOf(server, `s${i}`)[0], all[i - 1], `s${i} unchanged after controller restart`);
  t.same(
    server.list('v1', 'Event').filter((e) => e.reportingInstance === 'c2'),
    [],
    'controller restart records no events',
  );
});

t.test('two replicas with Lease leader election', async (t) => {
  const { server, start } = await setup(t, { leaderElection: true });
  server.createObject(pool('p', ['10.7.0.0/29']));
  for (let i = 0; i < 3; i++) server.createObject(lbService(`s${i}`));
  const [c1, c2] = await Promise.all([start('r1'), start('r2')]);
  await eventually('one leader', () => c1.isLeader !== c2.isLeader);
  await eventually('allocated', () => [0, 1, 2].every((i) => ingressOf(server, `s${i}`).length === 1));
  const leader = c1.isLeader ? c1 : c2;
  const standby = leader === c1 ? c2 : c1;
  t.equal(standby.allocations().size, 0, 'the standby allocates nothing');
  const lease = server.get('coordination.k8s.io/v1', 'Lease', 'herald-controller', HERALD_NS)!;
  t.equal((lease.spec as { holderIdentity: string }).holderIdentity, leader.identity);
  t.match((lease.spec as { renewTime: string }).renewTime, /\.\d{6}Z$/, 'MicroTime with microseconds');
  const before = [0, 1, 2].map((i) => ingressOf(server, `s${i}`)[0]);
  await leader.stop();
  await eventually('standby takes over', () => standby.isLeader, 4000);
  server.createObject(lbService('s3'));
  await eventually('new leader allocates', () => ingressOf(server, 's3').length === 1);
  t.same(
    [0, 1, 2].map((i) => ingressOf(server, `s${i}`)[0]),
    before,
    'takeover moves nothing',
  );
  t.notOk(before.includes(ingressOf(server, 's3')[0]), 'takeover does not double-allocate');
});

t.test('pure status and lease decisions', async (t) => {
  const now = new Date('2026-01-01T00:00:00Z');
  const ok = desiredServiceStatus({ ips: ['10.0.0.1'], pool: 'p' });
  const first = serviceStatusUpdate(undefined, ok, now)!;
  t.same(first.loadBalancer, { ingress: [{ ip: '10.0.0.1', ipMode: 'VIP' }] });
  t.equal(first.conditions![0]!.lastTransitionTime, '2026-01-01T00:00:00Z');
  t.equal(
    serviceStatusUpdate(first, ok, new Date()),
    undefined,
    'nothing to write when status already says it',
  );
  t.same(serviceEvent(undefined, ok)?.reason, 'AddressAllocated');
  t.equal(serviceEvent(first, ok), undefined, 'no event without a change');
  const other = { type: 'example.com/Ready', status: 'True' as const, reason: 'X', message: 'y' };
  const withOther = { ...first, conditions: [other, ...first.conditions!] };
  const failed = desiredServiceStatus({ error: 'pool "p" has no free IPv4 address' });
  const upd = serviceStatusUpdate(withOther, failed, new Date('2026-01-02T00:00:00Z'))!;
  t.same(upd.loadBalancer, {}, 'failure clears the ingress');
  t.same(upd.conditions![0], other, "other controllers' conditions are kept");
  t.equal(
    upd.conditions![1]!.lastTransitionTime,
    '2026-01-02T00:00:00Z',
    'status flip moves the transition time',
  );
  t.equal(serviceEvent(withOther, failed)?.type, 'Warning');
  t.equal(serviceEvent(upd, failed), undefined, 'the same failure again records nothing');
  t.same(
    serviceStatusUpdate(first, undefined, now),
    { loadBalancer: {}, conditions: [] },
    'release clears ours',
  );
  t.equal(serviceStatusUpdate({}, undefined, now), undefined);

  t.ok(leaseExpired({}, Date.now()), 'no holder: free');
  t.notOk(leaseExpired({ holderIdentity: 'a', renewTime: new Date(), leaseDurationSeconds: 15 }, Date.now()));
  t.ok(
    leaseExpired(
      { holderIdentity: 'a', renewTime: new Date(Date.now() - 16_000), leaseDurationSeconds: 15 },
      Date.now(),
    ),
  );
  t.equal(microTime(new Date('2026-01-01T00:00:00.123Z')), '2026-01-01T00:00:00.123000Z');
});

t.test('a crashed leader (lease not released) is replaced after the lease expires', async (t) => {
  const { server, start } = await setup(t, { leaderElection: true });
  const now = new Date();
  server.createObject({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'herald-controller', namespace: HERALD_NS },
    spec: {
      holderIdentity: 'ghost',
      leaseDurationSeconds: 1,
      renewTime: microTime(now),
      acquireTime: microTime(now),
      leaseTransitions: 3,
    },
  });
  server.createObject(pool('p', ['10.8.0.0/30']));
  server.createObject(lbService('s'));
  const c = await start('r1');
  // Judged on the lease's own times, not after a sleep: on a loaded host starting the controller alone
  // may take longer than the old lease's second.
  let early = false;
  await eventually(
    'takes over after expiry',
    () => {
      if (!c.isLeader && ingressOf(server, 's').length > 0) early = true;
      return c.isLeader;
    },
    30_000,
  );
  t.notOk(early, 'allocates nothing while the old lease is valid');
  const lease = server.get('coordination.k8s.io/v1', 'Lease', 'herald-controller', HERALD_NS)!;
  t.match(lease.spec, { holderIdentity: 'r1', leaseTransitions: 4 });
  const acquired = Date.parse(String((lease.spec as { acquireTime?: unknown }).acquireTime));
  t.ok(
    acquired > now.getTime() + 1000,
    `acquired ${acquired - now.getTime()} ms after the old renewal (1 s lease)`,
  );
  await eventually('then allocates', () => ingressOf(server, 's').length === 1);
});

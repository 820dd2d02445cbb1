import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { StatusClient } from '../../../src/api/client.js';
import { formatTop, formatVips, ownerCell, trafficShares } from '../../../src/api/format.js';
import { startStatusServer } from '../../../src/api/server.js';
import {
  type BgpSessionStatus,
  type MemberStatus,
  type StatusEvent,
  StatusEvents,
  type StatusSource,
  type VipStatus,
} from '../../../src/api/source.js';
import { projectRoot } from '../../../src/util/paths.js';
import { requirePrerequisites } from '../../helpers/prereq.js';
import { selfSignedCert } from '../metrics/tls-fixture.js';

requirePrerequisites({ commands: ['openssl'] });

const execFileAsync = promisify(execFile);
t.setTimeout(60_000);

const vips: VipStatus[] = [
  {
    ip: '192.0.2.10',
    services: ['default/web', 'default/web-udp'],
    mode: 'l2',
    owner: 'node-b',
    reason: 'rendezvous winner among 3 eligible nodes',
    rxBitsPerSecond: 1.5e9,
    rxPacketsPerSecond: 125_000,
    utilization: 0.15,
    local: false,
    pool: 'default',
    interfaces: ['eth0'],
  },
  {
    ip: '2001:db8::10',
    services: ['shop/api'],
    mode: 'l2',
    owner: '',
    shares: [
      { node: 'node-a', buckets: 32, slots: 0 },
      { node: 'node-b', buckets: 32, slots: 0 },
    ],
    reason: 'spread over 2 nodes',
    rxBitsPerSecond: 0,
    rxPacketsPerSecond: 0,
    local: true,
  },
  {
    ip: '192.0.2.30',
    services: ['shop/web'],
    mode: 'flows',
    owner: 'node-a',
    shares: [
      { node: 'node-a', buckets: 0, slots: 1400 },
      { node: 'node-b', buckets: 0, slots: 2696 },
    ],
    reason: 'flows spread over 2 nodes',
    rxBitsPerSecond: 0,
    rxPacketsPerSecond: 0,
    local: true,
  },
];
const members: MemberStatus[] = [
  { name: 'node-a', address: '10.0.0.1', port: 7946, state: 'alive', incarnation: 3 },
  { name: 'node-b', address: 'fd00::2', port: 7946, state: 'suspect', incarnation: 9 },
];
const sessions: BgpSessionStatus[] = [
  {
    peer: '10.250.0.1',
    peerAsn: 64512,
    localAsn: 64513,
    state: 'established',
    bfdState: 'up',
    uptimeSeconds: 3725,
    prefixesAnnounced: 2,
    updatesSent: 5,
    updatesReceived: 1,
  },
];

/** What a full VipStatus looks like after the wire (optional fields filled with defaults). */
const wireVips = vips.map((v) => ({
  utilization: 0,
  pool: '',
  interfaces: [],
  ...v,
  shares: (v.shares ?? []).map((s) => ({ slots: 0, steeredPackets: 0, steeredBytes: 0, ...s })),
}));

/** Polls `done` every 10 ms for up to 5 s. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

function fakeSource(): StatusSource & { fail: boolean } {
  const source = {
    fail: false,
    events: new StatusEvents(),
    node: () => 'node-a',
    vips: async () => {
      if (source.fail) throw new Error('allocator state not loaded yet');
      return vips;
    },
    traffic: () => ({
      nodeUtilization: 0.42,
      clusterConcentration: 2.5,
      busiestNode: 'node-b',
      transmitErrors: [{ interface: 'eth0', action: 'tx', frames: 7 }],
    }),
    members: () => members,
    bgpSessions: () => sessions,
  };
  return source;
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'hrl-h7-api-'));
  const socketPath = join(dir, 'run', 'speaker.sock');
  const source = fakeSource();
  const server = await startStatusServer(source, { socketPath });
  const client = new StatusClient({ socketPath });
  t.teardown(async () => {
    client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, socketPath, source, server, client };
}

t.test('lists VIPs, members and BGP sessions over the unix socket', async (t) => {
  const { client } = await setup(t);
  const list = await client.listVips();
  t.equal(list.node, 'node-a');
  t.same(list.vips, wireVips);
  t.equal(list.nodeUtilization, 0.42);
  t.equal(list.busiestNode, 'node-b');
  t.same(list.transmitErrors, [{ interface: 'eth0', action: 'tx', frames: 7 }], 'transmit errors carried');
  t.same(await client.listMembers(), { node: 'node-a', members });
  t.same(await client.listBgpSessions(), { node: 'node-a', sessions });
});

t.test('a failing source is an error for the caller, not for the server', async (t) => {
  const { client, source } = await setup(t);
  source.fail = true;
  await t.rejects(client.listVips(), /ListVips: allocator state not loaded yet/);
  source.fail = false;
  t.equal((await client.listVips()).vips.length, vips.length, 'still serving');
});

t.test('Watch streams an owner change (and honors the kind filter)', async (t) => {
  const { client, source } = await setup(t);
  const got: StatusEvent[] = [];
  const watch = client.watch((e) => got.push(e), { kinds: ['owner'] });
  await watch.ready;
  t.equal(source.events.listenerCount(), 1);
  source.events.publish({ kind: 'member', subject: 'node-c', previous: 'alive', current: 'dead' });
  const ownerChange: StatusEvent = {
    kind: 'owner',
    subject: '192.0.2.10',
    previous: 'node-b',
    current: 'node-a',
    reason: 'node-b dead',
    atUnixMs: 1_700_000_000_123,
  };
  source.events.publish({ ...ownerChange });
  await until(() => got.length >= 1);
  t.same(got, [ownerChange], 'only the owner event, every field intact');
  watch.cancel();
  await until(() => source.events.listenerCount() === 0);
  t.equal(source.events.listenerCount(), 0, 'cancel unsubscribes on the server');
  const ended = new Promise<Error | undefined>((resolve) =>
    client.watch(() => undefined, { kinds: ['bogus' as 'owner'], onEnd: resolve }),
  );
  t.match(String(await ended), /unknown event kinds: bogus/);
});

t.test('closing with a Watch stream open ends the stream and resolves', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hrl-h7-api-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'speaker.sock');
  const server = await startStatusServer(fakeSource(), { socketPath });
  const client = new StatusClient({ socketPath });
  t.teardown(() => client.close());
  const ended = new Promise<Error | undefined>((resolve) => {
    const watch = client.watch(() => undefined, { onEnd: resolve });
    void watch.ready.then(() => server.close());
  });
  await ended;
  t.pass('the stream ended with the server');
  t.throws(() => statSync(socketPath), /ENOENT/, 'socket file removed');
});

t.test(
  'a stale socket file is replaced, a live one refused; a non-socket file is refused; mode set',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'hrl-h7-api-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const socketPath = join(dir, 'speaker.sock');
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(socketPath, r));
    await new Promise<void>((r) => {
      // close without unlinking: what a killed speaker leaves behind
      stale.close(() => r());
    });
    writeFileSync(join(dir, 'plain'), 'x');
    const server = await startStatusServer(fakeSource(), { socketPath });
    const client = new StatusClient({ socketPath });
    t.equal((await client.listMembers()).members.length, 2);
    t.equal(statSync(socketPath).mode & 0o777, 0o660, 'mode 0660 whatever the umask');
    await t.rejects(
      startStatusServer(fakeSource(), { socketPath }),
      /served by a running process/,
      'a second server never steals a live socket',
    );
    t.equal((await client.listMembers()).members.length, 2, 'the first one still serves');
    client.close();
    await server.close();
    const open = await startStatusServer(fakeSource(), { socketPath, socketMode: 0o600 });
    t.equal(statSync(socketPath).mode & 0o777, 0o600, 'explicit mode');
    await open.close();
    await t.rejects(startStatusServer(fakeSource(), { socketPath, socketMode: 0o1777 }), /permission bits/);
    await t.rejects(startStatusServer(fakeSource(), { socketPath: join(dir, 'plain') }), /not a socket/);
    await t.rejects(
      startStatusServer(fakeSource(), { socketPath: join(dir, 's2.sock'), tcp: { address: '0.0.0.0:0' } }),
      /requires TLS/,
    );
  },
);

t.test('TCP with TLS', async (t) => {
  const { certFile, keyFile, remove } = selfSignedCert();
  t.teardown(remove);
  const server = await startStatusServer(fakeSource(), {
    socketPath: join(dirname(certFile), 'speaker.sock'),
    tcp: { address: '127.0.0.1:0', tls: { certFile, keyFile } },
  });
  t.teardown(() => server.close());
  t.ok(server.tcpPort! > 0);
  const client = new StatusClient({ tcp: { address: `127.0.0.1:${server.tcpPort}`, caFile: certFile } });
  t.teardown(() => client.close());
  t.equal((await client.listVips()).vips.length, vips.length);
  const untrusted = new StatusClient({ tcp: { address: `127.0.0.1:${server.tcpPort}` }, timeoutMs: 2000 });
  await t.rejects(untrusted.listVips(), /ListVips/);
  untrusted.close();
});

t.test('CLI: herald status --json and herald top --once match the API', async (t) => {
  const { socketPath } = await setup(t);
  const cli = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
  const herald = async (...args: string[]) => (await execFileAsync('node', [cli, ...args])).stdout;
  // The CLI runs are independent: start them together (each is a Node start-up).
  const [jsonOut, membersOut, text, top, topJsonOut, missing] = await Promise.all([
    herald('status', '--json', '--socket', socketPath),
    herald('status', 'members', '--json', '--socket', socketPath),
    herald('status', '--socket', socketPath),
    herald('top', '--once', '--socket', socketPath),
    herald('top', '--once', '--json', '--socket', socketPath),
    herald('status', '--socket', join(tmpdir(), 'hrl-h7-none.sock')).catch(
      (e: { code: number; stderr: string }) => e,
    ),
  ]);
  t.same(JSON.parse(jsonOut), {
    node: 'node-a',
    nodeUtilization: 0.42,
    clusterConcentration: 2.5,
    busiestNode: 'node-b',
    transmitErrors: [{ interface: 'eth0', action: 'tx', frames: 7 }],
    vips: wireVips,
    members,
    bgpSessions: sessions,
  });
  t.same(JSON.parse(membersOut), { node: 'node-a', members });
  t.match(text, /^VIP\s+SERVICES\s+MODE\s+OWNER/m);
  t.match(text, /^XDP transmit errors \(frames the kernel dropped after the verdict.*\): eth0 tx 7$/m);
  t.match(
    text,
    /192\.0\.2\.10\s+default\/web,default\/web-udp\s+l2\s+node-b\s+no\s+1\.50 Gb\/s\s+15%\s+rendezvous winner/,
  );
  t.match(text, /2001:db8::10 .*node-a:32\/64 node-b:32\/64/);
  t.match(text, /node-b\s+\[fd00::2\]:7946\s+suspect\s+9/);
  t.match(text, /10\.250\.0\.1\s+64512\s+established\s+up\s+1h2m\s+2\s+5\/1/);
  t.match(top, /^herald top - node node-a .* 3 VIPs, 1\.50 Gb\/s/);
  t.ok(top.indexOf('192.0.2.10') < top.indexOf('2001:db8::10'), 'busiest first');
  t.same(JSON.parse(topJsonOut).vips, wireVips);
  t.equal((missing as { code: number }).code, 1, 'exit 1 when no speaker answers');
  t.match(
    (missing as { stderr: string }).stderr,
    /no speaker at .*hrl-h7-none\.sock \(is it running\? --socket\)/,
  );
});

t.test('formatting helpers', async (t) => {
  t.equal(ownerCell({ owner: '', shares: [], mode: 'l2' }), '-');
  t.equal(
    ownerCell({
      owner: 'a',
      shares: [
        { node: 'a', buckets: 0, slots: 1365 },
        { node: 'b', buckets: 0, slots: 2731 },
      ],
      mode: 'flows',
    }),
    'a flows a:33% b:67%',
    "flow mode: the owner, then each node's share of the slots",
  );
  const steered = (a: number, b: number) => ({
    owner: 'a',
    shares: [
      { node: 'a', buckets: 0, slots: 2048, steeredBytes: a },
      { node: 'b', buckets: 0, slots: 2048, steeredBytes: b },
    ],
    mode: 'flows' as const,
  });
  t.equal(
    ownerCell(steered(1000, 3000)),
    'a flows a:50% b:50%, traffic a:25% b:75%',
    'the owner counted the steered bytes: shares of the traffic since its entry',
  );
  t.equal(
    trafficShares(steered(1500, 3500), steered(1000, 3000)),
    'a:50% b:50%',
    'with the previous frame (herald top): shares of the interval',
  );
  t.equal(trafficShares(steered(0, 0)), undefined, 'nothing counted (not the owner): no traffic shares');
  t.equal(
    ownerCell({
      owner: '',
      shares: [
        { node: 'a', buckets: 0 },
        { node: 'b', buckets: 0 },
      ],
      mode: 'bgp',
    }),
    'a b',
  );
  const list = { node: 'n', nodeUtilization: 0, clusterConcentration: 0, busiestNode: '', vips: [] };
  t.match(formatVips(list), /^node n: LB utilization 0\.0%, cluster concentration 0\.00\nVIP/);
  t.match(
    formatVips({ ...list, transmitErrors: [{ interface: 'eth0', action: 'tx', frames: 0 }] }),
    /^node n: [^\n]*\nVIP/,
    'zero transmit errors: no line',
  );
  t.match(
    formatVips({
      ...list,
      transmitErrors: [
        { interface: 'eth0', action: 'tx', frames: 3 },
        { interface: 'eth1', action: 'aborted', frames: 1 },
      ],
    }),
    /^node n: [^\n]*\nXDP transmit errors [^\n]*: eth0 tx 3, eth1 aborted 1\nVIP/,
  );
  t.match(formatTop(list, 10, new Date(0)), /0 VIPs, 0 b\/s/);
});

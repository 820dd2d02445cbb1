import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { LabCluster } from '../../src/lab/cluster.js';
import { labAllocations, labConfig } from '../../src/lab/scenario.js';
import { namespacePrefix } from '../../src/lab/netns.js';
import { projectRoot } from '../../src/util/paths.js';
import { answering } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { arping, interfaceMacIn, waitUntil } from '../helpers/probes.js';
import { TestApiServer } from './apiserver/server.js';
import { HERALD_NS, ingressOf, installHerald, lbService, pool } from './helpers/cluster.js';

requirePrerequisites({
  root: true,
  commands: ['podman', 'buildah', 'runc', 'debootstrap', 'arping', 'nsenter'],
});

// The first build on a fresh machine makes the local bases and compiles everything inside the build
// stage (minutes); later runs reuse podman's layer cache.
t.setTimeout(30 * 60_000);

const execFileAsync = promisify(execFile);
const IMAGE = 'localhost/herald:test';
const containersConf = join(projectRoot(), 'scripts', 'image', 'containers.conf');
/** Exactly what the chart's speaker container gets (charts/herald/templates/speaker-daemonset.yaml). */
const SPEAKER_CAPS = ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_PERFMON', 'CAP_SYS_NICE'];
const containerName = (role: string) => `${namespacePrefix()}img-${role}-${process.pid}`;

async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout } = await execFileAsync('podman', args, {
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, CONTAINERS_CONF: containersConf },
  });
  return stdout;
}

/** A container's output: the speaker and controller log to stderr, which `podman logs` passes through. */
async function containerLogs(name: string): Promise<string> {
  return execFileAsync('podman', ['logs', name], {
    env: { ...process.env, CONTAINERS_CONF: containersConf },
  }).then(
    (r) => r.stdout + r.stderr,
    (e: unknown) => String(e),
  );
}

async function removeContainer(name: string): Promise<void> {
  await podman(['rm', '--force', '--ignore', '--time', '0', name]).catch(() => undefined);
}

t.test('npm run image builds localhost/herald with only runtime files', async (t) => {
  const { stderr } = await execFileAsync('bash', ['scripts/image/build.sh'], {
    cwd: projectRoot(),
    timeout: 28 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, HERALD_IMAGE: IMAGE },
  });
  t.comment(stderr.trim());
  const version = await podman(['run', '--rm', IMAGE, '--version']);
  t.match(version, /^\d+\.\d+\.\d+ \(commit [0-9a-f]{12}(-dirty)?\)/, `herald --version: ${version.trim()}`);
  const inside = await podman([
    'run',
    '--rm',
    '--entrypoint',
    'sh',
    IMAGE,
    '-c',
    'id -u; for c in gcc cc clang npm npx tsc; do command -v $c; done; ls /opt/herald/node_modules',
  ]);
  const [uid, ...rest] = inside.trim().split('\n');
  t.equal(uid, '65534', 'runs as nobody unless the pod spec says otherwise');
  t.notOk(
    rest.some((l) => l.startsWith('/')),
    `no compilers or npm in the image: ${rest.filter((l) => l.startsWith('/'))}`,
  );
  for (const dev of ['typescript', 'tap', 'eslint', 'fast-check', 'node-gyp'])
    t.notOk(rest.includes(dev), `no dev dependency ${dev}`);
  t.ok(rest.includes('@kubernetes'), 'runtime dependencies are there');
});

t.test(
  'the speaker from the image, with only the chart capabilities, answers ARP and serves /metrics',
  async (t) => {
    const config = labConfig(1);
    const vip = [...labAllocations(config).values()].flat().find((ip) => ip.startsWith('10.77.0.2'));
    if (!vip) throw new Error('labConfig(1) has no IPv4 VIP in pool lab');
    const cluster = await LabCluster.create({ tag: 'img', nodes: 1, clients: 1, config, vips: [vip] });
    t.teardown(() => cluster.destroy());
    const node = cluster.nodes[0]!;
    const runDir = mkdtempSync(join(tmpdir(), 'herald-img-run-'));
    t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
    const name = containerName('spk');
    t.teardown(() => removeContainer(name));
    const chartSecurity = [
      `--network=ns:/run/netns/${node.ns}`,
      '--user=0:0',
      '--cap-drop=all',
      ...SPEAKER_CAPS.map((c) => `--cap-add=${c}`),
      '--security-opt=no-new-privileges',
      // As the chart: seccomp Unconfined (the default profile puts bpf() behind CAP_SYS_ADMIN).
      '--security-opt=seccomp=unconfined',
      '--read-only',
      '--volume=/sys/fs/bpf:/sys/fs/bpf',
    ];
    const startSpeaker = async (container: string) => {
      t.teardown(() => removeContainer(container));
      await podman([
        'run',
        '--detach',
        `--name=${container}`,
        ...chartSecurity,
        `--volume=${cluster.workDir}:/etc/herald:ro`,
        `--volume=${runDir}:/run/herald`,
        '--env=HERALD_LOG_LEVEL=info',
        IMAGE,
        'speaker',
        `--node=${node.name}`,
        '--config=/etc/herald/herald.yaml',
        '--interface=eth0',
        `--bind=${node.ip4}:7946`,
        `--pin-dir=${node.pinDir}`,
        '--api-socket=/run/herald/speaker.sock',
        `--metrics=${node.ip4}:7473`,
        '--xdp-mode=generic',
        // As in Kubernetes mode: the node's own stack (kube-proxy there, the lab here) accepts the VIPs.
        '--no-host-vips',
        '--insecure-gossip',
      ]);
      await waitUntil('the containerized speaker to answer for the VIP (its gate open)', 60_000, async () => {
        if (!answering(cluster, vip).has(node.name)) return false;
        // The gate opens a pulse or two after the first decision is applied (the entry may be the last
        // speaker's, adopted): one ARP request before that goes to the kernel.
        return (await containerLogs(container)).includes('"msg":"liveness gate open"');
      }).catch(async (error: unknown) => {
        t.comment((await containerLogs(container)).slice(-3000));
        throw error;
      });
    };
    await startSpeaker(name);
    const client = cluster.clients[0]!;
    const reply = await arping(cluster.lan, client.ns, vip, { count: 2 });
    t.same(
      new Set(reply.macs),
      new Set([await interfaceMacIn(cluster.lan, node.ns)]),
      'ARP for the VIP answered',
    );

    const fetchFromClient = async (path: string) =>
      cluster.lan.run(client.ns, process.execPath, [
        '-e',
        `fetch('http://${node.ip4}:7473${path}').then(async (r) => { process.stdout.write(String(r.status) + '\\n' + (await r.text())); })`,
      ]);
    const metrics = await fetchFromClient('/metrics');
    t.match(metrics.stdout, /^200\n/, '/metrics serves');
    t.match(
      metrics.stdout,
      /^herald_allocator_addresses_total\{pool="lab"\} \d+$/m,
      'herald metrics in the exposition',
    );
    await waitUntil('/readyz to report ready', 20_000, async () =>
      (await fetchFromClient('/readyz')).stdout.startsWith('200'),
    );
    t.pass('/readyz is 200 once XDP is attached');

    const status = await podman(['exec', name, 'herald', 'status']);
    t.match(
      status,
      new RegExp(vip.replace(/\./g, '\\.')),
      `herald status in the container names the VIP:\n${status}`,
    );

    // Upgrade: the next speaker, without CAP_SYS_ADMIN, recognizes the running program by its pin and
    // replaces it atomically.
    const attachedProgram = async () =>
      /prog\/xdp id (\d+)/.exec(await cluster.lan.ip(node.ns, '-d', 'link', 'show', 'eth0'))?.[1];
    const before = await attachedProgram();
    await removeContainer(name);
    t.ok(existsSync(node.pinDir), 'a stopped speaker keeps its pins (upgrades adopt them)');
    t.equal(await attachedProgram(), before, 'and its XDP program stays attached');
    const next = containerName('spk2');
    await startSpeaker(next);
    const after = await attachedProgram();
    t.ok(after !== undefined && after !== before, `the new speaker replaced program ${before} with ${after}`);
    const again = await arping(cluster.lan, client.ns, vip, { count: 1 });
    t.equal(again.received, 1, 'the VIP is answered after the upgrade');

    // Uninstall as docs/kubernetes.md says: stop the speaker, then --cleanup from the same image.
    await removeContainer(next);
    await podman([
      'run',
      '--rm',
      ...chartSecurity,
      IMAGE,
      'speaker',
      '--cleanup',
      '--interface=eth0',
      `--pin-dir=${node.pinDir}`,
    ]);
    const link = await cluster.lan.ip(node.ns, 'link', 'show', 'eth0');
    t.notMatch(link, /xdp/, 'XDP detached by --cleanup from the image');
    t.notOk(existsSync(node.pinDir), 'pins removed by --cleanup from the image');
  },
);

t.test('the controller from the image runs as 65534 and allocates against the API server', async (t) => {
  const server = await TestApiServer.start();
  t.teardown(() => server.stop());
  installHerald(server);
  server.createObject(pool('lan', ['10.77.0.200-10.77.0.210']));
  server.createObject(lbService('web', { spec: { ports: [{ port: 8080, protocol: 'TCP' }] } }));
  const dir = mkdtempSync(join(tmpdir(), 'herald-img-kube-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'config'), server.kubeconfig(HERALD_NS), { mode: 0o644 });
  const name = containerName('ctl');
  t.teardown(() => removeContainer(name));
  // Host network only so the container reaches the test API server on 127.0.0.1.
  await podman([
    'run',
    '--detach',
    `--name=${name}`,
    '--network=host',
    '--user=65534:65534',
    '--cap-drop=all',
    '--security-opt=no-new-privileges',
    '--read-only',
    `--volume=${dir}:/kube:ro`,
    IMAGE,
    'controller',
    '--kubeconfig=/kube/config',
    `--namespace=${HERALD_NS}`,
    '--no-leader-election',
  ]);
  await waitUntil('the controller to allocate web', 60_000, () => ingressOf(server, 'web').length > 0).catch(
    async (error: unknown) => {
      t.comment((await containerLogs(name)).slice(-3000));
      throw error;
    },
  );
  t.match(ingressOf(server, 'web')[0], /^10\.77\.0\.2\d\d$/, 'web got an address from pool lan');
  t.equal((await podman(['exec', name, 'id', '-u'])).trim(), '65534', 'controller process runs as 65534');
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { crdFiles } from '../../src/k8s/crd-gen.js';
import { projectRoot } from '../../src/util/paths.js';
import { TestApiServer } from './apiserver/server.js';
import { Kubectl } from './helpers/kube.js';
import { runTool } from './helpers/kube-tools.js';
import { requirePrerequisites } from '../helpers/prereq.js';

const chart = join(projectRoot(), 'charts', 'herald');
const ns = 'herald-system';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}

const nonDefault = [
  '--set',
  'controller.replicas=1',
  '--set',
  'speaker.interfaces[0]=eth0',
  '--set',
  'speaker.interfaces[1]=bond0',
  '--set',
  'speaker.xdpMode=native',
  '--set',
  'defaultLoadBalancerClass=false',
  '--set',
  'speaker.gossipKey.existingSecret=my-keys',
  '--set',
  'metrics.serviceMonitor.enabled=true',
  '--set',
  'metrics.prometheusRule.enabled=true',
  '--set',
  'metrics.grafanaDashboard.enabled=true',
  '--set',
  'image.tag=dev',
];

async function render(args: string[]): Promise<{ text: string; objects: Obj[] }> {
  const r = await runTool('helm', ['template', 'herald', chart, '--namespace', ns, ...args]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  const objects = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
  return { text: r.stdout, objects };
}

function find(objects: Obj[], kind: string): Obj {
  const o = objects.find((x) => x.kind === kind);
  if (!o) throw new Error(`no ${kind} rendered`);
  return o;
}

type PodSpec = {
  hostNetwork?: boolean;
  containers: Array<{
    args: string[];
    securityContext: {
      privileged?: boolean;
      capabilities: { add?: string[]; drop?: string[] };
      seccompProfile?: { type: string };
    };
    volumeMounts: Array<{ mountPath: string }>;
    lifecycle?: { preStop?: { exec: { command: string[] } } };
    livenessProbe?: { httpGet: { path: string; port: string } };
    readinessProbe?: { httpGet: { path: string; port: string } };
  }>;
  tolerations?: unknown[];
};
const podSpec = (o: Obj): PodSpec => (o.spec as { template: { spec: PodSpec } }).template.spec;

t.test('helm lint: default and non-default values; schema rejects bad values', async (t) => {
  let r = await runTool('helm', ['lint', '--strict', chart]);
  t.equal(r.code, 0, `lint default: ${r.stdout}${r.stderr}`);
  r = await runTool('helm', ['lint', '--strict', chart, ...nonDefault]);
  t.equal(r.code, 0, `lint non-default: ${r.stdout}${r.stderr}`);
  r = await runTool('helm', ['lint', chart, '--set', 'speaker.xdpMode=turbo']);
  t.not(r.code, 0, 'values.schema.json rejects an unknown xdpMode');
  t.match(r.stdout + r.stderr, /xdpMode/);
  r = await runTool('helm', ['lint', chart, '--set', 'controller.replica=3']);
  t.not(r.code, 0, 'values.schema.json rejects a misspelt key');
});

t.test('rendered workloads: replicas, capabilities, host network, bpffs, preStop', async (t) => {
  const { objects } = await render([]);
  const deploy = find(objects, 'Deployment');
  t.equal((deploy.spec as { replicas: number }).replicas, 2, 'two controller replicas by default');
  t.notOk(podSpec(deploy).containers[0]!.args.includes('--no-leader-election'), 'leader election on');
  t.ok(
    objects.some((o) => o.kind === 'PodDisruptionBudget'),
    'PDB',
  );
  const ds = find(objects, 'DaemonSet');
  const pod = podSpec(ds);
  const c = pod.containers[0]!;
  t.equal(pod.hostNetwork, true, 'speaker on the host network');
  t.same(
    [...(c.securityContext.capabilities.add ?? [])].sort(),
    ['BPF', 'NET_ADMIN', 'NET_RAW', 'PERFMON', 'SYS_NICE'],
    'only the data-plane capabilities and SYS_NICE (the pulse thread at nice -10)',
  );
  t.same(c.securityContext.capabilities.drop, ['ALL']);
  t.notOk(c.securityContext.privileged, 'not privileged');
  t.same(c.securityContext.seccompProfile, { type: 'Unconfined' }, 'bpf() is not behind CAP_SYS_ADMIN');
  t.ok(
    c.volumeMounts.some((m) => m.mountPath === '/sys/fs/bpf'),
    '/sys/fs/bpf mounted',
  );
  const preStop = c.lifecycle?.preStop?.exec.command.join(' ') ?? '';
  t.notMatch(preStop, /cleanup|detach|bpftool|ip link/, 'preStop does not tear the XDP program down');
  t.same(c.livenessProbe?.httpGet, { path: '/healthz', port: 'metrics' }, 'speaker liveness probe');
  t.same(c.readinessProbe?.httpGet, { path: '/readyz', port: 'metrics' }, 'speaker readiness probe');
  t.ok((pod.tolerations ?? []).length > 0, 'tolerations for control-plane nodes');
  t.ok(
    objects.some((o) => o.kind === 'Secret' && o.metadata.name.endsWith('-gossip')),
    'gossip key Secret',
  );
  t.notOk(
    objects.some((o) => o.kind === 'ServiceMonitor' || o.kind === 'PrometheusRule'),
    'monitoring objects off by default',
  );
  const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
  const rules = roles.flatMap(
    (r) => (r as unknown as { rules: Array<{ resources: string[]; verbs: string[] }> }).rules,
  );
  t.notOk(
    rules.some((r) => r.verbs.includes('*') || r.resources.includes('*')),
    'no wildcard RBAC',
  );
  t.notOk(
    rules.some((r) => r.resources.includes('secrets')),
    'no access to Secrets',
  );
  t.notOk(
    rules.some(
      (r) => r.resources.includes('services') && r.verbs.some((v) => v === 'update' || v === 'patch'),
    ),
    'Service spec is never written',
  );

  const custom = await render(nonDefault);
  const cds = find(custom.objects, 'DaemonSet');
  const args = podSpec(cds).containers[0]!.args;
  t.ok(
    args.includes('--interface=eth0') &&
      args.includes('--interface=bond0') &&
      args.includes('--xdp-mode=native'),
  );
  const cdeploy = find(custom.objects, 'Deployment');
  t.ok(podSpec(cdeploy).containers[0]!.args.includes('--no-default-class'));
  t.ok(
    podSpec(cdeploy).containers[0]!.args.includes('--no-leader-election'),
    'single replica runs without a Lease',
  );
  t.notOk(
    custom.objects.some((o) => o.kind === 'PodDisruptionBudget'),
    'no PDB for one replica',
  );
  t.notOk(
    custom.objects.some((o) => o.kind === 'Secret'),
    'existing gossip Secret used',
  );
  t.match(custom.text, /image: ghcr\.io\/herald-lb\/herald:dev/);
  t.ok(custom.objects.some((o) => o.kind === 'ServiceMonitor'));
  const rule = find(custom.objects, 'PrometheusRule') as unknown as {
    spec: { groups: Array<{ name: string }> };
  };
  t.same(
    rule.spec.groups.map((g) => g.name).sort(),
    ['herald.announcements', 'herald.controller', 'herald.traffic'],
    "speaker alerts (files/alerts.yaml) plus the controller's",
  );
  const dashboard = custom.objects.find((o) => o.kind === 'ConfigMap') as unknown as
    { data: Record<string, string> } | undefined;
  t.equal(
    (JSON.parse(dashboard?.data['herald.json'] ?? '{}') as { title?: string }).title,
    'Herald',
    'Grafana dashboard ConfigMap',
  );
  requirePrerequisites({ commands: ['promtool'] });
  const dir = mkdtempSync(join(tmpdir(), 'herald-rules-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), JSON.stringify({ groups: rule.spec.groups }));
    const r = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' });
    t.equal(r.status, 0, `promtool check rules on the rendered PrometheusRule: ${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.test('committed CRDs are the ones generated from the zod schemas', async (t) => {
  const dir = join(chart, 'crds');
  const committed = readdirSync(dir).sort();
  const generated = crdFiles();
  t.same(committed, generated.map((f) => f.file).sort(), 'same CRD files');
  for (const f of generated)
    t.equal(
      readFileSync(join(dir, f.file), 'utf8'),
      f.text,
      `${f.file} up to date (run node dist/src/k8s/crd-gen.js)`,
    );
});

const monitoringCrds = ['ServiceMonitor', 'PrometheusRule']
  .map((kind) => {
    const plural = `${kind.toLowerCase()}s`;
    return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: ${kind}, plural: ${plural}, singular: ${kind.toLowerCase()}}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;
  })
  .join('---\n');

t.test('kubectl apply of CRDs, rendered chart and examples to the test API server', async (t) => {
  const server = await TestApiServer.start();
  const kubectl = new Kubectl(server);
  const work = mkdtempSync(join(tmpdir(), 'herald-chart-'));
  t.teardown(async () => {
    kubectl.cleanup();
    rmSync(work, { recursive: true, force: true });
    await server.stop();
  });
  // (imperative `kubectl create` sends protobuf, which the test server does not speak; apply sends JSON)
  let r = await kubectl.run([
    'apply',
    '-f',
    kubectl.file('ns.yaml', `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`),
  ]);
  t.equal(r.code, 0, r.stderr);
  r = await kubectl.run(['apply', '-f', join(chart, 'crds')]);
  t.equal(r.code, 0, `CRDs: ${r.stderr}`);
  r = await kubectl.run(['apply', '-f', kubectl.file('monitoring-crds.yaml', monitoringCrds)]);
  t.equal(r.code, 0, r.stderr);
  for (const [label, args] of [
    ['default', []],
    ['non-default', nonDefault],
  ] as const) {
    const { text, objects } = await render([...args]);
    const file = join(work, `${label}.yaml`);
    writeFileSync(file, text);
    r = await kubectl.run(['apply', '-f', file]);
    t.equal(r.code, 0, `apply ${label} render: ${r.stderr}`);
    t.equal(r.stdout.trim().split('\n').length, objects.length, `${label}: every object applied`);
    t.notMatch(
      r.stderr,
      /unknown field|Warning/,
      `${label}: no field warnings (strict validation against the API schemas)`,
    );
  }
  r = await kubectl.run(['apply', '-f', join(work, 'default.yaml')]);
  t.equal(r.code, 0, `re-apply: ${r.stderr}`);
  const examples = join(projectRoot(), 'examples', 'kubernetes');
  for (const f of ['herald-l2-spread.yaml', 'service.yaml']) {
    r = await kubectl.run(['apply', '-f', join(examples, f)]);
    t.equal(r.code, 0, `example ${f}: ${r.stderr}`);
  }
  r = await kubectl.run(['get', 'ipaddresspools.herald.dev', '-n', ns, '-o', 'name']);
  t.match(r.stdout, /ipaddresspool\.herald\.dev\/\S+/, 'the example pool is stored');

  const bad = `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: {name: bad, namespace: ${ns}}
spec: {addresses: "10.0.0.0/24", autoAssign: "yes"}
`;
  r = await kubectl.run(['apply', '-f', kubectl.file('bad.yaml', bad)]);
  t.not(r.code, 0, 'CRD schema rejects a malformed pool');
  t.match(r.stderr, /spec\.addresses/);
  t.match(r.stderr, /spec\.autoAssign/);
  const typo = `apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: {name: typo, namespace: ${ns}}
spec: {ipAddresPools: [x]}
`;
  r = await kubectl.run(['apply', '-f', kubectl.file('typo.yaml', typo)]);
  t.not(r.code, 0, 'unknown spec field rejected');
  t.match(r.stderr, /unknown field "spec\.ipAddresPools"/);
});

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { validateReport } from '../../../src/cli/commands/validate.js';
import { formatSummaries } from '../../../src/cli/commands/validate-summary.js';
import { formatProblem, loadConfigFiles, parseConfigTexts } from '../../../src/config/index.js';
import { projectRoot } from '../../../src/util/paths.js';

// `herald validate` as a person runs it: exit status, one line per problem, summary, --json.

const run = promisify(execFile);
const cli = join(projectRoot(), 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'herald-validate-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function validate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // without tap's loaders (NODE_OPTIONS), which would make each start slow
    const env = { ...process.env, NODE_OPTIONS: '' };
    const r = await run(process.execPath, [cli, 'validate', ...args], { timeout: 20_000, env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test('invalid file: exit 1, one line per problem', async (t) => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    [
      'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: {name: a}\nspec: {addresses: [10.0.0.0/24]}',
      'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: {name: b}\nspec: {addresses: [10.0.0.5-10.0.0.1]}',
      'apiVersion: herald.dev/v1beta1\nkind: BGPPeer\nmetadata: {name: p}\nspec: {myASN: 1, peerASN: 2, peerAddress: 10.0.0.1, holdTime: 1s}',
      'apiVersion: v1\nkind: Service\nmetadata: {name: s, annotations: {herald.dev/loadBalancerIPs: 10.0.0.1}}\nspec: {type: LoadBalancer, ports: [{port: 80}]}',
      'apiVersion: v1\nkind: Service\nmetadata: {name: t, annotations: {herald.dev/loadBalancerIPs: 10.0.0.1}}\nspec: {type: LoadBalancer, ports: [{port: 80}]}',
      'apiVersion: v1\nkind: Service\nmetadata: {name: u}\nspec: {ports: [{port: 80}]}',
    ].join('\n---\n'),
  );
  const r = await validate(bad);
  t.equal(r.code, 1);
  t.same(r.stdout.trim().split('\n'), [
    `${bad}:2:spec.addresses[0]: "10.0.0.5-10.0.0.1" is not a valid range: start 10.0.0.5 is after end 10.0.0.1`,
    `${bad}:3:spec.holdTime: hold time 1s is below 3s; use 0 (no keepalives) or at least 3s (RFC 4271)`,
    `${bad}:5:spec: cannot allocate: IP 10.0.0.1 is in use by service default/s`,
    `${bad}:6:spec.type: not set: Kubernetes defaults to ClusterIP, which Herald ignores; set type: LoadBalancer`,
  ]);
  t.match(r.stderr, /4 problems/);
});

t.test('valid files: summary and allocations (in process); unreadable file', async (t) => {
  const examples = join(projectRoot(), 'examples');
  const ok = validateReport(await loadConfigFiles([join(examples, 'standalone.yaml')]), 1);
  t.equal(ok.valid, true);
  t.match(ok.summary, /^1 file valid: 2 pools .* 4 services \(4 allocated\)$/);
  t.same(ok.allocations['infra/dns-udp'], { ips: ['192.168.50.241'], pool: 'lan' });
  t.same(
    ok.services.find((r) => r.service === 'infra/dns-udp'),
    {
      service: 'infra/dns-udp',
      ips: ['192.168.50.241'],
      pool: 'lan',
      announced: ['L2 spread by clients (lan)', 'BGP (to-tor)'],
    },
    'per service: address, pool, how it is announced',
  );
  t.same(
    ok.services.find((r) => r.service === 'shop/api')?.announced,
    ['L2 spread by clients (lan)'],
    'a pool only the L2 advertisement selects',
  );
  const files = ['metallb-l2', 'metallb-bgp', 'herald-l2-spread', 'service'].map((f) =>
    join(examples, 'kubernetes', `${f}.yaml`),
  );
  const k8s = validateReport(await loadConfigFiles(files), files.length);
  t.same(k8s.problems.map(formatProblem), []);
  const missing = validateReport(await loadConfigFiles([join(dir, 'nope.yaml')]), 1);
  t.same(missing.problems.map(formatProblem), [`${join(dir, 'nope.yaml')}:0:-: cannot read file (ENOENT)`]);
});

t.test('per service: why a PreferDualStack service got one family; a pool nobody announces', async (t) => {
  const text = `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: {name: v4}
spec: {addresses: [10.0.0.0/30]}
---
apiVersion: v1
kind: Service
metadata: {name: dual}
spec: {type: LoadBalancer, ipFamilyPolicy: PreferDualStack, ports: [{port: 80}]}
`;
  const report = validateReport(parseConfigTexts([{ fileName: 'f.yaml', text }]), 1);
  t.same(report.services, [
    {
      service: 'default/dual',
      ips: ['10.0.0.0'],
      pool: 'v4',
      announced: [],
      note: 'PreferDualStack got IPv4 only: pool v4 has no IPv6 addresses',
    },
  ]);
  t.same(formatSummaries(report.services), [
    '  default/dual  10.0.0.0  pool v4  not announced (no advertisement for the pool); PreferDualStack got IPv4 only: pool v4 has no IPv6 addresses',
  ]);
});

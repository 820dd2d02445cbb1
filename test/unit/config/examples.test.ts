import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { projectRoot } from '../../../src/util/paths.js';

// Every example file validates as the docs tell users to check it (`herald validate`), and every service
// in it gets an address. Each is also started in namespaces and its VIPs answered: plain-hosts.yaml in
// test/netns/user-path.test.ts, standalone.yaml in test/netns/examples-standalone.test.ts, the
// Kubernetes ones in test/k8s/examples-l2.test.ts and test/k8s/examples-bgp.test.ts.

const run = promisify(execFile);
const cli = join(projectRoot(), 'dist/src/cli/main.js');
const examples = join(projectRoot(), 'examples');

interface Report {
  valid: boolean;
  problems: unknown[];
  allocations: Record<string, { ips: string[] } | { error: string }>;
}

async function validate(files: string[]): Promise<Report> {
  // exit status 1 with a report is an answer too; anything else (a crash) fails the test
  const env = { ...process.env, NODE_OPTIONS: '' };
  try {
    const r = await run(process.execPath, [cli, 'validate', '--json', ...files], { timeout: 30_000, env });
    return JSON.parse(r.stdout) as Report;
  } catch (error) {
    const out = (error as { stdout?: string }).stdout;
    if (!out) throw error;
    return JSON.parse(out) as Report;
  }
}

const yamlIn = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));

const standalone = yamlIn(examples);
const kubernetes = yamlIn(join(examples, 'kubernetes'));

t.ok(standalone.includes(join(examples, 'plain-hosts.yaml')), 'the plain-host example is there');
t.ok(kubernetes.length > 0, 'there are Kubernetes examples');

// Standalone files stand alone (`herald speaker --config FILE`). Each Kubernetes configuration is applied
// with service.yaml (as test/k8s/examples-*.test.ts run them), and all of them together.
const service = join(examples, 'kubernetes', 'service.yaml');
const configs = kubernetes.filter((f) => f !== service);
t.ok(kubernetes.includes(service), 'the Kubernetes examples have a Service');
for (const files of [...standalone.map((f) => [f]), ...configs.map((f) => [f, service]), kubernetes]) {
  const name = files.map((f) => f.slice(examples.length + 1)).join(' + ');
  t.test(name, async (t) => {
    const report = await validate(files);
    t.same(report.problems, [], 'no problems');
    t.ok(report.valid, 'valid');
    const keys = Object.keys(report.allocations);
    t.ok(keys.length > 0, `serves services (${keys.join(', ')})`);
    for (const [key, a] of Object.entries(report.allocations)) {
      t.ok('ips' in a && a.ips.length > 0, `${key} gets an address`);
    }
  });
}

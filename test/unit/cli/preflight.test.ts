import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import {
  BPF_FS_MAGIC,
  type HostFacts,
  missingCaps,
  parseCapEff,
  preflightProblem,
} from '../../../src/cli/preflight-rules.js';
import { projectRoot } from '../../../src/util/paths.js';
import { requirePrerequisites } from '../../helpers/prereq.js';

// Issue 13: the speaker fails fast with one clear line, before touching the data path; `herald status`
// without a speaker says so.

const ok: HostFacts = {
  effectiveCaps: parseCapEff('CapEff:\t000001ffffffffff\n'),
  pinBase: { dir: '/sys/fs/bpf', fsType: BPF_FS_MAGIC },
  pinDir: '/sys/fs/bpf/herald',
  hasConfigSource: true,
  missingInterfaces: [],
  interfaces: ['eth0', 'lo'],
};

t.test('preflight rules', async (t) => {
  t.equal(preflightProblem(ok), undefined, 'root with a bpffs');
  t.same(missingCaps(0n), ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_PERFMON']);
  const bit = (n: number) => 1n << BigInt(n);
  t.same(missingCaps(bit(12) | bit(13) | bit(21)), [], 'CAP_SYS_ADMIN stands in for BPF and PERFMON');
  t.same(missingCaps(bit(12) | bit(13) | bit(39)), ['CAP_PERFMON']);
  t.equal(
    preflightProblem({ ...ok, effectiveCaps: bit(12) }),
    'needs root, or CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW, CAP_PERFMON (missing: CAP_BPF, CAP_NET_RAW, CAP_PERFMON)',
  );
  t.match(preflightProblem({ ...ok, pinBase: { dir: '/sys', fsType: 0x62656572 } }), /^\/sys is not a bpffs/);
  t.match(preflightProblem({ ...ok, hasConfigSource: false }), /^no --config and no Kubernetes credentials/);
  t.equal(
    preflightProblem({ ...ok, missingInterfaces: ['eth9'] }),
    'interface eth9 does not exist here (interfaces with an address: eth0, lo)',
  );
  t.equal(parseCapEff('Name: x\n'), 0n);
});

const run = promisify(execFile);
const cli = join(projectRoot(), 'dist/src/cli/main.js');
const example = join(projectRoot(), 'examples/standalone.yaml');
const dir = mkdtempSync(join(tmpdir(), 'herald-g-preflight-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function herald(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; wrap?: string[] } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, NODE_OPTIONS: '', ...opts.env };
  const [cmd, ...pre] = opts.wrap ?? [process.execPath];
  const argv = opts.wrap ? [...pre, process.execPath, cli, ...args] : [cli, ...args];
  try {
    const r = await run(cmd ?? process.execPath, argv, { timeout: 30_000, env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test('the speaker refuses to start, with one line, before touching anything', async (t) => {
  requirePrerequisites({ root: true, commands: ['setpriv'] });
  const cases: Array<{
    name: string;
    args: string[];
    env?: NodeJS.ProcessEnv;
    wrap?: string[];
    line: RegExp;
  }> = [
    {
      name: 'no config, no credentials',
      args: ['speaker'],
      env: { HOME: dir, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' },
      line: /^herald: no --config and no Kubernetes credentials/,
    },
    {
      name: 'not root',
      args: ['speaker', '--config', example],
      wrap: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
      line: /^herald: needs root, or CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW, CAP_PERFMON/,
    },
    {
      name: 'pin dir not on a bpffs',
      args: ['speaker', '--config', example, '--pin-dir', join(dir, 'pins')],
      line: /is not a bpffs \(needed for --pin-dir/,
    },
    {
      name: 'unknown interface',
      args: ['speaker', '--config', example, '--interface', 'hrlg-nosuch0'],
      line: /^herald: interface hrlg-nosuch0 does not exist here/,
    },
  ];
  for (const c of cases) {
    const r = await herald(c.args, { ...(c.env ? { env: c.env } : {}), ...(c.wrap ? { wrap: c.wrap } : {}) });
    t.equal(r.code, 1, `${c.name}: exit 1`);
    t.match(r.stderr, c.line, c.name);
    // (tap's process-info hook, injected into every child, may add its own complaint after it when
    // the child runs unprivileged: only herald's lines are counted)
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('herald:'));
    t.equal(lines.length, 1, `${c.name}: one line`);
    t.ok(r.stderr.startsWith(lines[0] ?? '-'), `${c.name}: first`);
  }
});

t.test('herald status without a speaker', async (t) => {
  const socket = join(dir, 'none.sock');
  const r = await herald(['status', '--socket', socket]);
  t.equal(r.code, 1);
  t.equal(r.stderr, `herald: no speaker at ${socket} (is it running? --socket)\n`);
  const top = await herald(['top', '--once', '--socket', socket]);
  t.equal(top.stderr, `herald: no speaker at ${socket} (is it running? --socket)\n`);
});

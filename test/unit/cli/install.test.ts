import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { HERALD_NODE_FLAGS } from '../../../src/util/node-flags.js';
import { projectRoot } from '../../../src/util/paths.js';
import { requirePrerequisites } from '../../helpers/prereq.js';

// docs/plain-hosts.md steps 1 and 3: scripts/install.sh puts a working `herald` on PATH, and
// examples/herald.service is a unit systemd accepts, starting that herald.

requirePrerequisites({ commands: ['systemd-analyze'] });

const run = promisify(execFile);
const root = projectRoot();
const dir = mkdtempSync(join(tmpdir(), 'herald-h-install-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// without tap's loaders, as a user's shell runs it
const env = { ...process.env, NODE_OPTIONS: '', PATH: `${dir}/bin:/usr/sbin:/usr/bin:/sbin:/bin` };

t.test('scripts/install.sh writes a herald that runs from PATH', async (t) => {
  const r = await run('bash', [join(root, 'scripts/install.sh'), '--prefix', dir, '--no-build'], {
    timeout: 60_000,
    env,
  });
  t.match(r.stdout, `installed ${dir}/bin/herald`);
  t.match(
    readFileSync(join(dir, 'bin', 'herald'), 'utf8'),
    ` ${HERALD_NODE_FLAGS.join(' ')} '${join(root, 'dist', 'src', 'cli', 'main.js')}'`,
    'the wrapper runs Node with the flags of the shebang',
  );
  const version = await run('herald', ['--version'], { timeout: 30_000, env });
  t.match(version.stdout, /\d+\.\d+\.\d+/, 'herald --version from PATH');
  const valid = await run('herald', ['validate', join(root, 'examples/plain-hosts.yaml')], {
    timeout: 30_000,
    env,
  });
  t.match(valid.stdout, /^1 file valid: /, 'herald validate examples/plain-hosts.yaml');
});

t.test('scripts/install.sh refuses unknown arguments', async (t) => {
  await t.rejects(run('bash', [join(root, 'scripts/install.sh'), '--prefx', dir], { timeout: 30_000, env }), {
    code: 2,
  });
});

t.test('examples/herald.service verifies and starts the installed herald speaker', async (t) => {
  const unit = readFileSync(join(root, 'examples/herald.service'), 'utf8');
  const exec = /^ExecStart=(\S+) (.*)$/m.exec(unit);
  t.equal(exec?.[1], '/usr/local/bin/herald', 'the path scripts/install.sh writes by default');
  t.match(
    exec?.[2] ?? '',
    /^speaker --config \/etc\/herald\/herald\.yaml --key-file \/etc\/herald\/gossip\.key --join \S+:7946/,
  );
  t.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m, 'reload is SIGHUP (the file is reread)');
  t.match(unit, /^Restart=always$/m);
  // verify checks the executable exists: point it at the one installed above
  const copy = join(dir, 'herald.service');
  writeFileSync(copy, unit.replace('ExecStart=/usr/local/bin/herald', `ExecStart=${dir}/bin/herald`));
  const r = await run('systemd-analyze', ['verify', copy], { timeout: 60_000, env }).catch(
    (error: { stdout?: string; stderr?: string; code?: number }) => error,
  );
  t.equal(r.stderr?.trim() ?? '', '', 'systemd-analyze verify has nothing to say');
});

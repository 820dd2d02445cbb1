import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../../src/util/paths.js';
import { formatLogLine } from '../../../src/util/log-text.js';
import { parseLogFormat } from '../../../src/util/log.js';
import { requirePrerequisites } from '../../helpers/prereq.js';

requirePrerequisites({ commands: ['script'] });

const LOG_MODULE = join(projectRoot(), 'dist', 'src', 'util', 'log.js');

/** Runs a process that logs one info line with fields and one error with a stack; returns its stderr. */
function logOnce(format: string, env: Record<string, string> = {}): string {
  const script = `import(${JSON.stringify(LOG_MODULE)}).then(({ createLogger }) => {
    const log = createLogger('speaker', 'info', ${JSON.stringify(format)});
    log.info({ interface: 'eth1', mode: 'generic', reason: 'veth: no peer' }, 'XDP attached in generic mode');
    log.error({ err: new Error('boom') }, 'reconcile failed');
  })`;
  const r = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return r.stderr;
}

t.test('a line as text: time, level, message, fields; the stack of an error below it', async (t) => {
  const line = JSON.stringify({
    level: 40,
    time: new Date(2026, 10, 27, 15, 4, 5, 7).getTime(),
    pid: 1,
    hostname: 'h',
    name: 'speaker',
    msg: 'interface gone',
    interface: 'eth1',
    interfaces: ['a', 'b'],
    count: 3,
  });
  t.equal(
    formatLogLine(line),
    '15:04:05.007 WARN  interface gone interface=eth1 interfaces=["a","b"] count=3\n',
  );
  const err = JSON.stringify({
    level: 50,
    time: 0,
    msg: 'failed',
    err: { message: 'no such device', stack: 'Error: no such device\n    at f (x.js:1:1)' },
  });
  t.match(formatLogLine(err), /ERROR failed err="no such device"\n {4}at f \(x\.js:1:1\)\n$/);
  t.equal(formatLogLine('not json\n'), 'not json\n', 'anything else passes through');
  t.ok(formatLogLine(line, true).includes('\u001b[33mWARN '), 'warnings in yellow on a terminal');
});

t.test('--log-format: auto is JSON when stderr is not a terminal, text on a terminal', async (t) => {
  const piped = logOnce('auto');
  const first = JSON.parse(piped.split('\n')[0] ?? '') as { msg: string; interface: string };
  t.equal(first.msg, 'XDP attached in generic mode', 'JSON lines into a pipe');
  t.equal(first.interface, 'eth1');
  t.match(
    logOnce('text'),
    /^\d\d:\d\d:\d\d\.\d{3} INFO {2}XDP attached in generic mode interface=eth1 mode=generic reason="veth: no peer"\n/,
  );
  t.match(logOnce('json'), /^\{"level":30,/);
  // script(1) gives the process a terminal.
  const script = `import(${JSON.stringify(LOG_MODULE)}).then(({ createLogger }) => createLogger('speaker', 'info', 'auto').info({ a: 1 }, 'on a tty'))`;
  const tty = spawnSync('script', ['-qec', `${process.execPath} -e ${shellQuote(script)}`, '/dev/null'], {
    encoding: 'utf8',
  });
  t.match(tty.stdout, /INFO .*on a tty.*a=.*1/, `text on a terminal: ${JSON.stringify(tty.stdout)}`);
  t.notMatch(tty.stdout, /"level"/, 'no JSON on a terminal');
  t.throws(() => parseLogFormat('yaml'), /log format must be one of auto, json, text/);
});

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

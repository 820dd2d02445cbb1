/**
 * Human-readable rendering of pino's JSON lines for a terminal, without a dependency (the runtime image
 * stays small): `15:04:05.123 INFO  message key=value ...`, an error's stack indented below its line.
 */

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

const COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };

/** Fields every line has, shown in the prefix or left out (pid, hostname, name). */
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'err']);

interface ErrorLike {
  message?: unknown;
  stack?: unknown;
}

/** One pino JSON line as text (with ANSI colours when `color`); a line that is not JSON is kept as is. */
export function formatLogLine(line: string, color = false): string {
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    rec = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = typeof rec.level === 'number' ? rec.level : 30;
  const name = (LEVELS[level] ?? String(level)).padEnd(5);
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const time = typeof rec.time === 'number' ? clock(new Date(rec.time)) : '';
  const err = rec.err as ErrorLike | undefined;
  const parts = [paint('2', time), paint(COLORS[level] ?? '0', name), String(rec.msg ?? '')];
  for (const [key, value] of Object.entries(rec)) {
    if (OMITTED.has(key) || value === undefined) continue;
    parts.push(`${paint('2', `${key}=`)}${fieldText(value)}`);
  }
  if (err && typeof err === 'object') parts.push(`${paint('2', 'err=')}${quote(String(err.message ?? ''))}`);
  let out = parts.filter((p) => p !== '').join(' ');
  if (err && typeof err.stack === 'string' && level >= 50) {
    const stack = err.stack.split('\n').slice(1);
    if (stack.length > 0) out += `\n${stack.map((s) => `    ${s.trim()}`).join('\n')}`;
  }
  return `${out}\n`;
}

function clock(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Bare when it is one word, JSON-quoted when it has spaces, quotes or '=' (the line stays parseable). */
function quote(text: string): string {
  return text !== '' && /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

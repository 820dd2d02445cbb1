/** Go / Kubernetes `metav1.Duration` strings ("90s", "1m30s", "1.5h", "300ms"), as MetalLB accepts them. */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART_RE = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Pattern usable in JSON schemas (RE2-compatible). */
export const DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]*)?(ns|us|µs|ms|s|m|h))+)$';

/** Milliseconds of a Go duration string, or undefined when it is not one. Negative durations are refused. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length === 0) return undefined;
  PART_RE.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    PART_RE.lastIndex = pos;
    const m = PART_RE.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = PART_RE.lastIndex;
  }
  return total;
}

/** Formats milliseconds the way Go prints durations ("1m30s", "300ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${Number(rest.toFixed(3))}s`;
}

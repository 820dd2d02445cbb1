import { formatDuration, parseDuration } from './duration.js';
import type { Service } from './types.js';

/**
 * A Service's health check, read from `herald.dev/health-check` and `herald.dev/health-check-timing`.
 * Herald's own annotations: MetalLB has no equivalent, so no `metallb.*` spelling is read.
 */
export const ANNOTATION_HEALTH_CHECK = 'herald.dev/health-check';
export const ANNOTATION_HEALTH_CHECK_TIMING = 'herald.dev/health-check-timing';

export type HealthProbe =
  | { kind: 'tcp'; port: number }
  | { kind: 'http' | 'https'; port: number; path: string }
  | { kind: 'exec'; command: string };

export interface HealthTiming {
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive failures that make a passing node fail. */
  fall: number;
  /** Consecutive passes that make a failing node pass again. */
  rise: number;
}

export const DEFAULT_HEALTH_TIMING: HealthTiming = { intervalMs: 1000, timeoutMs: 500, fall: 2, rise: 2 };

export interface HealthCheck {
  probe: HealthProbe;
  timing: HealthTiming;
  /** The annotations as written: a check whose text changes starts over. */
  text: string;
}

export interface HealthCheckProblem {
  path: string;
  message: string;
}

const KINDS = 'tcp:PORT, http:PORT/PATH, https:PORT/PATH or exec:COMMAND';
const TIMING_KEYS = ['interval', 'timeout', 'fall', 'rise'] as const;
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;
const MAX_COUNT = 100;

const annPath = (key: string): string => `metadata.annotations["${key}"]`;

/** The check a Service asks for (undefined: none), and every problem with its annotations. */
export function serviceHealthCheck(svc: Service): { check?: HealthCheck; problems: HealthCheckProblem[] } {
  const ann = svc.metadata.annotations ?? {};
  const spec = ann[ANNOTATION_HEALTH_CHECK];
  const timingText = ann[ANNOTATION_HEALTH_CHECK_TIMING];
  const problems: HealthCheckProblem[] = [];
  const fail = (key: string) => (message: string) => problems.push({ path: annPath(key), message });
  if (spec === undefined) {
    if (timingText !== undefined)
      fail(ANNOTATION_HEALTH_CHECK_TIMING)(`set without ${ANNOTATION_HEALTH_CHECK}`);
    return { problems };
  }
  const probe = parseHealthProbe(spec, fail(ANNOTATION_HEALTH_CHECK));
  const timing = parseHealthTiming(timingText ?? '', fail(ANNOTATION_HEALTH_CHECK_TIMING));
  if (!probe || !timing || problems.length > 0) return { problems };
  return { check: { probe, timing, text: `${spec}|${timingText ?? ''}` }, problems };
}

export function parseHealthProbe(text: string, fail: (message: string) => void): HealthProbe | undefined {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text.trim() : text.slice(0, colon).trim();
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'tcp': {
      const port = parsePort(rest.trim(), fail);
      return port === undefined ? undefined : { kind, port };
    }
    case 'http':
    case 'https': {
      const slash = rest.indexOf('/');
      const port = parsePort((slash < 0 ? rest : rest.slice(0, slash)).trim(), fail);
      const path = slash < 0 ? '/' : rest.slice(slash);
      if (/\s/.test(path)) {
        fail(`path "${path}" contains white space`);
        return undefined;
      }
      return port === undefined ? undefined : { kind, port, path };
    }
    case 'exec': {
      const command = rest.trim();
      if (command.length === 0) {
        fail('exec needs a command: exec:COMMAND');
        return undefined;
      }
      return { kind, command };
    }
    default:
      fail(
        kind.length === 0
          ? `empty health check: use ${KINDS}`
          : `unknown health check kind "${kind}": use ${KINDS}`,
      );
      return undefined;
  }
}

function parsePort(text: string, fail: (message: string) => void): number | undefined {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    fail(text.length === 0 ? 'port missing' : `port "${text}" is not a number from 1 to 65535`);
    return undefined;
  }
  return Number(text);
}

/** `interval=1s,timeout=500ms,fall=2,rise=2`, any subset, defaults for the rest (timeout at most the interval). */
export function parseHealthTiming(text: string, fail: (message: string) => void): HealthTiming | undefined {
  const timing = { ...DEFAULT_HEALTH_TIMING };
  const seen = new Set<string>();
  let ok = true;
  const bad = (message: string): void => {
    ok = false;
    fail(message);
  };
  for (const part of text.split(',')) {
    if (part.trim().length === 0) continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (!(TIMING_KEYS as readonly string[]).includes(key)) {
      bad(`unknown timing "${key}": use ${TIMING_KEYS.map((k) => `${k}=`).join(', ')}`);
      continue;
    }
    if (seen.has(key)) {
      bad(`${key} given twice`);
      continue;
    }
    seen.add(key);
    if (key === 'interval' || key === 'timeout') {
      const ms = parseDuration(value);
      if (ms === undefined || ms <= 0) bad(`${key} "${value}" is not a positive duration like 1s or 500ms`);
      else timing[key === 'interval' ? 'intervalMs' : 'timeoutMs'] = ms;
    } else if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_COUNT) {
      bad(`${key} "${value}" is not a whole number from 1 to ${MAX_COUNT}`);
    } else {
      timing[key as 'fall' | 'rise'] = Number(value);
    }
  }
  if (!ok) return undefined;
  // Only a timeout given explicitly can be too long; the default shrinks with a short interval.
  if (!seen.has('timeout')) timing.timeoutMs = Math.min(timing.timeoutMs, timing.intervalMs);
  if (timing.intervalMs < MIN_INTERVAL_MS || timing.intervalMs > MAX_INTERVAL_MS) {
    fail(`interval ${formatDuration(timing.intervalMs)} is outside 100ms..1h`);
    return undefined;
  }
  if (timing.timeoutMs > timing.intervalMs) {
    fail(
      `timeout ${formatDuration(timing.timeoutMs)} is longer than the interval ${formatDuration(timing.intervalMs)}`,
    );
    return undefined;
  }
  return timing;
}

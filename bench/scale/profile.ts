/**
 * Reading what the scale benchmark collects: the control-loop stalls a speaker logged, and the
 * `node --cpu-prof` profiles of its speakers (self time per function, and the longest stretches in which
 * the thread never went idle, with what ran in them: those are the event-loop stalls).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The speaker's "control loop stalled" warnings (speaker/watch-thread.ts) in a log: how many, longest. */
export function stallsIn(log: string): { count: number; maxMs: number } {
  let count = 0;
  let maxMs = 0;
  for (const line of log.split('\n')) {
    if (!line.includes('control loop stalled')) continue;
    count++;
    const gap = /"gapMs":(\d+(?:\.\d+)?)/.exec(line);
    if (gap) maxMs = Math.max(maxMs, Math.round(Number(gap[1])));
  }
  return { count, maxMs };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const IDLE = '(idle)';

function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^node:/, '');
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

/** Self time per function (ms), highest first. */
export function selfTimes(profile: CpuProfile): Array<[string, number]> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const name = frameName(node);
    ms.set(name, (ms.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...ms].sort((a, b) => b[1] - a[1]);
}

/** The longest runs of samples without an idle one: duration and the functions that ran most in them. */
export function busyStretches(
  profile: CpuProfile,
  count: number,
): Array<{ ms: number; top: Array<[string, number]> }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const runs: Array<{ ms: number; from: number; to: number }> = [];
  let from = -1;
  let ms = 0;
  const close = (to: number) => {
    if (from >= 0) runs.push({ ms, from, to });
    from = -1;
    ms = 0;
  };
  profile.samples.forEach((id, i) => {
    const idle = byId.get(id)?.callFrame.functionName === IDLE;
    if (idle) return close(i);
    if (from < 0) from = i;
    ms += (profile.timeDeltas[i] ?? 0) / 1000;
  });
  close(profile.samples.length);
  runs.sort((a, b) => b.ms - a.ms);
  return runs.slice(0, count).map((r) => {
    const part: CpuProfile = {
      nodes: profile.nodes,
      samples: profile.samples.slice(r.from, r.to),
      timeDeltas: profile.timeDeltas.slice(r.from, r.to),
    };
    return { ms: r.ms, top: selfTimes(part).slice(0, 6) };
  });
}

/** The samples from `skipMs` after the profile's start on (the steady state after a start-up). */
export function after(profile: CpuProfile, skipMs: number): CpuProfile {
  let at = 0;
  let from = profile.samples.length;
  for (let i = 0; i < profile.timeDeltas.length; i++) {
    at += (profile.timeDeltas[i] ?? 0) / 1000;
    if (at >= skipMs) {
      from = i;
      break;
    }
  }
  return {
    nodes: profile.nodes,
    samples: profile.samples.slice(from),
    timeDeltas: profile.timeDeltas.slice(from),
  };
}

/** Printable summary of every .cpuprofile in dir, from `skipMs` after each one's start. */
export function topSelfTime(dir: string, n: number, skipMs = 0): string[] {
  const lines: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = after(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, skipMs);
    const total = profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
    lines.push(`# ${file}: ${(total / 1000).toFixed(1)} s profiled`);
    for (const [name, ms] of selfTimes(profile).slice(0, n))
      lines.push(`  ${ms.toFixed(0).padStart(7)} ms  ${name}`);
    lines.push('  longest busy stretches (no idle sample):');
    for (const s of busyStretches(profile, 5)) {
      lines.push(
        `  ${s.ms.toFixed(0).padStart(7)} ms: ${s.top.map(([f, ms]) => `${f} ${ms.toFixed(0)}`).join('; ')}`,
      );
    }
  }
  return lines;
}

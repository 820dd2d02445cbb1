/**
 * Where a reload's main-thread time goes, from a `node --cpu-prof` profile of the speaker and the
 * windows (monotonic µs, the clock V8's profiler and process.hrtime share) in which the reloads ran.
 * Each sample is charged to the innermost frame of its stack that belongs to a stage (a file, or one
 * function of the speaker); frames of helpers (util/, node:, libraries) inherit their caller's stage.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A stage by the file (under dist/src/) or `file:function` of a frame, first match wins. */
const STAGES: ReadonlyArray<[RegExp, string]> = [
  [/config\/(read-limited|file-source|load)\.js$/, 'file read + UTF-8 decode'],
  [/config\/documents\.js$/, 'split + match documents'],
  [
    /config\/(parse|schemas|parsed-wire|parse-off-thread|service|addresses|selectors|pools|formats|health-check|duration|community)\.js$/,
    'decode changed documents',
  ],
  [/config\/document-cache\.js$/, 'assemble model'],
  [/config\/(incremental-validation|validate|duplicate-keys|model-change)\.js$/, 'validation'],
  [/config\/model-fingerprint\.js$/, 'fingerprint compare'],
  [/speaker\/speaker\.js:reallocate$/, 'reallocate (health, unpinned)'],
  [/(allocator\/|speaker\/model-source\.js)/, 'allocation'],
  [/health\//, 'reallocate (health, unpinned)'],
  [/speaker\/(decider|group-reuse|vip-index-change|l2-inputs|ownership|services)\.js$/, 'decision round'],
  [
    /l2\/(desired|redecide|rendezvous|spread|buckets|endpoints|interfaces|flow-model|flow-table)\.js$/,
    'decision round',
  ],
  [/placement\//, 'decision round'],
  [/speaker\/(watch-arming|watch-takeover)\.js$/, 'watch arming'],
  [/(l2\/(reconciler|plan|flow-reconciler)|speaker\/l2-part|datapath\/)/, 'data path plan + write'],
  [/l2\/(announcer|frames|due-queue)\.js$/, 'announcements'],
  [
    /(speaker\/(owner-diff|log-changes|served-vips)|metrics\/|api\/|speaker\/bgp-part|bgp\/)/,
    'observers (metrics, status, owners)',
  ],
  [/speaker\/speaker\.js:reconcile$/, 'round (speaker.reconcile itself)'],
];

const GC = '(garbage collector)';
const IDLE = '(idle)';

function stageOf(node: ProfileNode): string | undefined {
  const { url, functionName } = node.callFrame;
  if (functionName === GC) return 'garbage collection';
  if (!url.includes('/dist/src/')) return undefined;
  const where = `${url.replace(/^.*\/dist\/src\//, '')}:${functionName}`;
  for (const [pattern, stage] of STAGES)
    if (pattern.test(where) || pattern.test(where.split(':')[0]!)) return stage;
  return undefined;
}

/** Milliseconds of main-thread CPU by stage inside the windows (idle samples left out). */
export function stageTimes(
  profile: CpuProfile,
  windows: ReadonlyArray<{ fromUs: number; toUs: number }>,
): Map<string, number> {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const memo = new Map<number, string>();
  const stageOfStack = (id: number): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const own = stageOf(node);
    const up = parent.get(id);
    const stage = own ?? (up === undefined ? 'other' : stageOfStack(up));
    memo.set(id, stage);
    return stage;
  };
  const out = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (!windows.some((w) => at >= w.fromUs && at <= w.toUs)) return;
    if (byId.get(id)?.callFrame.functionName === IDLE) return;
    const stage = stageOfStack(id);
    out.set(stage, (out.get(stage) ?? 0) + delta / 1000);
  });
  return out;
}

/** The profile's samples inside the windows only (for per-function self times). */
export function windowed(
  profile: CpuProfile,
  windows: ReadonlyArray<{ fromUs: number; toUs: number }>,
): CpuProfile {
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (!windows.some((w) => at >= w.fromUs && at <= w.toUs)) return;
    samples.push(id);
    timeDeltas.push(delta);
  });
  return { ...profile, samples, timeDeltas };
}

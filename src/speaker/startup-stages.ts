/** A stage's time since the process started and the CPU time the whole process had used by then. */
export interface StageMark {
  ms: number;
  cpuMs: number;
}

export interface StageClocks {
  /** Milliseconds since the process started (performance.now()). */
  sinceStartMs(): number;
  /** CPU time of the process, every thread, in milliseconds. */
  cpuMs(): number;
}

const PROCESS_CLOCKS: StageClocks = {
  sinceStartMs: () => performance.now(),
  cpuMs: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
};

/**
 * When the speaker reached each step of its start (configuration read, listeners bound, data path
 * attached, joined, first decision applied, gate open), logged as `start-up stages`: the benchmarks read
 * where a start spends its time and its CPU from these lines. Each stage keeps its first mark.
 */
export class StartupStages {
  private readonly marks = new Map<string, StageMark>();
  private finished = false;

  constructor(private readonly clocks: StageClocks = PROCESS_CLOCKS) {}

  reached(stage: string): void {
    if (this.finished || this.marks.has(stage)) return;
    this.marks.set(stage, {
      ms: Math.round(this.clocks.sinceStartMs()),
      cpuMs: Math.round(this.clocks.cpuMs()),
    });
  }

  /** The last stage: true the first time (log the stages then); later marks are ignored. */
  finish(stage: string): boolean {
    if (this.finished) return false;
    this.reached(stage);
    this.finished = true;
    return true;
  }

  /** The log fields: each stage's time and CPU, in the order reached. */
  fields(): { msSinceProcessStart: Record<string, number>; cpuMs: Record<string, number> } {
    const ms: Record<string, number> = {};
    const cpu: Record<string, number> = {};
    for (const [stage, mark] of this.marks) {
      ms[stage] = mark.ms;
      cpu[stage] = mark.cpuMs;
    }
    return { msSinceProcessStart: ms, cpuMs: cpu };
  }
}

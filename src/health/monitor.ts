import { EventEmitter } from 'node:events';
import type { HealthCheck, HealthProbe } from '../config/index.js';
import { runProbe, type ProbeContext } from './probe.js';
import { type CheckState, INITIAL_CHECK_STATE, type ProbeResult, stepCheck } from './state.js';

export interface HealthTarget {
  /** `namespace/name` of the Service. */
  service: string;
  check: HealthCheck;
}

export interface HealthMonitorEvents {
  /** A service's verdict on this node changed (or became known). */
  change: [{ service: string; passing: boolean; detail: string }];
  /** Every probe result (metrics). */
  result: [{ service: string; result: ProbeResult; durationMs: number }];
}

export type Prober = (probe: HealthProbe, ctx: ProbeContext) => Promise<ProbeResult>;

interface Running {
  check: HealthCheck;
  state: CheckState;
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
}

/**
 * Runs this node's health checks, one loop per Service: probe, step the rise/fall state, wait out the
 * rest of the interval (a probe never outlives its timeout, which is at most the interval, so probes of
 * one service never overlap). A service whose check text changes starts over.
 */
export class HealthMonitor extends EventEmitter<HealthMonitorEvents> {
  private readonly running = new Map<string, Running>();

  constructor(private readonly options: { node: string; prober?: Prober }) {
    super();
  }

  setTargets(targets: readonly HealthTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.service, t.check]));
    for (const [service, run] of this.running) {
      if (wanted.get(service)?.text !== run.check.text) this.stopOne(service, run);
    }
    for (const [service, check] of wanted) {
      if (this.running.has(service)) continue;
      const run: Running = { check, state: INITIAL_CHECK_STATE, timer: undefined, stopped: false };
      this.running.set(service, run);
      void this.loop(service, run);
    }
  }

  /** Services whose check fails on this node, with what the last failure said. */
  failing(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [service, run] of this.running) {
      if (run.state.known && !run.state.passing) out.set(service, run.state.detail);
    }
    return out;
  }

  /** Every running check's verdict (unknown ones as passing: nothing has failed yet). */
  verdicts(): Map<string, boolean> {
    return new Map([...this.running].map(([s, r]) => [s, r.state.passing]));
  }

  stop(): void {
    for (const [service, run] of this.running) this.stopOne(service, run);
  }

  private stopOne(service: string, run: Running): void {
    run.stopped = true;
    clearTimeout(run.timer);
    this.running.delete(service);
    // A check that goes away no longer holds its service back.
    if (run.state.known && !run.state.passing) this.emit('change', { service, passing: true, detail: '' });
  }

  private async loop(service: string, run: Running): Promise<void> {
    const prober = this.options.prober ?? runProbe;
    const { timing, probe } = run.check;
    const started = performance.now();
    const result = await prober(probe, {
      timeoutMs: timing.timeoutMs,
      env: { HERALD_SERVICE: service, HERALD_NODE: this.options.node },
    }).catch((error: unknown): ProbeResult => ({ ok: false, detail: String(error) }));
    if (run.stopped) return;
    const durationMs = performance.now() - started;
    this.emit('result', { service, result, durationMs });
    const before = run.state;
    run.state = stepCheck(before, result, timing);
    if (!before.known || before.passing !== run.state.passing) {
      this.emit('change', { service, passing: run.state.passing, detail: run.state.detail });
    }
    run.timer = setTimeout(() => void this.loop(service, run), Math.max(0, timing.intervalMs - durationMs));
  }
}

import { DueQueue } from './due-queue.js';

/**
 * Schedules the gratuitous announcements of the VIPs this node owns: a burst right after a takeover (the
 * first frame at once; repeats cover a lost frame and switches that were slow to learn), then a periodic
 * refresh so a client that missed everything still converges. One timer serves every VIP, and a tick
 * fires at most `maxPerTick` of them before yielding to the event loop, so 10,000 VIPs taken over at once
 * never hold the heartbeat back; their refreshes spread over the period (nextRefreshAt). Sending is
 * injected so the schedule is testable and the data path stays at the edge.
 */
export interface AnnouncerOptions {
  /** Delays after takeover, in ms, for the burst; the first should be 0. */
  burstMs: readonly number[];
  /** Period of the refresh after the burst; 0 disables it. */
  refreshMs: number;
  /** `burst` for the frames right after a change, `refresh` for the periodic ones. */
  send: (ip: string, interfaces: readonly string[], phase: 'burst' | 'refresh') => void;
  onError?: (ip: string, error: unknown) => void;
  /** VIPs fired per timer tick before yielding (default 500). */
  maxPerTick?: number;
}

export const DEFAULT_BURST_MS = [0, 100, 300, 700, 1500, 3000] as const;
export const DEFAULT_REFRESH_MS = 30_000;
/** The refresh period is cut into phases this far apart (at most): the VIPs of one phase share a tick. */
export const REFRESH_PHASE_MS = 1000;

/**
 * When `ip`'s periodic refresh comes next after `afterMs` (ms, the clock the announcer runs on): at the
 * VIP's own phase of the period. The VIPs of one takeover (thousands at once) would otherwise come back
 * together every period, one spike of frames and CPU; by phase they spread evenly over the whole period,
 * and the VIPs of one phase (REFRESH_PHASE_MS apart) share one tick: at most one wake-up a second for any
 * number of VIPs. The first refresh comes within one period of `afterMs`, each later one one period after
 * the one before. Pure.
 */
export function nextRefreshAt(afterMs: number, refreshMs: number, ip: string): number {
  const phases = Math.max(1, Math.floor(refreshMs / REFRESH_PHASE_MS));
  const phaseMs = (ipHash(ip) % phases) * (refreshMs / phases);
  const ahead = (((phaseMs - afterMs) % refreshMs) + refreshMs) % refreshMs;
  return afterMs + (ahead === 0 ? refreshMs : ahead);
}

/** FNV-1a over the address text: a stable spread of VIPs over the phases. */
function ipHash(ip: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ip.length; i++) h = Math.imul(h ^ ip.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface Schedule {
  interfaces: readonly string[];
  /** Bumped on every (re)schedule: queued steps of an older generation are ignored. */
  gen: number;
  /** Time the burst started (refreshOnly: when the refresh started). */
  origin: number;
}

/** Next step of a schedule: an index into burstMs, or -1 for a refresh. */
interface Step {
  ip: string;
  gen: number;
  step: number;
}

export class Announcer {
  private readonly schedules = new Map<string, Schedule>();
  private readonly due = new DueQueue<Step>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private gen = 0;
  private readonly maxPerTick: number;
  /** First frames announce() may still send in this turn of the event loop. */
  private immediateLeft: number;
  private immediateReset: NodeJS.Immediate | undefined;

  constructor(private readonly options: AnnouncerOptions) {
    this.maxPerTick = options.maxPerTick ?? 500;
    this.immediateLeft = this.maxPerTick;
  }

  /**
   * Starts (or restarts) the burst for `ip` on `interfaces`; the first frame goes out now, or, past
   * `maxPerTick` first frames in this turn of the event loop (a round taking thousands of VIPs over, the
   * re-announcement after a stall), on the next ticks, `maxPerTick` at a time.
   */
  announce(ip: string, interfaces: readonly string[]): void {
    const now = Date.now();
    const schedule: Schedule = { interfaces, gen: ++this.gen, origin: now };
    this.schedules.set(ip, schedule);
    const first = this.options.burstMs[0];
    if (first === 0 && this.takeImmediate()) {
      this.fire(ip, 'burst');
      this.queueNext(ip, schedule, 1, now);
    } else this.push(now + (first ?? 0), { ip, gen: schedule.gen, step: 0 });
  }

  /** Only the periodic refresh, no burst (for state adopted from a previous process). */
  refreshOnly(ip: string, interfaces: readonly string[]): void {
    this.schedules.delete(ip);
    if (this.options.refreshMs <= 0) return;
    const schedule: Schedule = { interfaces, gen: ++this.gen, origin: Date.now() };
    this.schedules.set(ip, schedule);
    this.push(nextRefreshAt(schedule.origin, this.options.refreshMs, ip), {
      ip,
      gen: schedule.gen,
      step: -1,
    });
  }

  cancel(ip: string): void {
    this.schedules.delete(ip);
  }

  has(ip: string): boolean {
    return this.schedules.has(ip);
  }

  announcing(): string[] {
    return [...this.schedules.keys()];
  }

  stop(): void {
    if (this.immediateReset) clearImmediate(this.immediateReset);
    this.immediateReset = undefined;
    this.schedules.clear();
    this.due.clear();
    this.disarm();
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /**
   * Queues the first burst step after `step - 1` that is still ahead (a late tick sends one frame, not
   * every step it missed), or the first refresh after the burst.
   */
  private queueNext(ip: string, schedule: Schedule, step: number, now: number): void {
    const burst = this.options.burstMs;
    let next = step;
    while (next < burst.length && schedule.origin + (burst[next] ?? 0) <= now) next++;
    if (next < burst.length) {
      this.push(schedule.origin + (burst[next] ?? 0), { ip, gen: schedule.gen, step: next });
    } else if (this.options.refreshMs > 0) {
      const at = nextRefreshAt(schedule.origin + (burst.at(-1) ?? 0), this.options.refreshMs, ip);
      this.push(Math.max(at, now + 1), { ip, gen: schedule.gen, step: -1 });
    }
  }

  private takeImmediate(): boolean {
    if (this.immediateLeft <= 0) return false;
    this.immediateLeft--;
    this.immediateReset ??= setImmediate(() => {
      this.immediateReset = undefined;
      this.immediateLeft = this.maxPerTick;
    });
    return true;
  }

  private push(at: number, step: Step): void {
    this.due.add(at, step);
    this.arm();
  }

  private arm(): void {
    const next = this.due.nextAt();
    if (next === undefined || next >= this.timerAt) return;
    this.disarm();
    this.timerAt = next;
    const wait = next - Date.now();
    // Already due (a backlog larger than one tick): an immediate, so I/O and the other timers run first.
    // A 0 ms timer would not do: a timer due when the timers phase ends runs in the same phase, so the
    // backlog would run tick after tick with nothing in between. Not unref'd: an unref'd immediate does
    // not keep the loop from blocking in its poll phase.
    if (wait <= 0) {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.tick();
      });
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.tick();
      }, wait).unref();
    }
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private tick(): void {
    this.disarm();
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (const { ip, gen, step } of this.due.takeDue(now, this.maxPerTick)) {
      const schedule = this.schedules.get(ip);
      if (!schedule || schedule.gen !== gen) continue;
      if (step >= 0) {
        // A first frame that waited for its turn (announce() past its budget): the burst counts from it.
        if (step === 0 && this.options.burstMs[0] === 0) schedule.origin = now;
        this.fire(ip, 'burst');
        this.queueNext(ip, schedule, step + 1, now);
      } else {
        this.fire(ip, 'refresh');
        this.push(nextRefreshAt(now, this.options.refreshMs, ip), { ip, gen, step: -1 });
      }
    }
    this.arm();
  }

  private fire(ip: string, phase: 'burst' | 'refresh'): void {
    const schedule = this.schedules.get(ip);
    if (!schedule) return;
    try {
      this.options.send(ip, schedule.interfaces, phase);
    } catch (error) {
      this.options.onError?.(ip, error);
    }
  }
}

/**
 * Schedules the gratuitous announcements of the VIPs this node owns: a burst right after a takeover (the
 * first frame at once; repeats cover a lost frame and switches that were slow to learn), then a periodic
 * refresh so a client that missed everything still converges. Sending is injected so the schedule is
 * testable with fake timers and the data path stays at the edge.
 */
export interface AnnouncerOptions {
  /** Delays after takeover, in ms, for the burst; the first should be 0. */
  burstMs: readonly number[];
  /** Period of the refresh after the burst; 0 disables it. */
  refreshMs: number;
  /** `burst` for the frames right after a change, `refresh` for the periodic ones. */
  send: (ip: string, interfaces: readonly string[], phase: 'burst' | 'refresh') => void;
  onError?: (ip: string, error: unknown) => void;
}

export const DEFAULT_BURST_MS = [0, 100, 300, 700, 1500, 3000] as const;
export const DEFAULT_REFRESH_MS = 30_000;

interface Schedule {
  interfaces: readonly string[];
  timers: NodeJS.Timeout[];
}

export class Announcer {
  private readonly schedules = new Map<string, Schedule>();

  constructor(private readonly options: AnnouncerOptions) {}

  /** Starts (or restarts) the burst for `ip` on `interfaces`. */
  announce(ip: string, interfaces: readonly string[]): void {
    this.cancel(ip);
    const schedule: Schedule = { interfaces, timers: [] };
    this.schedules.set(ip, schedule);
    for (const delay of this.options.burstMs) {
      if (delay === 0) this.fire(ip, 'burst');
      else schedule.timers.push(setTimeout(() => this.fire(ip, 'burst'), delay).unref());
    }
    if (this.options.refreshMs > 0) {
      const last = this.options.burstMs.at(-1) ?? 0;
      const refresh = setTimeout(() => {
        const interval = setInterval(() => this.fire(ip, 'refresh'), this.options.refreshMs).unref();
        schedule.timers.push(interval);
        this.fire(ip, 'refresh');
      }, last + this.options.refreshMs).unref();
      schedule.timers.push(refresh);
    }
  }

  /** Only the periodic refresh, no burst (for state adopted from a previous process). */
  refreshOnly(ip: string, interfaces: readonly string[]): void {
    this.cancel(ip);
    if (this.options.refreshMs <= 0) return;
    const schedule: Schedule = { interfaces, timers: [] };
    this.schedules.set(ip, schedule);
    schedule.timers.push(setInterval(() => this.fire(ip, 'refresh'), this.options.refreshMs).unref());
  }

  cancel(ip: string): void {
    const schedule = this.schedules.get(ip);
    if (!schedule) return;
    for (const timer of schedule.timers) clearTimeout(timer);
    this.schedules.delete(ip);
  }

  has(ip: string): boolean {
    return this.schedules.has(ip);
  }

  announcing(): string[] {
    return [...this.schedules.keys()];
  }

  stop(): void {
    for (const ip of [...this.schedules.keys()]) this.cancel(ip);
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

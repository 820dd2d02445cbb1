import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';

export interface LinkMonitorOptions {
  /** Called (debounced) after the kernel reported link or address changes. */
  onChange: () => void;
  /** Changes come in bursts (a veth pair: links, addresses, up): one call after the burst. */
  debounceMs?: number;
  /** The command that prints one line per change (default `ip -o monitor link address`). */
  command?: readonly [string, ...string[]];
}

/**
 * Tells the speaker at once when interfaces or addresses change, from `ip monitor` (netlink, in the
 * speaker's network namespace), so a new interface is attached in well under the 5 s resync. Best
 * effort: if `ip` is missing or exits, the resync still picks every change up.
 */
export class LinkMonitor {
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: LinkMonitorOptions) {}

  start(): void {
    const [cmd, ...args] = this.opts.command ?? ['ip', '-o', 'monitor', 'link', 'address'];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    child.once('error', () => undefined);
    child.stdout?.on('data', () => this.changed());
    // Never what keeps the process alive.
    child.unref();
    (child.stdout as Socket | null)?.unref();
    this.child = child;
  }

  /** Whether the monitor process runs. */
  running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null && c.pid !== undefined;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.running()) this.child?.kill('SIGTERM');
  }

  private changed(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.opts.onChange();
    }, this.opts.debounceMs ?? 200);
  }
}

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
  private partial = '';

  constructor(private readonly opts: LinkMonitorOptions) {}

  start(): void {
    const [cmd, ...args] = this.opts.command ?? ['ip', '-o', 'monitor', 'link', 'address'];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    child.once('error', () => undefined);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.lines(chunk));
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

  private lines(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    // Bounded: one endless line must not grow the buffer (it is judged when it ends, as a change).
    if (this.partial.length > MAX_LINE) this.partial = this.partial.slice(-MAX_LINE);
    if (lines.some(changeMatters)) this.changed();
  }

  private changed(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.opts.onChange();
    }, this.opts.debounceMs ?? 200);
  }
}

const MAX_LINE = 4096;

/**
 * Whether a line of `ip -o monitor link address` can change what the speaker scans (speaker/
 * local-interfaces.ts): not an address with a host prefix (/32, /128: never a LAN, and what holding
 * 10,000 VIPs on lo adds one line each for), nor anything about loopback. Pure.
 */
export function changeMatters(line: string): boolean {
  const m = /^(?:Deleted\s+)?\d+:\s+([^\s:@]+)(?:@[^\s:]*)?(:?)\s+(\S+)\s+(\S+)/.exec(line);
  if (!m) return line.trim() !== '';
  const [, name, colon, kind, cidr] = m;
  if (name === 'lo') return false;
  if (colon === ':') return true;
  if (kind === 'inet') return !cidr?.endsWith('/32');
  if (kind === 'inet6') return !cidr?.endsWith('/128');
  return true;
}

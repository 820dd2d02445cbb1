import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalIp } from '../config/index.js';
import { hostPrefix, planHostAddresses, planSysctls, HOST_SYSCTLS } from './plan.js';

export interface HostVipsOptions {
  /** Interface that holds the VIPs (default lo). */
  interface: string;
  /** JSON file recording the addresses Herald added (so a restart or --cleanup removes only those). */
  statePath: string;
  /** Runs `ip` with these arguments and `input` on its stdin; rejects with its stderr (tests may replace it). */
  ip?: (args: string[], input?: string) => Promise<string>;
  /**
   * Reads the interface's addresses without a process (the speaker passes the addon's rtnetlink read);
   * default: `ip -j address show`. At 10,000 VIPs every `ip` run forks the whole speaker on its main
   * thread (3 s of a start-up's event loop in bench/scale) and prints a megabyte of JSON.
   */
  addresses?: (ifname: string) => ReadonlyArray<{ address: string; prefixLength: number }>;
  sysctlRoot?: string;
  /**
   * How often an unchanged wanted set is checked against the interface again (an address someone removed
   * is put back); in between, an unchanged set costs nothing (no `ip` process every resync).
   */
  verifyIntervalMs?: number;
}

const DEFAULT_VERIFY_INTERVAL_MS = 60_000;

interface State {
  interface: string;
  addresses: string[];
}

/** One `ip` process; its stdin takes `input` (a batch script). Rejects with its stderr on failure. */
function runIp(args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', args, { encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(Object.assign(error, { stderr })) : resolve(stdout),
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/**
 * Holds the VIPs this node serves on a host interface, so its kernel accepts their traffic, and removes
 * them when it stops serving. Records what it added in a state file next to the status socket (under
 * /run: gone after a reboot, like the addresses themselves). Calls are serialized; the latest wanted
 * set wins.
 */
export class HostVips {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly ip: (args: string[], input?: string) => Promise<string>;
  private verified?: { want: string; at: number };

  constructor(private readonly options: HostVipsOptions) {
    this.ip = options.ip ?? runIp;
  }

  /** Sets the ARP sysctls (only raising them); returns the ones it changed. */
  prepare(): Array<readonly [string, string]> {
    const root = this.options.sysctlRoot ?? '/proc/sys';
    const current = new Map<string, string | undefined>();
    for (const [key] of HOST_SYSCTLS) {
      try {
        current.set(key, readFileSync(join(root, key), 'utf8').trim());
      } catch {
        current.set(key, undefined);
      }
    }
    const changes = planSysctls(current);
    for (const [key, value] of changes) {
      try {
        writeFileSync(join(root, key), value);
      } catch (error) {
        const sysctl = key.replaceAll('/', '.');
        throw new Error(
          `cannot set ${sysctl}=${value} for the VIPs held on ${this.options.interface} ` +
            `(${error instanceof Error ? error.message : String(error)}): set it on the host ` +
            `(sysctl -w ${sysctl}=${value}) or let something else hold the VIPs (--no-host-vips)`,
        );
      }
    }
    return changes;
  }

  /** Makes the interface hold exactly `want` among the addresses Herald manages. */
  sync(want: ReadonlySet<string>): Promise<{ added: string[]; removed: string[] }> {
    const run = this.chain.then(() => this.syncNow(want));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Removes every address Herald added (uninstall, --cleanup). */
  cleanup(): Promise<{ added: string[]; removed: string[] }> {
    const run = this.chain.then(async () => {
      this.verified = undefined;
      const result = await this.syncNow(new Set());
      rmSync(this.options.statePath, { force: true });
      return result;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async syncNow(want: ReadonlySet<string>): Promise<{ added: string[]; removed: string[] }> {
    const key = [...want].sort().join();
    const interval = this.options.verifyIntervalMs ?? DEFAULT_VERIFY_INTERVAL_MS;
    if (this.verified?.want === key && Date.now() - this.verified.at < interval)
      return { added: [], removed: [] };
    this.verified = undefined;
    const dev = this.options.interface;
    const present = await this.present();
    const plan = planHostAddresses(
      new Set([...want].map((ip) => canonicalIp(ip) ?? ip)),
      present,
      this.ours(),
    );
    // One `ip -batch` for the whole change: a process per address blocks the event loop for seconds at
    // thousands of VIPs (every spawn forks on the main thread). What took is read back from the kernel.
    const lines = [
      ...plan.add.map(
        // IPv6 VIPs are deprecated at once, so the host never picks one as the source of its own traffic.
        (ip) => `address add ${hostPrefix(ip)} dev ${dev}${ip.includes(':') ? ' preferred_lft 0 nodad' : ''}`,
      ),
      ...plan.remove.map((ip) => `address del ${hostPrefix(ip)} dev ${dev}`),
    ];
    let failure: string | undefined;
    if (lines.length > 0)
      await this.ip(['-force', '-batch', '-'], `${lines.join('\n')}\n`).catch((e: unknown) => {
        failure = message(e);
      });
    const after = lines.length > 0 ? await this.present() : present;
    const added = plan.add.filter((ip) => after.has(ip));
    const removed = plan.remove.filter((ip) => !after.has(ip));
    const failedAdds = new Set(plan.add.filter((ip) => !after.has(ip)));
    const failedRemoves = plan.remove.filter((ip) => after.has(ip));
    const errors = [
      ...[...failedAdds].map((ip) => `add ${ip} failed`),
      ...failedRemoves.map((ip) => `remove ${ip} failed`),
    ];
    if (errors.length > 0 && failure) errors.push(failure);
    this.record([...plan.ours.filter((ip) => !failedAdds.has(ip)), ...failedRemoves]);
    if (errors.length > 0) throw new Error(`on ${dev}: ${errors.join('; ')}`);
    this.verified = { want: key, at: Date.now() };
    return { added, removed };
  }

  private async present(): Promise<Set<string>> {
    const read = this.options.addresses;
    if (read) {
      const set = new Set<string>();
      for (const a of read(this.options.interface))
        if (a.prefixLength === (a.address.includes(':') ? 128 : 32))
          set.add(canonicalIp(a.address) ?? a.address);
      return set;
    }
    const out = await this.ip(['-j', 'address', 'show', 'dev', this.options.interface]);
    const links = JSON.parse(out || '[]') as Array<{
      addr_info?: Array<{ local?: string; prefixlen?: number }>;
    }>;
    const set = new Set<string>();
    for (const link of links) {
      for (const a of link.addr_info ?? []) {
        if (a.local && a.prefixlen === (a.local.includes(':') ? 128 : 32))
          set.add(canonicalIp(a.local) ?? a.local);
      }
    }
    return set;
  }

  private ours(): Set<string> {
    try {
      const state = JSON.parse(readFileSync(this.options.statePath, 'utf8')) as Partial<State>;
      if (state.interface !== this.options.interface || !Array.isArray(state.addresses)) return new Set();
      return new Set(state.addresses.filter((a): a is string => typeof a === 'string'));
    } catch {
      return new Set();
    }
  }

  private record(addresses: string[]): void {
    mkdirSync(dirname(this.options.statePath), { recursive: true });
    const body: State = { interface: this.options.interface, addresses: [...new Set(addresses)].sort() };
    const tmp = `${this.options.statePath}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(body)}\n`);
    renameSync(tmp, this.options.statePath);
  }
}

function message(e: unknown): string {
  const stderr = (e as { stderr?: string }).stderr;
  return (stderr ?? (e instanceof Error ? e.message : String(e))).trim();
}

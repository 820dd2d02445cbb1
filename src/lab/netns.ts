import { type ChildProcess, execFile, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
let vethCounter = 0;

/** Live LANs, torn down on SIGINT/SIGTERM too (Node's default handling of those skips 'exit' hooks). */
const liveLans = new Set<VirtualLan>();
let signalsHooked = false;
const selfHandled = new Set<NodeJS.Signals>();

/** The caller handles `signal` itself and tears its LANs down (herald lab --keep waits for Ctrl-C). */
export function handleSignalYourself(signal: NodeJS.Signals): void {
  selfHandled.add(signal);
}
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      if (selfHandled.has(signal)) {
        process.once(signal, handler);
        return;
      }
      for (const lan of liveLans) lan.destroyNow();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    };
    process.once(signal, handler);
  }
}

/**
 * A throwaway virtual LAN (used by `herald lab` and the tests): network namespaces named `hrl-<tag>-...`, joined by veth pairs or a
 * bridge. Every namespace and process it creates is removed by `destroy()`, which is also registered on
 * process exit so a failing test does not leak namespaces.
 */
export class VirtualLan {
  readonly namespaces: string[] = [];
  private readonly processes: ChildProcess[] = [];
  private destroyed = false;
  private readonly exitHook = () => this.destroySync();

  constructor(readonly tag: string) {
    if (!/^[a-z0-9]{1,6}$/.test(tag)) throw new Error(`VirtualLan tag must be 1-6 [a-z0-9], got ${tag}`);
    process.once('exit', this.exitHook);
    liveLans.add(this);
    hookSignals();
  }

  nsName(short: string): string {
    return `${namespacePrefix()}${this.tag}-${short}`;
  }

  /** Creates namespace hrl-<tag>-<short> with loopback up; removes a stale one of the same name first. */
  async createNamespace(short: string): Promise<string> {
    const ns = this.nsName(short);
    await execFileAsync('ip', ['netns', 'del', ns]).catch(() => undefined);
    await execFileAsync('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await this.ip(ns, 'link', 'set', 'lo', 'up');
    return ns;
  }

  /** `ip` inside a namespace. */
  async ip(ns: string, ...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync('ip', ['-n', ns, ...args]);
    return stdout;
  }

  /** Runs a command inside the namespace (nsenter keeps /sys/fs/bpf visible, unlike `ip netns exec`). */
  async exec(
    ns: string,
    cmd: string,
    args: string[],
    timeoutMs = 30_000,
  ): Promise<{ stdout: string; stderr: string }> {
    return execFileAsync('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], {
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
  }

  /** Like exec, but resolves with the exit code instead of throwing on a non-zero one. */
  async run(
    ns: string,
    cmd: string,
    args: string[],
    timeoutMs = 30_000,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await this.exec(ns, cmd, args, timeoutMs);
      return { code: 0, ...r };
    } catch (error) {
      const e = error as { code?: number | string; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : -1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      };
    }
  }

  /** Starts a long-running process in the namespace; it is killed by destroy(). */
  spawn(ns: string, cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { stdio: 'pipe', ...options });
    this.processes.push(child);
    return child;
  }

  /** A veth pair between two namespaces, both ends up, with optional addresses (CIDR notation). */
  async link(
    a: { ns: string; ifname: string; addrs?: string[] },
    b: { ns: string; ifname: string; addrs?: string[] },
  ): Promise<void> {
    const id = `${process.pid % 100000}x${vethCounter++}`;
    const tmpA = `hrl${id}a`;
    const tmpB = `hrl${id}b`;
    await execFileAsync('ip', ['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    await execFileAsync('ip', ['link', 'set', tmpA, 'netns', a.ns, 'name', a.ifname]);
    await execFileAsync('ip', ['link', 'set', tmpB, 'netns', b.ns, 'name', b.ifname]);
    for (const end of [a, b]) {
      for (const addr of end.addrs ?? [])
        await this.ip(end.ns, 'addr', 'add', addr, 'dev', end.ifname, ...nodad(addr));
      await this.ip(end.ns, 'link', 'set', end.ifname, 'up');
    }
  }

  /** A bridge `br0` living in namespace `hub`, with one veth port per member namespace. */
  async bridge(hub: string, members: { ns: string; ifname: string; addrs?: string[] }[]): Promise<void> {
    await this.ip(hub, 'link', 'add', 'br0', 'type', 'bridge');
    await this.ip(hub, 'link', 'set', 'br0', 'up');
    let i = 0;
    for (const m of members) {
      const port = `p${i++}`;
      await this.link({ ns: hub, ifname: port }, m);
      await this.ip(hub, 'link', 'set', port, 'master', 'br0');
    }
  }

  async destroy(): Promise<void> {
    this.destroySync();
  }

  /** Synchronous teardown, for signal and exit paths. */
  destroyNow(): void {
    this.destroySync();
  }

  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveLans.delete(this);
    process.removeListener('exit', this.exitHook);
    for (const p of this.processes) {
      if (p.exitCode === null && p.signalCode === null) {
        try {
          p.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const ns of this.namespaces) {
      // Kill whatever still runs inside (daemons that daemonized themselves), then delete the namespace.
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns]).toString().split(/\s+/).filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // raced with exit
          }
        }
      } catch {
        // namespace already gone
      }
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}

/**
 * `hrl-` plus HERALD_NS_PREFIX when set: lets several checkouts run the same namespace tests at once on one
 * machine without deleting each other's namespaces (every name still starts with `hrl-`).
 */
export function namespacePrefix(): string {
  const extra = process.env.HERALD_NS_PREFIX ?? '';
  if (!/^[a-z0-9]{0,3}$/.test(extra)) throw new Error(`HERALD_NS_PREFIX must be 0-3 [a-z0-9], got ${extra}`);
  return `hrl-${extra}`;
}

function nodad(addr: string): string[] {
  return addr.includes(':') ? ['nodad'] : [];
}

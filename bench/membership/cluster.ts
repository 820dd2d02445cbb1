/**
 * Process harness shared by the membership benchmark and the multi-process fault tests: spawns Herald
 * agents (dist/src/cli/tools/member-agent.js) or HashiCorp memberlist peers (bench/membership/go, built
 * offline at run time), reads their JSON-line events and waits for conditions with deadlines.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/util/paths.js';

const execFileAsync = promisify(execFile);

export interface PeerEvent {
  t: number;
  ev: string;
  node?: string;
  [k: string]: unknown;
}

/** Starts a process: plain spawn on the host, or TestLan.spawn inside a namespace. */
export type Spawner = (cmd: string, args: string[]) => ChildProcess;

export const hostSpawner: Spawner = (cmd, args) => spawn(cmd, args, { stdio: 'pipe' });

export class Peer {
  readonly events: PeerEvent[] = [];
  private readonly waiters = new Set<() => void>();
  stderr = '';
  private closed = false;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        try {
          const e = JSON.parse(line) as PeerEvent;
          this.events.push(e);
          for (const w of [...this.waiters]) w();
        } catch {
          // not an event line
        }
      });
    }
    child.stderr?.on('data', (d: Buffer) => {
      if (this.stderr.length < 20_000) this.stderr += d.toString();
    });
    // 'close' comes after stdio is drained, so stderr is complete when waiters learn of the exit.
    child.once('close', () => {
      this.closed = true;
      for (const w of [...this.waiters]) w();
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`peer ${this.name} has no pid`);
    return this.child.pid;
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first event (already seen or future) matching pred; rejects after timeoutMs. */
  waitFor(pred: (e: PeerEvent) => boolean, timeoutMs: number, what = 'event', since = 0): Promise<PeerEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.events.slice(since).find(pred);
        if (hit) {
          cleanup();
          resolve(hit);
          return true;
        }
        if (!this.alive() && this.closed) {
          cleanup();
          reject(new Error(`peer ${this.name} exited while waiting for ${what}: ${this.stderr.slice(-500)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`peer ${this.name}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = (): void => void check();
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Herald agents only: a stdin command (members, stats, leave, meta X, broadcast X, exit). */
  send(cmd: string): void {
    this.child.stdin?.write(`${cmd}\n`);
  }

  /** Sends a command and waits for the reply event of the given kind. */
  async ask(cmd: string, ev: string, timeoutMs = 5000): Promise<PeerEvent> {
    const since = this.events.length;
    this.send(cmd);
    return this.waitFor((e) => e.ev === ev, timeoutMs, `${ev} reply`, since);
  }

  kill(sig: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive()) process.kill(this.pid, sig);
  }

  async exited(timeoutMs = 5000): Promise<void> {
    if (!this.alive()) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Latest state this peer reported for `node` through its events (join/alive → alive). */
  lastView(node: string): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.node !== node) continue;
      if (e.ev === 'join' || e.ev === 'alive') return 'alive';
      if (e.ev === 'suspect' || e.ev === 'dead' || e.ev === 'leave') return e.ev;
    }
    return undefined;
  }
}

export interface HeraldPeerOptions {
  name: string;
  bind: string;
  port: number;
  join?: string[];
  profile?: string;
  keys?: string[];
  extra?: string[];
  /** Flags for node itself (e.g. --cpu-prof), before the script. */
  nodeFlags?: string[];
  spawner?: Spawner;
}

export function agentPath(): string {
  return join(projectRoot(), 'dist', 'src', 'cli', 'tools', 'member-agent.js');
}

export function spawnHerald(o: HeraldPeerOptions): Peer {
  const args = [
    ...(o.nodeFlags ?? []),
    agentPath(),
    '--name',
    o.name,
    '--bind',
    `${o.bind}:${o.port}`,
    '--profile',
    o.profile ?? 'fast-lan',
  ];
  for (const j of o.join ?? []) args.push('--join', j);
  for (const k of o.keys ?? []) args.push('--key', k);
  args.push(...(o.extra ?? []));
  return new Peer(o.name, o.port, (o.spawner ?? hostSpawner)(process.execPath, args));
}

export interface GoPeerOptions {
  binary: string;
  name: string;
  bind: string;
  port: number;
  join?: string[];
  spawner?: Spawner;
  /** More flags (timers, see go/main.go). */
  extra?: string[];
}

export function spawnGoPeer(o: GoPeerOptions): Peer {
  const args = ['-name', o.name, '-bind', o.bind, '-port', String(o.port), ...(o.extra ?? [])];
  if (o.join && o.join.length > 0) args.push('-join', o.join.join(','));
  return new Peer(o.name, o.port, (o.spawner ?? hostSpawner)(o.binary, args));
}

/** Builds the Go memberlist peer offline from Debian's GOPATH into a temp dir; call cleanup() after. */
export async function buildGoPeer(): Promise<{ binary: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-mlpeer-'));
  const binary = join(dir, 'mlpeer');
  try {
    await execFileAsync('go', ['build', '-o', binary, '.'], {
      cwd: join(projectRoot(), 'bench', 'membership', 'go'),
      env: {
        ...process.env,
        GO111MODULE: 'off',
        GOPATH: '/usr/share/gocode',
        GOPROXY: 'off',
        GOFLAGS: '',
        GOCACHE: join(dir, 'gocache'),
      },
      timeout: 300_000,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const e = error as { stderr?: string; message: string };
    throw new Error(`building the Go memberlist peer failed: ${e.stderr ?? e.message}`);
  }
  return { binary, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Waits until every peer in `peers` has seen every other one join (and not die since). */
export async function waitConverged(peers: Peer[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lagging = peers.filter((p) => peers.some((q) => q !== p && p.lastView(q.name) !== 'alive'));
    if (lagging.length === 0) return;
    if (Date.now() > deadline) {
      const p = lagging[0]!;
      const q = peers.find((x) => x !== p && p.lastView(x.name) !== 'alive')!;
      throw new Error(
        `membership did not converge within ${timeoutMs} ms: ${lagging.length} peers lag, ` +
          `e.g. ${p.name} sees ${q.name} as ${p.lastView(q.name) ?? 'unknown'}`,
      );
    }
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Total CPU time (user + system) of a process in seconds, from /proc. */
export async function cpuSeconds(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx]!;
}

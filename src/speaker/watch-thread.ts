import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { kernelMonotonicNs } from '../datapath/responder.js';
import type { GateTiming } from '../l2/gate.js';
import type { OwnerWatchEvents } from '../l2/watch/driver.js';
import type { PeerReadiness, WatchVerdict } from '../l2/watch/peer.js';
import type { WatchTargets } from '../l2/watch/targets.js';
import type { ArmedTakeovers } from '../l2/watch/takeover.js';
import type { OwnerWatchPart } from './parts.js';
import type { PriorityOutcome } from '../util/thread-priority.js';
import { workerEnv } from '../util/compile-cache.js';
import { recordLoopDelay } from '../metrics/loop-delay.js';

/** What the pulse thread needs to run the owner watch (structured-cloned into it). */
export interface WatchWorkerData {
  timing: GateTiming;
  detectMult: number;
  capMs: number;
  family: 4 | 6;
  host: string;
  /** The watch's own UDP port (gossip port + 1), and the default for peers not named in a target. */
  port: number;
  pinDir: string;
  /** The control loop's last tick (kernel monotonic ms), written by this thread, read by the pulse. */
  stamp: SharedArrayBuffer;
  controlLoopStallMs: number;
  /** The pulse thread's nice value (below 0 needs CAP_SYS_NICE; without it, it stays at the default). */
  nice: number;
}

export type ToWatchWorker =
  | { type: 'init'; data: WatchWorkerData }
  | { type: 'start' }
  | { type: 'ready' }
  | { type: 'applied' }
  | {
      type: 'targets';
      watching: string[];
      watchedBy: string[];
      peers: Array<[string, { address: string; port: number }]>;
      gone: string[];
    }
  | { type: 'holding'; peers: string[]; seen: number }
  | { type: 'armed'; byOwner: ArmedTakeovers }
  | { type: 'stop'; adminDown: boolean };

export type FromWatchWorker =
  | { type: 'listening'; priority: PriorityOutcome }
  | { type: 'failed'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'stopped' }
  | { type: 'verdict'; event: OwnerWatchEvents['verdict'][0] }
  | { type: 'stale'; event: OwnerWatchEvents['stale'][0] }
  | { type: 'refreshed'; event: OwnerWatchEvents['refreshed'][0] }
  | { type: 'overdue'; event: OwnerWatchEvents['overdue'][0] }
  | { type: 'readiness'; event: OwnerWatchEvents['readiness'][0] };

/** A pulse thread started early (WatchThread.prepare), loading its modules until open() sends its settings. */
export class PreparedWatchThread {
  private state: 'prepared' | 'opened' | 'cancelled' = 'prepared';

  constructor(private readonly worker: Worker) {}

  /** The thread, for open() (once). */
  claim(): Worker {
    if (this.state !== 'prepared') throw new Error(`owner watch thread: already ${this.state}`);
    this.state = 'opened';
    return this.worker;
  }

  /** Stops the thread unless open() took it (a start that failed before the watch opened). */
  async cancel(): Promise<void> {
    if (this.state !== 'prepared') return;
    this.state = 'cancelled';
    await this.worker.terminate();
  }
}

export interface WatchThreadOptions extends Omit<WatchWorkerData, 'stamp'> {
  peerPort: (peer: string) => number;
  /** The pulse thread died: this node can no longer keep its gate open or be watched. */
  onFailure: (error: Error) => void;
  /** The control loop ticked `gapMs` after its previous tick, STALL_REPORT_MS or more late (diagnostics). */
  onStall?: (gapMs: number) => void;
  /** Something the pulse thread could not do, that it survives (a takeover write or announcement). */
  onWarning?: (message: string) => void;
}

/** Control-loop ticks this much later than due are reported (onStall): well above timer jitter, below C. */
export const STALL_REPORT_MS = 100;

/**
 * How often the control loop stamps the shared clock: a tenth of the stall limit, at least one heartbeat.
 * The pulse thread only asks whether the last stamp is younger than the limit, so stamping less often never
 * detects a freeze later (at most one interval earlier); at 1 s that is 10 wake-ups a second, not 50.
 * The cost of a longer interval is the tolerance: a loop held up for longer than the limit minus one
 * interval counts as frozen. With no watch pair (`paired` false: nobody would take this node's VIPs over,
 * nobody it would take over from) such a false freeze silences only VIPs no other node may answer, for a
 * moment, and moves nothing: the stamp then comes every quarter of the limit (4 wake-ups a second at 1 s).
 */
export function stampIntervalMs(heartbeatMs: number, controlLoopStallMs: number, paired = true): number {
  return Math.max(heartbeatMs, Math.floor(controlLoopStallMs / (paired ? 10 : 4)));
}

const STOP_TIMEOUT_MS = 1000;

/**
 * The owner watch and the heartbeat it drives, on a thread of their own (watch-worker.ts): a busy
 * control loop (a gossip flood, a large reload, a decision round over thousands of VIPs) delays neither
 * the watch packets nor the gate. The control loop stamps a shared clock every pulse; silent for longer
 * than `controlLoopStallMs`, the pulse thread behaves as a frozen speaker (no packets, no heartbeat), so
 * the successors take over and decisions this node can no longer make are never left answering.
 */
export class WatchThread extends EventEmitter<OwnerWatchEvents> implements OwnerWatchPart {
  private readonly verdicts = new Map<string, WatchVerdict>();
  private readonly readinessOf = new Map<string, PeerReadiness>();
  private appliedSent = false;
  private seen = 0;
  private isFresh = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastTickMs: number | undefined;
  /** Whether the last targets held a watch pair (the stamp interval follows, see stampIntervalMs). */
  private paired = true;
  /** What came of setting the pulse thread's priority. */
  priority: PriorityOutcome = { error: 'not started' };

  private constructor(
    private readonly worker: Worker,
    private readonly stamp: Float64Array,
    private readonly opts: WatchThreadOptions,
  ) {
    super();
    worker.on('message', (m: FromWatchWorker) => this.onMessage(m));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`owner watch thread exited (code ${code})`)));
  }

  /**
   * Starts the thread before its settings are known (the gossip port, the pinned heartbeat map): it loads
   * its modules meanwhile, off the critical path of a start. open() hands it the settings.
   */
  static prepare(): PreparedWatchThread {
    const worker = new Worker(new URL('./watch-worker.js', import.meta.url), {
      execArgv: [],
      env: workerEnv(),
    });
    // An early failure is reported by open(); until then nobody listens.
    worker.on('error', () => undefined);
    return new PreparedWatchThread(worker);
  }

  /** Starts the thread (or a prepared one); resolves once its socket is bound (a port in use rejects here). */
  static async open(opts: WatchThreadOptions, prepared = WatchThread.prepare()): Promise<WatchThread> {
    const worker = prepared.claim();
    const buffer = new SharedArrayBuffer(8);
    const {
      peerPort: _peerPort,
      onFailure: _onFailure,
      onStall: _onStall,
      onWarning: _onWarning,
      ...data
    } = opts;
    const workerData: WatchWorkerData = { ...data, stamp: buffer };
    let priority: PriorityOutcome = { error: 'not reported' };
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromWatchWorker) => {
        if (m.type === 'listening') {
          priority = m.priority;
          done();
        } else if (m.type === 'failed') done(new Error(m.message));
      };
      const onError = (error: Error) => done(error);
      const onExit = (code: number) => done(new Error(`owner watch thread exited (code ${code})`));
      const done = (error?: Error) => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (error) {
          void worker.terminate();
          reject(error);
        } else resolve();
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      if (worker.threadId === -1) onExit(1);
      else worker.postMessage({ type: 'init', data: workerData } satisfies ToWatchWorker);
    });
    const thread = new WatchThread(worker, new Float64Array(buffer), opts);
    thread.priority = priority;
    return thread;
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.stampEveryMs());
    this.post({ type: 'start' });
  }

  /** Stamps at once and goes on at the interval for `paired` (a pair appearing shortens it at once). */
  private setPaired(paired: boolean): void {
    if (paired === this.paired) return;
    if (this.timer === undefined || this.stopped) {
      this.paired = paired;
      return;
    }
    this.tick();
    this.paired = paired;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), this.stampEveryMs());
  }

  setReady(): void {
    this.post({ type: 'ready' });
  }

  applied(): void {
    if (this.appliedSent) return;
    this.appliedSent = true;
    this.post({ type: 'applied' });
  }

  readiness(peer: string): PeerReadiness {
    return this.readinessOf.get(peer) ?? 'unheard';
  }

  setTargets(
    targets: WatchTargets,
    addresses: ReadonlyMap<string, string>,
    gossipDead: ReadonlySet<string> = new Set(),
  ): void {
    const names = new Set([...targets.watching, ...targets.watchedBy]);
    this.setPaired(names.size > 0);
    const peers: Array<[string, { address: string; port: number }]> = [];
    for (const name of names) {
      const address = addresses.get(name);
      if (address !== undefined) peers.push([name, { address, port: this.opts.peerPort(name) }]);
    }
    this.post({
      type: 'targets',
      watching: [...targets.watching],
      watchedBy: [...targets.watchedBy],
      peers,
      gone: [...gossipDead],
    });
  }

  setHolding(peers: ReadonlySet<string>, seen = this.seen): void {
    this.post({ type: 'holding', peers: [...peers], seen });
  }

  arm(byOwner: ArmedTakeovers): void {
    this.post({ type: 'armed', byOwner });
  }

  verdict(peer: string): WatchVerdict {
    return this.verdicts.get(peer) ?? 'unknown';
  }

  verdictsSeen(): number {
    return this.seen;
  }

  fresh(): boolean {
    return this.isFresh;
  }

  /** Stops the thread; with `adminDown` it shuts the gate and tells the peers first. */
  async stop(opts: { adminDown?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    const acknowledged = new Promise<void>((resolve) => {
      const timeout = setTimeout(resolve, STOP_TIMEOUT_MS);
      this.worker.on('message', (m: FromWatchWorker) => {
        if (m.type !== 'stopped') return;
        clearTimeout(timeout);
        resolve();
      });
    });
    this.post({ type: 'stop', adminDown: opts.adminDown === true });
    await acknowledged;
    await this.worker.terminate();
  }

  private tick(): void {
    const now = Number(kernelMonotonicNs()) / 1e6;
    this.stamp[0] = now;
    const gap = this.lastTickMs === undefined ? 0 : now - this.lastTickMs;
    this.lastTickMs = now;
    if (gap > 0) recordLoopDelay(Math.max(0, gap - this.stampEveryMs()));
    if (gap - this.stampEveryMs() >= STALL_REPORT_MS) this.opts.onStall?.(gap);
  }

  private stampEveryMs(): number {
    return stampIntervalMs(this.opts.timing.heartbeatMs, this.opts.controlLoopStallMs, this.paired);
  }

  private post(message: ToWatchWorker): void {
    if (!this.stopped || message.type === 'stop') this.worker.postMessage(message);
  }

  private onMessage(m: FromWatchWorker): void {
    switch (m.type) {
      case 'verdict':
        this.verdicts.set(m.event.peer, m.event.verdict);
        this.seen = m.event.seq;
        this.emit('verdict', m.event);
        break;
      case 'stale':
        this.isFresh = false;
        this.emit('stale', m.event);
        break;
      case 'refreshed':
        this.isFresh = true;
        this.emit('refreshed', m.event);
        break;
      case 'overdue':
        this.emit('overdue', m.event);
        break;
      case 'readiness':
        this.readinessOf.set(m.event.peer, m.event.readiness);
        this.emit('readiness', m.event);
        break;
      case 'failed':
        this.fail(new Error(m.message));
        break;
      case 'warning':
        this.opts.onWarning?.(m.message);
        break;
      default:
        break;
    }
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.opts.onFailure(error);
  }
}

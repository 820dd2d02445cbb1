/**
 * The owner watch on the wire, and the pulse that drives both it and the liveness gate. Every
 * `intervalMs` the pulse reads the clock, sends one BFD control packet to each peer of the watch set
 * (owners this node would take over from, and successors that would take over from it), and only then
 * refreshes the XDP heartbeat with the time read *before* sending (l2/gate.ts for why). Verdicts about
 * peers are taken after pending input was read, and not at all on a pulse that came late.
 */
import { EventEmitter } from 'node:events';
import type { BfdMachineConfig } from '../../bgp/bfd/machine.js';
import { BfdDiag, decodeBfd, encodeBfd } from '../../bgp/bfd/packet.js';
import { alonePulseMs, type GateTiming } from '../gate.js';
import {
  type Freshness,
  fenced,
  type GateClosure,
  isolationEnded,
  pulse,
  type StaleReason,
  starting,
} from './freshness.js';
import {
  checkSilence,
  cutOffFromAll,
  holdsOurs,
  isUnpaired,
  newPeerWatch,
  outgoing,
  peerPacket,
  peerUnpaired,
  type PeerReadiness,
  type PeerWatchState,
  readiness,
  reportsUsUp,
  watchMachineConfig,
  type WatchVerdict,
  WATCH_DIAG_UNPAIRED,
} from './peer.js';
import type { WatchTargets } from './targets.js';

/** The datagram socket the watch needs (the addon's UdpTtlSocket, or a fake in tests). */
export interface WatchSocket {
  send(data: Buffer, address: string, port: number): number;
  close(): void;
}

export type WatchSocketFactory = (
  onMessage: (data: Buffer, address: string, port: number, ttl: number) => void,
) => WatchSocket;

/** How the watch runs its pulse and the judging after it: Node's timers, or a simulated clock in tests. */
export interface WatchScheduler {
  /** Runs `fn` every `ms` (a late run is not repeated, as setInterval); returns the cancel. */
  every(ms: number, fn: () => void): () => void;
  /** Runs `fn` once the input that arrived meanwhile has been read (after the poll phase). */
  afterInput(fn: () => void): void;
}

const NODE_TIMERS: WatchScheduler = {
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
  afterInput(fn) {
    setImmediate(fn);
  },
};

export interface OwnerWatchOptions {
  timing: GateTiming;
  detectMult: number;
  /** UDP port peers listen on. */
  peerPort: (peer: string) => number;
  socket: WatchSocketFactory;
  /** Kernel monotonic time in ns (the clock the XDP gate reads). */
  clockNs: () => bigint;
  /** Refreshes the XDP liveness gate with this timestamp. */
  beat: (stampNs: bigint) => void;
  /** How long a stale speaker waits at most for watchers that never report it up. */
  capMs: number;
  /** Discriminators must be unique per session; random by default. */
  newDiscriminator?: () => number;
  /**
   * Whether the speaker's control loop still runs (when the pulse runs on its own thread): while it
   * does not, pulses are skipped as if this process were frozen, so its gate shuts and its successors
   * take over, as for any frozen speaker.
   */
  controlLoopAlive?: () => boolean;
  /** Default: Node's timers. */
  scheduler?: WatchScheduler;
}

export interface WatchCounters {
  sent: number;
  received: number;
  droppedTtl: number;
  droppedInvalid: number;
  droppedUnknown: number;
  lateTicks: number;
  staleEntered: number;
  /** Times every up session fell silent at once and the gate was shut for it. */
  fenced: number;
}

export interface VerdictEvent {
  peer: string;
  verdict: WatchVerdict;
  previous: WatchVerdict;
  /** Verdict events are numbered from 1; setHolding acknowledges them by this number. */
  seq: number;
  /** Wall-clock ms when the pulse thread reached it (the control loop may hear of it later). */
  at?: number;
  /** The VIPs the pulse thread answered at once on this down verdict (speaker/watch-takeover.ts). */
  took?: { ips: string[] };
}

export interface OwnerWatchEvents {
  verdict: [VerdictEvent];
  /**
   * 'stall': not scheduled for gapMs; 'isolated': `peer` heard again after every watched peer was down;
   * 'fenced': every up session silent for gapMs at once (l2/gate.ts, isolationFenceMs).
   */
  stale: [{ gapMs: number; reason: GateClosure; peer?: string }];
  refreshed: [{ afterMs: number; reason: StaleReason; gaveUpOn: string[] }];
  /** The cap passed and the gate stays shut: watchers heard since the stale state began have not reported us up. */
  overdue: [{ afterMs: number; reason: StaleReason; waitingFor: string[] }];
  /** What a peer's packets say about its start changed (see peer.ts WATCH_DIAG_STARTING). */
  readiness: [{ peer: string; readiness: PeerReadiness }];
}

interface Session {
  address: string;
  state: PeerWatchState;
}

export class OwnerWatch extends EventEmitter<OwnerWatchEvents> {
  private readonly sessions = new Map<string, Session>();
  private readonly byAddress = new Map<string, string>();
  private targets: WatchTargets = { watching: new Set(), watchedBy: new Set() };
  private gossipDead: ReadonlySet<string> = new Set();
  private holding: ReadonlySet<string> = new Set();
  /** The last verdict event emitted, and the last one the holding set accounts for (setHolding). */
  private verdictSeq = 0;
  private holdingSeen = 0;
  /** Peers this watch declared down, by the number of that verdict event (see marked()). */
  private readonly declaredDown = new Map<string, number>();
  private freshness: Freshness = starting();
  /** When an unpaired answer last went to each address; the discriminator those answers carry. */
  private readonly unpairedSent = new Map<string, number>();
  private unpairedDisc: number | undefined;
  private ready = false;
  private readyPending = false;
  /** The control loop has applied a decision since this process started (no longer 'starting'). */
  private appliedOnce = false;
  private cancelPulse: (() => void) | undefined;
  /** The period the pulse runs at now (see pulseMs()). */
  private pulseEveryMs = 0;
  /** The period before the last change, until the first pulse at the new one (the gap spans both). */
  private previousPulseMs = 0;
  private socket: WatchSocket | undefined;
  private readonly cfg: BfdMachineConfig;
  readonly counters: WatchCounters = {
    sent: 0,
    received: 0,
    droppedTtl: 0,
    droppedInvalid: 0,
    droppedUnknown: 0,
    lateTicks: 0,
    staleEntered: 0,
    fenced: 0,
  };

  constructor(private readonly opts: OwnerWatchOptions) {
    super();
    this.cfg = watchMachineConfig(opts.timing.heartbeatMs, opts.detectMult);
  }

  /** Binds the socket (a port in use throws here); start() does it too when not done yet. */
  listen(): void {
    this.socket ??= this.opts.socket((data, address, port, ttl) => this.onPacket(data, address, port, ttl));
  }

  start(): void {
    if (this.cancelPulse) return;
    this.listen();
    this.schedulePulse();
  }

  /** The period the pulse runs at now: the heartbeat with watch sessions, alonePulseMs (l2/gate.ts) without. */
  pulseMs(): number {
    return this.pulseEveryMs;
  }

  /** (Re)starts the pulse at the period the current sessions call for, when that changed. */
  private schedulePulse(): void {
    const ms = this.sessions.size > 0 ? this.opts.timing.heartbeatMs : alonePulseMs(this.opts.timing);
    if (this.cancelPulse && ms === this.pulseEveryMs) return;
    this.cancelPulse?.();
    this.previousPulseMs = this.pulseEveryMs;
    this.pulseEveryMs = ms;
    this.cancelPulse = this.scheduler().every(ms, () => this.onPulse());
  }

  /**
   * The speaker has joined (or decided to start alone): the gate may open once the watchers agree, the
   * watchers being those of the next setTargets (the first decision's): the pairs known before are not.
   */
  setReady(): void {
    this.readyPending = true;
  }

  /**
   * The control loop applied its first decision: this node's answer entries are written. Until then its
   * packets say it is starting (peers keep answering what they would hand it) and its gate stays shut;
   * a start's stale state (its cap, the reports it waits for) begins at the first pulse after this.
   */
  applied(): void {
    this.appliedOnce = true;
  }

  /** What a peer's packets say about its start ('unheard' without a session or a packet). */
  readiness(peer: string): PeerReadiness {
    return readiness(this.sessions.get(peer)?.state);
  }

  /** Whether the gate is being refreshed (false while stale). */
  fresh(): boolean {
    return this.freshness.stale === undefined;
  }

  /**
   * Sets the watch pairs (from watch/targets.ts), the address of each peer and the members gossip calls
   * dead (a stale speaker does not wait for such a watcher unless its packets arrive).
   */
  setTargets(
    targets: WatchTargets,
    addresses: ReadonlyMap<string, string>,
    gossipDead: ReadonlySet<string> = new Set(),
  ): void {
    this.targets = targets;
    this.gossipDead = gossipDead;
    if (this.readyPending) this.ready = true;
    const wanted = new Set([...targets.watching, ...targets.watchedBy]);
    const now = this.nowMs();
    for (const [name, s] of this.sessions) {
      if (!wanted.has(name) || addresses.get(name) !== s.address) {
        this.sessions.delete(name);
        this.byAddress.delete(s.address);
        if (s.state.verdict !== 'unknown') this.emitVerdict(name, 'unknown', s.state.verdict);
      }
    }
    for (const name of wanted) {
      const address = addresses.get(name);
      if (address === undefined || this.sessions.has(name)) continue;
      this.sessions.set(name, { address, state: newPeerWatch(this.discriminator(), now) });
      this.byAddress.set(address, name);
    }
    if (this.cancelPulse) this.schedulePulse();
  }

  /**
   * The owners some of whose VIPs this node's control loop answers now, or may answer once its pending
   * decision is applied (marked in our packets to them). `seen`: the last verdict event the control loop
   * had read when it computed the set (default: every one emitted so far).
   */
  setHolding(peers: ReadonlySet<string>, seen = this.verdictSeq): void {
    this.holding = peers;
    this.holdingSeen = Math.max(this.holdingSeen, seen);
    for (const [name, seq] of this.declaredDown) if (seq <= this.holdingSeen) this.declaredDown.delete(name);
  }

  /** The number of the last verdict event emitted (what an in-process control loop has read). */
  verdictsSeen(): number {
    return this.verdictSeq;
  }

  /**
   * The peers our packets mark holding: the control loop's set, and every peer this watch declared down
   * since the verdict that set accounts for. The control loop takes a down owner's VIPs over in a round
   * that reads the verdict later (seconds at 10,000 VIPs; its thread may be busy when the verdict comes
   * back up); until then the owner, stale on its return, must not reopen on our unmarked packets.
   */
  private marked(): Set<string> {
    return new Set([...this.holding, ...this.declaredDown.keys()]);
  }

  /** 'up' / 'down' from the direct watch, 'unknown' when it has no say (gossip decides). */
  verdict(peer: string): WatchVerdict {
    return this.sessions.get(peer)?.state.verdict ?? 'unknown';
  }

  /**
   * Stops. With `adminDown` the gate shuts and the peers are told this node stops on purpose, so they
   * take over at once instead of after the detection time.
   */
  stop(opts: { adminDown?: boolean } = {}): void {
    this.cancelPulse?.();
    this.cancelPulse = undefined;
    if (opts.adminDown) {
      // The gate shuts before the peers hear it: they take over at once, never next to this node.
      this.opts.beat(0n);
      for (const [name, s] of this.sessions) {
        const { packet } = outgoing(s.state, this.cfg);
        this.send({ ...packet, state: 'admin-down', diag: BfdDiag.ADMIN_DOWN }, name, s.address);
      }
    }
    this.socket?.close();
    this.socket = undefined;
  }

  private scheduler(): WatchScheduler {
    return this.opts.scheduler ?? NODE_TIMERS;
  }

  private nowMs(): number {
    return Number(this.opts.clockNs()) / 1e6;
  }

  private discriminator(): number {
    const used = new Set([...this.sessions.values()].map((s) => s.state.machine.localDisc));
    for (;;) {
      const d = this.opts.newDiscriminator?.() ?? 1 + Math.floor(Math.random() * 0xfffffffe);
      if (!used.has(d)) return d;
    }
  }

  private onPulse(): void {
    if (this.opts.controlLoopAlive && !this.opts.controlLoopAlive()) return;
    const stampNs = this.opts.clockNs();
    const nowMs = Number(stampNs) / 1e6;
    const t = this.opts.timing;
    const marked = this.marked();
    const step = pulse(this.freshness, {
      nowMs,
      ready: this.ready && this.appliedOnce,
      intervalMs: Math.max(this.pulseEveryMs, this.previousPulseMs),
      livenessBoundMs: t.livenessBoundMs,
      lateTickMs: t.lateTickMs,
      capMs: this.opts.capMs,
      refreshHoldMs: t.refreshHoldMs,
      watchers: (sinceMs, reports) =>
        [...this.targets.watchedBy].map((name) => {
          const s = this.sessions.get(name);
          // Heard since we became stale: it is back, whatever the verdict says yet.
          const heard = (s?.state.lastRxMs ?? -Infinity) > sinceMs;
          return {
            name,
            reportsUp: s ? reportsUsUp(s.state, nowMs, { ...reports, recentMs: t.refreshHoldMs }) : false,
            holding: s ? holdsOurs(s.state, nowMs, t.watchDetectMs, sinceMs) : false,
            heard,
            // Not heard (down) or dead by gossip and not heard: it holds nothing we could answer next to.
            gone:
              !heard &&
              (s?.state.verdict === 'down' || (this.gossipDead.has(name) && s?.state.verdict !== 'up')),
          };
        }),
      stillAnswering: [...marked].filter((name) => this.sessions.get(name)?.state.verdict === 'up'),
      heardSince: (sinceMs) =>
        [...this.sessions.values()].some((s) => (s.state.lastRxMs ?? -Infinity) > sinceMs),
    });
    this.freshness = step.next;
    this.previousPulseMs = 0;
    if (step.stalled) this.counters.lateTicks++;
    for (const [name, s] of this.sessions) {
      const { packet, next } = outgoing(s.state, this.cfg, marked.has(name), !this.appliedOnce);
      s.state = next;
      this.send(packet, name, s.address);
    }
    // After the packets: a stall between the clock read and here only makes the heartbeat older.
    if (step.beat) this.opts.beat(stampNs);
    if (step.becameStale) {
      this.counters.staleEntered++;
      this.emit('stale', { ...step.becameStale, reason: 'stall' });
    }
    if (step.refreshed) this.emit('refreshed', step.refreshed);
    if (step.overdue) this.emit('overdue', step.overdue);
    // Timers run before I/O in Node's loop: let the poll phase read what arrived while we were late.
    this.scheduler().afterInput(() => this.judge(step.stalled, nowMs));
  }

  private judge(stalledBefore: boolean, pulseMs: number): void {
    const nowMs = this.nowMs();
    // A stall between the pulse and this turn of the loop is a stall too: the input is unread.
    const stalled = stalledBefore || nowMs - pulseMs > this.opts.timing.lateTickMs;
    const fenceMs = this.opts.timing.isolationFenceMs;
    if (!stalled && this.ready && !this.freshness.stale && fenceMs !== undefined) {
      const silentMs = cutOffFromAll(
        [...this.sessions.values()].map((s) => s.state),
        nowMs,
        fenceMs,
      );
      if (silentMs !== undefined) this.fence(nowMs, silentMs);
    }
    for (const [name, s] of this.sessions) {
      const before = s.state.verdict;
      const readyBefore = readiness(s.state);
      s.state = checkSilence(s.state, nowMs, this.opts.timing.watchDetectMs, stalled);
      if (s.state.verdict !== before) this.emitVerdict(name, s.state.verdict, before);
      this.noteReadiness(name, readyBefore, s.state);
    }
  }

  /**
   * Cut off from every peer it watches: at least two sessions down and none up. (With one peer, its
   * restart looks the same as a healed partition; the restarted speaker's own stale start covers that.)
   */
  private isolated(): boolean {
    let down = 0;
    for (const s of this.sessions.values()) {
      if (s.state.verdict === 'up') return false;
      if (s.state.verdict === 'down') down++;
    }
    return down >= 2;
  }

  /**
   * The first packet from a peer after this node was isolated: while alone it took the peers' VIPs and
   * they took its own, so the gate shuts now, before its answers meet theirs, and reopens through the
   * stale path (l2/watch/freshness.ts).
   */
  private endIsolation(peer: string): void {
    if (this.freshness.stale) return;
    this.freshness = isolationEnded(this.freshness, this.nowMs());
    this.opts.beat(0n);
    this.counters.staleEntered++;
    this.emit('stale', { gapMs: 0, reason: 'isolated', peer });
  }

  /** Cut off from every peer at once: silent before the far side may take this node's VIPs. */
  private fence(nowMs: number, silentMs: number): void {
    this.freshness = fenced(this.freshness, nowMs);
    this.opts.beat(0n);
    this.counters.staleEntered++;
    this.counters.fenced++;
    this.emit('stale', { gapMs: silentMs, reason: 'fenced' });
  }

  private noteReadiness(peer: string, before: PeerReadiness, state: PeerWatchState): void {
    const now = readiness(state);
    if (now !== before) this.emit('readiness', { peer, readiness: now });
  }

  private emitVerdict(peer: string, verdict: WatchVerdict, previous: WatchVerdict): void {
    const seq = ++this.verdictSeq;
    if (verdict === 'down') this.declaredDown.set(peer, seq);
    this.emit('verdict', { peer, verdict, previous, seq });
  }

  private send(packet: Parameters<typeof encodeBfd>[0], peer: string, address: string): void {
    if (!this.socket) return;
    try {
      this.socket.send(encodeBfd(packet), address, this.opts.peerPort(peer));
      this.counters.sent++;
    } catch {
      // No route or neighbor yet: the next pulse tries again; silence is what the peer judges.
    }
  }

  private onPacket(data: Buffer, rawAddress: string, port: number, ttl: number): void {
    // Single-hop only (RFC 5881 §5): a packet that crossed a router is not from a LAN peer.
    if (ttl !== 255) {
      this.counters.droppedTtl++;
      return;
    }
    const p = decodeBfd(data);
    if (typeof p === 'string') {
      this.counters.droppedInvalid++;
      return;
    }
    const address = rawAddress.replace(/^::ffff:/, '');
    const name = this.byAddress.get(address);
    const s = name === undefined ? undefined : this.sessions.get(name);
    if (!s || name === undefined) {
      this.counters.droppedUnknown++;
      if (!isUnpaired(p)) this.answerUnpaired(p.myDiscriminator, rawAddress, port);
      return;
    }
    if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== s.state.machine.localDisc) {
      this.counters.droppedUnknown++;
      return;
    }
    this.counters.received++;
    const before = s.state.verdict;
    const readyBefore = readiness(s.state);
    if (before === 'down' && this.isolated()) this.endIsolation(name);
    s.state = isUnpaired(p)
      ? peerUnpaired(s.state, this.nowMs())
      : peerPacket(s.state, p, this.nowMs(), this.cfg);
    if (s.state.verdict !== before) this.emitVerdict(name, s.state.verdict, before);
    this.noteReadiness(name, readyBefore, s.state);
  }

  /**
   * A peer watches us but we keep no session with it (our decisions do not pair us): tell it, at most
   * once per interval per address, so its 'down' verdict (from our silence) falls back to gossip instead
   * of keeping our VIPs taken for good.
   */
  private answerUnpaired(theirDisc: number, address: string, port: number): void {
    if (!this.socket || theirDisc === 0) return;
    const nowMs = this.nowMs();
    if (nowMs - (this.unpairedSent.get(address) ?? -Infinity) < this.opts.timing.heartbeatMs) return;
    if (this.unpairedSent.size >= UNPAIRED_ADDRESSES_KEPT) this.unpairedSent.clear();
    this.unpairedSent.set(address, nowMs);
    this.unpairedDisc ??= this.discriminator();
    const packet = {
      ...outgoing(newPeerWatch(this.unpairedDisc, nowMs), this.cfg).packet,
      diag: WATCH_DIAG_UNPAIRED,
      yourDiscriminator: theirDisc,
    };
    try {
      this.socket.send(encodeBfd(packet), address, port);
      this.counters.sent++;
    } catch {
      // As for any packet: the peer's next one asks again.
    }
  }
}

/** Addresses remembered for the rate limit of unpaired answers (cleared when full). */
const UNPAIRED_ADDRESSES_KEPT = 1024;

/**
 * Failure detection (SWIM + Lifeguard): the round-robin probe, the watched members' extra probes,
 * indirect probes through other members, the TCP fallback ping, and relaying others' indirect probes.
 * A failed probe becomes a suspicion through StateChanges.
 */
import type { Socket } from 'node:net';
import { afterDrain } from '../util/wait.js';
import type { Awareness } from './awareness.js';
import { type IndirectPing, type Ping, encodeMessage } from './codec.js';
import type { MemberlistConfig } from './config.js';
import { type MemberTable, isUp, shuffle } from './member-table.js';
import type { NodeRecord } from './rules.js';
import type { StateChanges } from './state.js';
import type { Stats } from './stats.js';
import { type Transport, readFrame, writeFrame } from './transport.js';
import type { Wire } from './wire.js';

interface AckWaiter {
  ack(): void;
  nack(): void;
}

export class Prober {
  private probing = false;
  private readonly watched = new Set<string>();
  private readonly watchProbing = new Set<string>();
  private lastProbeTick = Date.now();
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly acks = new Map<number, AckWaiter>();

  constructor(
    private readonly config: MemberlistConfig,
    private readonly table: MemberTable,
    private readonly wire: Wire,
    private readonly transport: Transport,
    private readonly state: StateChanges,
    private readonly awareness: Awareness,
    private readonly stats: Stats,
  ) {}

  /** Replaces the watch list (see Memberlist.watch). */
  watch(names: string[]): void {
    this.watched.clear();
    for (const n of names) if (n !== this.config.name) this.watched.add(n);
  }

  ack(seqNo: number): void {
    this.acks.get(seqNo)?.ack();
  }

  nack(seqNo: number): void {
    this.acks.get(seqNo)?.nack();
  }

  stop(): void {
    this.acks.clear();
  }

  /** The tick timer starts (again): lateness is measured from now, not from before the pause. */
  resume(): void {
    this.lastProbeTick = Date.now();
  }

  tick(): void {
    if (this.table.stopped || this.table.leaving) return;
    // Lifeguard, Node flavour: if our own timer fires late, this process is starved of CPU and its
    // probe verdicts are unreliable, so raise our awareness score (stretching our timeouts).
    const now = Date.now();
    const late = now - this.lastProbeTick - this.config.probeIntervalMs;
    this.lastProbeTick = now;
    if (late > this.config.probeTimeoutMs) {
      this.stats.counters.lateTicks++;
      this.awareness.apply(1);
    }
    // Watched members get a probe of their own every round, on top of the round-robin.
    for (const name of this.watched) {
      const n = this.table.get(name);
      if (!n || n === this.table.self || !isUp(n) || this.watchProbing.has(name)) continue;
      this.watchProbing.add(name);
      this.probeNode(n)
        .catch(() => undefined)
        .finally(() => this.watchProbing.delete(name));
    }
    if (this.probing) return;
    const target = this.table.nextProbeTarget();
    if (!target || this.watchProbing.has(target.name)) return;
    this.probing = true;
    this.probeNode(target)
      .catch(() => undefined)
      .finally(() => (this.probing = false));
  }

  /** Forwards another member's indirect probe and reports the outcome (ack, or nack on timeout). */
  relay(m: IndirectPing): void {
    const seq = this.nextSeq();
    const timer = afterDrain(this.config.probeTimeoutMs, () => {
      if (!this.acks.delete(seq)) return;
      if (m.nack) this.wire.send(m.sourceAddr, m.sourcePort, { kind: 'nack', seqNo: m.seqNo });
    });
    this.acks.set(seq, {
      ack: () => {
        clearTimeout(timer);
        if (!this.acks.delete(seq)) return;
        this.wire.send(m.sourceAddr, m.sourcePort, { kind: 'ack', seqNo: m.seqNo, payload: Buffer.alloc(0) });
      },
      nack: () => undefined,
    });
    this.wire.send(m.targetAddr, m.targetPort, this.pingFor(seq, m.target));
  }

  private async probeNode(target: NodeRecord): Promise<void> {
    const c = this.config;
    this.stats.counters.probes++;
    const seq = this.nextSeq();
    const probeTimeout = this.awareness.scale(c.probeTimeoutMs);
    const roundDeadline = this.awareness.scale(c.probeIntervalMs);
    let nacks = 0;
    let settle: (ok: boolean) => void = () => undefined;
    const result = new Promise<boolean>((resolve) => (settle = resolve));
    this.acks.set(seq, { ack: () => settle(true), nack: () => nacks++ });
    const deadline = afterDrain(roundDeadline, () => settle(false));
    try {
      const msgs = [encodeMessage(this.pingFor(seq, target.name))];
      // A suspected member learns it directly from the prober, so it can refute at once.
      if (target.state === 'suspect')
        msgs.push(
          encodeMessage({
            kind: 'suspect',
            node: target.name,
            incarnation: target.incarnation,
            from: this.table.self.name,
          }),
        );
      this.wire.sendCompound(target.addr, target.port, msgs);
      let direct: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<false>((r) => (direct = afterDrain(probeTimeout, () => r(false))));
      const acked = await Promise.race([result, timedOut]);
      // An acked probe clears its direct timeout: no wake-up for nothing (most probes are acked).
      clearTimeout(direct);
      if (acked) {
        this.awareness.apply(-1);
        return;
      }
      // Indirect probes through k members, plus a TCP ping, until the end of the round.
      const peers = shuffle(this.table.others((n) => n !== target && n.state === 'alive')).slice(
        0,
        c.indirectChecks,
      );
      const self = this.table.self;
      const indBuf = encodeMessage({
        kind: 'indirectPing',
        seqNo: seq,
        target: target.name,
        targetAddr: target.addr,
        targetPort: target.port,
        nack: true,
        sourceNode: self.name,
        sourceAddr: self.addr,
        sourcePort: self.port,
      });
      for (const p of peers) this.wire.sendCompound(p.addr, p.port, [indBuf]);
      this.stats.counters.indirectProbes += peers.length;
      if (c.tcpFallbackProbe)
        void this.tcpPing(target, Math.max(10, roundDeadline - probeTimeout)).then((ok) => {
          if (ok) {
            this.stats.counters.tcpFallbackAcks++;
            settle(true);
          }
        });
      if (await result) return;
      this.stats.counters.probesFailed++;
      this.awareness.apply(peers.length > 0 ? Math.max(0, peers.length - nacks) : 1);
      if (this.table.stopped || !isUp(target)) return;
      this.state.onSuspect({ node: target.name, incarnation: target.incarnation, from: self.name });
    } finally {
      clearTimeout(deadline);
      this.acks.delete(seq);
    }
  }

  private pingFor(seq: number, target: string): Ping {
    const self = this.table.self;
    return {
      kind: 'ping',
      seqNo: seq,
      target,
      sourceNode: self.name,
      sourceAddr: self.addr,
      sourcePort: self.port,
    };
  }

  private async tcpPing(target: NodeRecord, timeoutMs: number): Promise<boolean> {
    const seq = this.nextSeq();
    let sock: Socket | undefined;
    try {
      sock = await this.transport.connect(target.addr, target.port, timeoutMs);
      this.stats.counters.tcpStreamsOut++;
      writeFrame(sock, this.wire.frame([encodeMessage(this.pingFor(seq, target.name))]));
      const env = this.wire.open(await readFrame(sock, timeoutMs), `${target.addr}:${target.port}`);
      return env?.messages.some((m) => m.kind === 'ack' && m.seqNo === seq) ?? false;
    } catch {
      return false;
    } finally {
      sock?.destroy();
    }
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }
}

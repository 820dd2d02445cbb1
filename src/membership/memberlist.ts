/**
 * SWIM + Lifeguard membership: probing, suspicion, dissemination, push-pull, join and leave. Decisions
 * come from the pure modules (rules, suspicion, awareness, broadcast-queue); this class owns the
 * timers and sockets and applies the decisions.
 */
import { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import { isIP, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Awareness } from './awareness.js';
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.js';
import {
  CodecError,
  type Envelope,
  type IndirectPing,
  MESSAGE_OVERHEAD,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  type Ping,
  type PushPull,
  type UserMessage,
  type WireMessage,
  decodeEnvelope,
  encodeEnvelope,
  encodeMessage,
} from './codec.js';
import { type MemberlistConfig, type MemberlistOptions, resolveConfig } from './config.js';
import { FRAME_OVERHEAD, Keyring } from './keyring.js';
import { parseHostPort, pushPullInterval, toNodeState } from './push-pull.js';
import {
  type AccuseNews,
  type AliveNews,
  type Decision,
  type LocalView,
  type NodeRecord,
  decideAlive,
  decideDead,
  decideSuspect,
} from './rules.js';
import { Suspicion, suspicionBounds } from './suspicion.js';
import { StreamError, Transport, readFrame, writeFrame } from './transport.js';
import type { DropReason, Member, MemberlistEvents } from './types.js';

export interface MembershipStats {
  udpPacketsIn: number;
  udpPacketsOut: number;
  tcpStreamsIn: number;
  tcpStreamsOut: number;
  probes: number;
  probesFailed: number;
  indirectProbes: number;
  tcpFallbackAcks: number;
  suspicions: number;
  refutations: number;
  userMessagesIn: number;
  userMessagesDropped: number;
  /** Probe ticks that fired later than probeTimeout (event loop starved); each raises awareness. */
  lateTicks: number;
  awareness: number;
  dropped: Record<DropReason, number>;
  droppedTotal: number;
}

interface AckWaiter {
  ack(): void;
  nack(): void;
}

const DROP_REASONS: DropReason[] = [
  'truncated',
  'malformed',
  'unauthenticated',
  'plaintext',
  'version',
  'cluster',
  'invalid',
  'oversize',
  'misdirected',
  'busy',
];

const USER_SEEN_MS = 60_000;
/** Concurrent inbound TCP streams (push-pull, TCP ping); more are refused and counted as busy. */
const MAX_INBOUND_STREAMS = 64;

export class Memberlist extends EventEmitter<MemberlistEvents> {
  readonly config: MemberlistConfig;
  readonly keyring: Keyring;
  private transport!: Transport;
  private readonly nodes = new Map<string, NodeRecord>();
  private self!: NodeRecord;
  private probeList: string[] = [];
  private probeIndex = 0;
  private probing = false;
  private readonly watched = new Set<string>();
  private readonly watchProbing = new Set<string>();
  private inboundStreams = 0;
  private lastProbeTick = Date.now();
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly acks = new Map<number, AckWaiter>();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly queue: BroadcastQueue;
  private readonly awareness: Awareness;
  private readonly userSeen = new Map<string, number>();
  private readonly userLatest = new Map<string, number>();
  private userSeq = 0;
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  private pushPullTimer: ReturnType<typeof setTimeout> | undefined;
  private leaving = false;
  private stopped = false;
  private readonly counters: Omit<MembershipStats, 'dropped' | 'droppedTotal' | 'awareness'> = {
    udpPacketsIn: 0,
    udpPacketsOut: 0,
    tcpStreamsIn: 0,
    tcpStreamsOut: 0,
    probes: 0,
    probesFailed: 0,
    indirectProbes: 0,
    tcpFallbackAcks: 0,
    suspicions: 0,
    refutations: 0,
    userMessagesIn: 0,
    userMessagesDropped: 0,
    lateTicks: 0,
  };
  private readonly drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;

  private constructor(cfg: MemberlistConfig) {
    super();
    this.config = cfg;
    this.keyring = new Keyring(cfg.keys, cfg.allowPlaintext);
    this.queue = new BroadcastQueue(cfg.maxQueuedUserMessages);
    this.awareness = new Awareness(cfg.awarenessMaxMultiplier);
  }

  /** Validates the config, binds UDP+TCP and starts probing/gossip. Await it. */
  static async create(opts: MemberlistOptions): Promise<Memberlist> {
    const m = new Memberlist(resolveConfig(opts));
    await m.start();
    return m;
  }

  private async start(): Promise<void> {
    const c = this.config;
    this.transport = await Transport.bind(c.bindAddr, c.bindPort, {
      packet: (buf, from) => this.onPacket(buf, from),
      stream: (s) => void this.onStream(s),
    });
    this.self = {
      name: c.name,
      addr: c.advertiseAddr ?? advertiseAddress(c.bindAddr),
      port: c.advertisePort ?? this.transport.port,
      meta: Buffer.alloc(0),
      incarnation: 0,
      state: 'alive',
      protocolMin: MIN_PROTOCOL_VERSION,
      protocolMax: PROTOCOL_VERSION,
      changedAt: Date.now(),
    };
    this.nodes.set(c.name, this.self);
    this.timers.push(setInterval(() => this.probeTick(), c.probeIntervalMs));
    this.timers.push(setInterval(() => this.gossipTick(), c.gossipIntervalMs));
    this.timers.push(setInterval(() => this.reap(), 1000));
    if (c.reconnectIntervalMs > 0)
      this.timers.push(setInterval(() => void this.reconnectTick(), c.reconnectIntervalMs));
    this.schedulePushPull();
    for (const t of this.timers) t.unref?.();
    if (c.seeds.length > 0) await this.join(c.seeds);
  }

  // ---------------------------------------------------------------- public API

  /** Contacts seeds (`IP:port`) with a full state exchange; resolves with how many answered. */
  async join(seeds: string[]): Promise<number> {
    const errors: string[] = [];
    let ok = 0;
    for (const seed of seeds) {
      try {
        const { host, port } = parseHostPort(seed);
        await this.pushPull(host, port, true);
        ok++;
      } catch (error) {
        errors.push(`${seed}: ${(error as Error).message}`);
      }
    }
    if (ok === 0 && seeds.length > 0) throw new Error(`membership join failed: ${errors.join('; ')}`);
    return ok;
  }

  /** Announces a graceful leave and waits (up to timeoutMs) until the news has been gossiped. */
  async leave(timeoutMs: number): Promise<void> {
    if (this.leaving || this.stopped) return;
    this.leaving = true;
    this.self.state = 'left';
    this.self.changedAt = Date.now();
    const d = {
      kind: 'dead' as const,
      node: this.self.name,
      incarnation: this.self.incarnation,
      from: this.self.name,
    };
    this.gossipAbout(this.self.name, encodeMessage(d));
    if (this.aliveCount() <= 1) return;
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && this.queue.has(`m:${this.self.name}`))
      await sleep(this.config.gossipIntervalMs);
  }

  /** Stops every timer and closes the sockets. No leave message is sent (call leave() first). */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.pushPullTimer) clearTimeout(this.pushPullTimer);
    for (const s of this.suspicions.values()) s.cancel();
    this.suspicions.clear();
    this.acks.clear();
    await this.transport.close();
  }

  /** All known members including this one (dead/left ones until deadRetentionMs passes). */
  members(): Member[] {
    return [...this.nodes.values()].map(toMember);
  }

  localMember(): Member {
    return toMember(this.self);
  }

  /** Replaces this member's metadata (bumps the incarnation, which versions it) and gossips it. */
  setMeta(meta: Buffer): void {
    if (meta.length > this.config.metaMaxSize)
      throw new Error(
        `membership setMeta: ${meta.length} bytes exceeds metaMaxSize ${this.config.metaMaxSize}`,
      );
    this.self.meta = Buffer.from(meta);
    this.self.incarnation++;
    this.announceSelf();
  }

  /**
   * Gossips an application payload to every member (piggybacked, retransmit-limited). With `key`, a
   * newer payload from this member with the same key replaces an older one still in flight.
   */
  broadcast(payload: Buffer, opts: { key?: string } = {}): void {
    if (payload.length > this.config.userMessageMaxSize)
      throw new Error(
        `membership broadcast: ${payload.length} bytes exceeds userMessageMaxSize ${this.config.userMessageMaxSize}`,
      );
    const id = Date.now() * 1000 + (this.userSeq++ % 1000);
    const u: UserMessage = { kind: 'user', from: this.self.name, id, payload, key: opts.key ?? '' };
    this.markUserSeen(u);
    this.queueUser(u);
  }

  /**
   * Fast path for the members that matter (e.g. the current owner of a VIP this node would take over):
   * each watched member is probed directly by this node every probe interval, in addition to the
   * round-robin, so this node raises (and confirms) a suspicion of it within one round. Replaces the
   * previous watch list; unknown names are kept and used once they join.
   */
  watch(names: string[]): void {
    this.watched.clear();
    for (const n of names) if (n !== this.config.name) this.watched.add(n);
  }

  stats(): MembershipStats {
    const droppedTotal = Object.values(this.drops).reduce((a, b) => a + b, 0);
    return { ...this.counters, awareness: this.awareness.score(), dropped: { ...this.drops }, droppedTotal };
  }

  /** Address and port other members reach us on. */
  address(): { address: string; port: number } {
    return { address: this.self.addr, port: this.self.port };
  }

  // ---------------------------------------------------------------- probing

  private probeTick(): void {
    if (this.stopped || this.leaving) return;
    // Lifeguard, Node flavour: if our own timer fires late, this process is starved of CPU and its
    // probe verdicts are unreliable, so raise our awareness score (stretching our timeouts).
    const now = Date.now();
    const late = now - this.lastProbeTick - this.config.probeIntervalMs;
    this.lastProbeTick = now;
    if (late > this.config.probeTimeoutMs) {
      this.counters.lateTicks++;
      this.awareness.apply(1);
    }
    // Watched members get a probe of their own every round, on top of the round-robin.
    for (const name of this.watched) {
      const n = this.nodes.get(name);
      if (!n || n === this.self || !isUp(n) || this.watchProbing.has(name)) continue;
      this.watchProbing.add(name);
      this.probeNode(n)
        .catch(() => undefined)
        .finally(() => this.watchProbing.delete(name));
    }
    if (this.probing) return;
    const target = this.nextProbeTarget();
    if (!target || this.watchProbing.has(target.name)) return;
    this.probing = true;
    this.probeNode(target)
      .catch(() => undefined)
      .finally(() => (this.probing = false));
  }

  private nextProbeTarget(): NodeRecord | undefined {
    for (let tries = 0; tries <= this.probeList.length + 1; tries++) {
      if (this.probeIndex >= this.probeList.length) {
        this.probeList = shuffle(
          [...this.nodes.values()].filter((n) => n !== this.self && isUp(n)).map((n) => n.name),
        );
        this.probeIndex = 0;
        if (this.probeList.length === 0) return undefined;
      }
      const n = this.nodes.get(this.probeList[this.probeIndex++] ?? '');
      if (n && n !== this.self && isUp(n)) return n;
    }
    return undefined;
  }

  private async probeNode(target: NodeRecord): Promise<void> {
    const c = this.config;
    this.counters.probes++;
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
            from: this.self.name,
          }),
        );
      this.sendCompound(target.addr, target.port, msgs);
      if (await Promise.race([result, new Promise<false>((r) => afterDrain(probeTimeout, () => r(false)))])) {
        this.awareness.apply(-1);
        return;
      }
      // Indirect probes through k members, plus a TCP ping, until the end of the round.
      const peers = shuffle(
        [...this.nodes.values()].filter((n) => n !== this.self && n !== target && n.state === 'alive'),
      ).slice(0, c.indirectChecks);
      const ind: IndirectPing = {
        kind: 'indirectPing',
        seqNo: seq,
        target: target.name,
        targetAddr: target.addr,
        targetPort: target.port,
        nack: true,
        sourceNode: this.self.name,
        sourceAddr: this.self.addr,
        sourcePort: this.self.port,
      };
      const indBuf = encodeMessage(ind);
      for (const p of peers) this.sendCompound(p.addr, p.port, [indBuf]);
      this.counters.indirectProbes += peers.length;
      if (c.tcpFallbackProbe)
        void this.tcpPing(target, Math.max(10, roundDeadline - probeTimeout)).then((ok) => {
          if (ok) {
            this.counters.tcpFallbackAcks++;
            settle(true);
          }
        });
      if (await result) return;
      this.counters.probesFailed++;
      this.awareness.apply(peers.length > 0 ? Math.max(0, peers.length - nacks) : 1);
      if (this.stopped || !isUp(target)) return;
      this.onSuspect({ node: target.name, incarnation: target.incarnation, from: this.self.name });
    } finally {
      clearTimeout(deadline);
      this.acks.delete(seq);
    }
  }

  private pingFor(seq: number, target: string): Ping {
    return {
      kind: 'ping',
      seqNo: seq,
      target,
      sourceNode: this.self.name,
      sourceAddr: this.self.addr,
      sourcePort: this.self.port,
    };
  }

  private async tcpPing(target: NodeRecord, timeoutMs: number): Promise<boolean> {
    const seq = this.nextSeq();
    let sock: Socket | undefined;
    try {
      sock = await this.transport.connect(target.addr, target.port, timeoutMs);
      this.counters.tcpStreamsOut++;
      writeFrame(
        sock,
        this.seal(
          encodeEnvelope({ cluster: this.config.cluster }, [encodeMessage(this.pingFor(seq, target.name))]),
        ),
      );
      const env = this.openEnvelope(await readFrame(sock, timeoutMs));
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

  // ---------------------------------------------------------------- gossip

  private gossipTick(): void {
    if (this.stopped || this.queue.size() === 0) return;
    const now = Date.now();
    const candidates = [...this.nodes.values()].filter(
      (n) =>
        n !== this.self &&
        (isUp(n) || (n.state === 'dead' && now - n.changedAt < this.config.gossipToTheDeadMs)),
    );
    for (const n of shuffle(candidates).slice(0, this.config.gossipNodes)) {
      if (!this.sendCompound(n.addr, n.port, [])) break;
    }
  }

  /** Sends `msgs` plus as many queued broadcasts as fit; returns false when nothing was sent. */
  private sendCompound(addr: string, port: number, msgs: Buffer[]): boolean {
    const fixed = msgs.reduce((a, m) => a + m.length + MESSAGE_OVERHEAD, 0);
    const budget = this.config.udpBufferSize - FRAME_OVERHEAD - 16 - this.config.cluster.length - fixed;
    const extra = this.queue.take(
      MESSAGE_OVERHEAD,
      budget,
      retransmitLimit(this.config.retransmitMult, this.aliveCount()),
    );
    if (msgs.length === 0 && extra.length === 0) return false;
    const env = encodeEnvelope({ cluster: this.config.cluster }, [...msgs, ...extra]);
    this.transport.sendUdp(this.seal(env), addr, port);
    this.counters.udpPacketsOut++;
    return true;
  }

  /** Queues news about a member (replacing older news about it). */
  private gossipAbout(node: string, payload: Buffer): void {
    this.queue.push({ key: `m:${node}`, payload, user: false });
  }

  private announceSelf(): void {
    const s = this.self;
    this.gossipAbout(
      s.name,
      encodeMessage({
        kind: 'alive',
        incarnation: s.incarnation,
        node: s.name,
        addr: s.addr,
        port: s.port,
        meta: s.meta,
        protocolMin: s.protocolMin,
        protocolMax: s.protocolMax,
      }),
    );
  }

  private queueUser(u: UserMessage): void {
    const dropped = this.queue.push({
      key: `u:${u.from}:${u.key || u.id}`,
      payload: encodeMessage(u),
      user: true,
    });
    this.counters.userMessagesDropped += dropped.length;
  }

  // ---------------------------------------------------------------- input

  private seal(envelope: Buffer): Buffer {
    return this.keyring.seal(envelope);
  }

  private drop(reason: DropReason): undefined {
    this.drops[reason]++;
    return undefined;
  }

  /** Frame → validated envelope, or undefined (counted) when it must be dropped. */
  private openEnvelope(frame: Buffer): Envelope | undefined {
    const opened = this.keyring.open(frame);
    if (!opened.ok) return this.drop(opened.reason);
    let env: Envelope;
    try {
      env = decodeEnvelope(opened.plain, this.config);
    } catch (error) {
      if (error instanceof CodecError) return this.drop(error.reason);
      return this.drop('malformed');
    }
    if (env.cluster !== this.config.cluster) return this.drop('cluster');
    if (env.invalid > 0) this.drops.invalid += env.invalid;
    return env;
  }

  private onPacket(buf: Buffer, from: RemoteInfo): void {
    if (this.stopped) return;
    this.counters.udpPacketsIn++;
    try {
      const env = this.openEnvelope(buf);
      if (!env) return;
      for (const m of env.messages) this.onMessage(m, from);
    } catch {
      // Bad input never takes the process down.
      this.drop('malformed');
    }
  }

  private onMessage(m: WireMessage, from: RemoteInfo): void {
    switch (m.kind) {
      case 'ping':
        if (m.target !== '' && m.target !== this.self.name) return void this.drop('misdirected');
        this.sendCompound(from.address, from.port, [
          encodeMessage({ kind: 'ack', seqNo: m.seqNo, payload: Buffer.alloc(0) }),
        ]);
        return;
      case 'indirectPing':
        return this.relayProbe(m);
      case 'ack':
        return this.acks.get(m.seqNo)?.ack();
      case 'nack':
        return this.acks.get(m.seqNo)?.nack();
      case 'alive':
        return this.onAlive(m);
      case 'suspect':
        return this.onSuspect(m);
      case 'dead':
        return this.onDead(m);
      case 'user':
        return this.onUser(m);
    }
  }

  private relayProbe(m: IndirectPing): void {
    const seq = this.nextSeq();
    const timer = afterDrain(this.config.probeTimeoutMs, () => {
      if (!this.acks.delete(seq)) return;
      if (m.nack)
        this.sendCompound(m.sourceAddr, m.sourcePort, [encodeMessage({ kind: 'nack', seqNo: m.seqNo })]);
    });
    this.acks.set(seq, {
      ack: () => {
        clearTimeout(timer);
        if (!this.acks.delete(seq)) return;
        this.sendCompound(m.sourceAddr, m.sourcePort, [
          encodeMessage({ kind: 'ack', seqNo: m.seqNo, payload: Buffer.alloc(0) }),
        ]);
      },
      nack: () => undefined,
    });
    this.sendCompound(m.targetAddr, m.targetPort, [encodeMessage(this.pingFor(seq, m.target))]);
  }

  private onStream(sock: Socket): void {
    this.counters.tcpStreamsIn++;
    sock.on('error', () => undefined);
    if (this.inboundStreams >= MAX_INBOUND_STREAMS) {
      this.drop('busy');
      sock.destroy();
      return;
    }
    this.inboundStreams++;
    sock.once('close', () => this.inboundStreams--);
    void (async () => {
      try {
        const frame = await readFrame(sock, this.config.tcpTimeoutMs);
        const env = this.openEnvelope(frame);
        if (!env) return;
        if (env.pushPull) {
          this.mergeRemote(env.pushPull);
          writeFrame(
            sock,
            this.seal(encodeEnvelope({ cluster: this.config.cluster, pushPull: this.localState(false) })),
          );
          return;
        }
        const ping = env.messages.find((m): m is Ping => m.kind === 'ping');
        if (!ping) return;
        if (ping.target !== '' && ping.target !== this.self.name) return void this.drop('misdirected');
        writeFrame(
          sock,
          this.seal(
            encodeEnvelope({ cluster: this.config.cluster }, [
              encodeMessage({ kind: 'ack', seqNo: ping.seqNo, payload: Buffer.alloc(0) }),
            ]),
          ),
        );
      } catch (error) {
        if (error instanceof StreamError) {
          if (error.reason === 'truncated' || error.reason === 'oversize') this.drop(error.reason);
        } else this.drop('malformed');
      } finally {
        sock.end();
        setTimeout(() => sock.destroy(), 1000).unref();
      }
    })();
  }

  // ---------------------------------------------------------------- state changes

  private localView(): LocalView {
    const s = this.self;
    return {
      name: s.name,
      incarnation: s.incarnation,
      addr: s.addr,
      port: s.port,
      meta: s.meta,
      leaving: this.leaving,
    };
  }

  private onAlive(a: AliveNews): void {
    const d = decideAlive(this.nodes.get(a.node), a, this.localView(), Date.now());
    this.apply(d);
    if (d.action === 'apply') this.gossipAbout(a.node, encodeMessage({ kind: 'alive', ...a }));
  }

  private onSuspect(s: AccuseNews): void {
    const cur = this.nodes.get(s.node);
    const d = decideSuspect(cur, s, this.localView(), Date.now());
    const msg = (): Buffer => encodeMessage({ kind: 'suspect', ...s });
    if (d.action === 'confirm') {
      if (this.suspicions.get(s.node)?.confirm(s.from)) this.gossipAbout(s.node, msg());
      return;
    }
    this.apply(d);
    if (d.action !== 'apply') return;
    this.counters.suspicions++;
    this.gossipAbout(s.node, msg());
    const bounds = suspicionBounds(this.aliveCount(), this.config);
    this.suspicions.get(s.node)?.cancel();
    this.suspicions.set(
      s.node,
      new Suspicion(s.from, bounds, () =>
        // Read what already arrived (a refutation may be waiting in the socket) before the verdict.
        setImmediate(() => {
          const n = this.nodes.get(s.node);
          if (!n || n.state !== 'suspect' || this.stopped) return;
          this.suspicions.delete(s.node);
          this.onDead({ node: s.node, incarnation: n.incarnation, from: this.self.name });
        }),
      ),
    );
  }

  private onDead(dn: AccuseNews): void {
    const d = decideDead(this.nodes.get(dn.node), dn, this.localView(), Date.now());
    this.apply(d);
    if (d.action === 'apply') this.gossipAbout(dn.node, encodeMessage({ kind: 'dead', ...dn }));
  }

  private apply(d: Decision): void {
    if (d.action === 'refute') {
      this.counters.refutations++;
      this.self.incarnation = d.incarnation;
      this.awareness.apply(1);
      this.announceSelf();
      return;
    }
    if (d.action !== 'apply') return;
    const prev = this.nodes.get(d.next.name);
    this.nodes.set(d.next.name, d.next);
    if (d.next.state !== 'suspect') {
      this.suspicions.get(d.next.name)?.cancel();
      this.suspicions.delete(d.next.name);
    }
    if (!prev && isUp(d.next)) {
      // Newcomers go to a random spot of the current probe round.
      const at = this.probeIndex + Math.floor(Math.random() * (this.probeList.length - this.probeIndex + 1));
      this.probeList.splice(at, 0, d.next.name);
    }
    const member = toMember(d.next);
    for (const e of d.events) this.emit(e, member);
  }

  private onUser(u: UserMessage): void {
    const id = `${u.from}:${u.id}`;
    if (u.from === this.self.name || this.userSeen.has(id)) return;
    if (u.key !== '') {
      const k = `${u.from}:${u.key}`;
      if ((this.userLatest.get(k) ?? -1) >= u.id) return;
      this.userLatest.set(k, u.id);
    }
    this.markUserSeen(u);
    this.counters.userMessagesIn++;
    this.queueUser(u);
    this.emit('message', { from: u.from, payload: u.payload, key: u.key });
  }

  private markUserSeen(u: UserMessage): void {
    this.userSeen.set(`${u.from}:${u.id}`, Date.now() + USER_SEEN_MS);
  }

  // ---------------------------------------------------------------- push-pull, join, reconnect

  private localState(join: boolean): PushPull {
    return { join, states: [...this.nodes.values()].map(toNodeState) };
  }

  private mergeRemote(pp: PushPull): void {
    for (const s of pp.states) {
      if (s.state === 'alive')
        this.onAlive({
          node: s.name,
          incarnation: s.incarnation,
          addr: s.addr,
          port: s.port,
          meta: s.meta,
          protocolMin: s.protocolMin,
          protocolMax: s.protocolMax,
        });
      else if (s.state === 'left') this.onDead({ node: s.name, incarnation: s.incarnation, from: s.name });
      else this.onSuspect({ node: s.name, incarnation: s.incarnation, from: this.self.name });
    }
  }

  private async pushPull(host: string, port: number, join: boolean): Promise<void> {
    const sock = await this.transport.connect(host, port, this.config.tcpTimeoutMs);
    this.counters.tcpStreamsOut++;
    try {
      writeFrame(
        sock,
        this.seal(encodeEnvelope({ cluster: this.config.cluster, pushPull: this.localState(join) })),
      );
      const frame = await readFrame(sock, this.config.tcpTimeoutMs);
      const env = this.openEnvelope(frame);
      if (!env?.pushPull) throw new Error(`no valid push-pull reply from ${host}:${port}`);
      this.mergeRemote(env.pushPull);
    } finally {
      sock.destroy();
    }
  }

  private schedulePushPull(): void {
    const base = this.config.pushPullIntervalMs;
    if (base <= 0 || this.stopped) return;
    const every = pushPullInterval(base, this.aliveCount());
    // Jitter so members do not synchronize.
    this.pushPullTimer = setTimeout(
      () => {
        const peer = shuffle(
          [...this.nodes.values()].filter((n) => n !== this.self && n.state === 'alive'),
        )[0];
        const done = peer
          ? this.pushPull(peer.addr, peer.port, false).catch(() => undefined)
          : Promise.resolve();
        void done.finally(() => this.schedulePushPull());
      },
      every / 2 + Math.random() * every,
    );
    this.pushPullTimer.unref?.();
  }

  /** Heals partitions: exchange state with one dead (not left) member still remembered. */
  private async reconnectTick(): Promise<void> {
    if (this.stopped || this.leaving) return;
    const dead = shuffle([...this.nodes.values()].filter((n) => n.state === 'dead'))[0];
    if (dead) await this.pushPull(dead.addr, dead.port, false).catch(() => undefined);
  }

  private reap(): void {
    const now = Date.now();
    for (const [k, until] of this.userSeen) if (until < now) this.userSeen.delete(k);
    for (const n of [...this.nodes.values()]) {
      if (n !== this.self && !isUp(n) && now - n.changedAt > this.config.deadRetentionMs)
        this.nodes.delete(n.name);
    }
  }

  private aliveCount(): number {
    let n = 0;
    for (const m of this.nodes.values()) if (isUp(m)) n++;
    return n;
  }
}

function isUp(n: NodeRecord): boolean {
  return n.state === 'alive' || n.state === 'suspect';
}

function toMember(n: NodeRecord): Member {
  return {
    name: n.name,
    address: n.addr,
    port: n.port,
    state: n.state,
    incarnation: n.incarnation,
    meta: Buffer.from(n.meta),
  };
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/**
 * Runs fn once ms have passed and the packets that arrived meanwhile have been read: timers fire before
 * the poll phase of Node's event loop, so a late process would otherwise time out on an ack that is
 * already waiting in its socket.
 */
function afterDrain(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
  return setTimeout(() => setImmediate(fn), ms);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The address others should use when bound to a wildcard: the first non-internal IPv4, else loopback. */
function advertiseAddress(bind: string): string {
  if (bind !== '0.0.0.0' && bind !== '::' && isIP(bind) !== 0) return bind;
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  return '127.0.0.1';
}

/**
 * SWIM + Lifeguard membership, assembled. One member table is shared by the parts, each one concern
 * (after hashicorp/memberlist's state/net split): probe.ts (failure detection), inbound.ts (packets and
 * streams in), state.ts (applying the pure rules' decisions), wire.ts (framing and gossip out), sync.ts
 * (push-pull, join, reconnect), user-messages.ts. This class binds the sockets, owns the timers and is
 * the public API.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { pollUntil } from '../util/wait.js';
import { Awareness } from './awareness.js';
import { BroadcastQueue } from './broadcast-queue.js';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from './codec.js';
import { type MemberlistConfig, type MemberlistOptions, resolveConfig } from './config.js';
import { Inbound } from './inbound.js';
import { nextIncarnation } from './incarnation.js';
import { Keyring } from './keyring.js';
import { MemberTable, toMember } from './member-table.js';
import { Prober } from './probe.js';
import { StateChanges } from './state.js';
import { type MembershipStats, Stats } from './stats.js';
import { type SeedResult, StateSync } from './sync.js';
import { Transport } from './transport.js';
import type { Member, MemberlistEvents } from './types.js';
import { UserMessages } from './user-messages.js';
import { Wire } from './wire.js';

export type { MembershipStats } from './stats.js';
export { JoinError, type SeedOutcome, type SeedResult } from './sync.js';

interface Parts {
  table: MemberTable;
  transport: Transport;
  wire: Wire;
  state: StateChanges;
  prober: Prober;
  sync: StateSync;
  users: UserMessages;
}

export class Memberlist extends EventEmitter<MemberlistEvents> {
  readonly keyring: Keyring;
  private readonly tally = new Stats((r) => this.emit('dropped', r));
  private readonly awareness: Awareness;
  private readonly queue: BroadcastQueue;
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  private probeTimer: ReturnType<typeof setInterval> | undefined;
  private p!: Parts;

  private constructor(readonly config: MemberlistConfig) {
    super();
    this.keyring = new Keyring(config.keys, config.allowPlaintext);
    this.queue = new BroadcastQueue(config.maxQueuedUserMessages);
    this.awareness = new Awareness(config.awarenessMaxMultiplier);
  }

  /**
   * Validates the config, binds UDP+TCP and starts probing/gossip. Await it. `meta` is this member's
   * metadata from the first packet on: no peer ever sees it without (setMeta changes it later).
   */
  static async create(opts: MemberlistOptions & { meta?: Buffer }): Promise<Memberlist> {
    const { meta, ...rest } = opts;
    const m = new Memberlist(resolveConfig(rest));
    if (meta && meta.length > m.config.metaMaxSize)
      throw new Error(`membership meta: ${meta.length} bytes exceeds metaMaxSize ${m.config.metaMaxSize}`);
    await m.start(meta ?? Buffer.alloc(0));
    return m;
  }

  private async start(meta: Buffer): Promise<void> {
    const c = this.config;
    // Input is routed once the parts exist (they need the bound port first).
    const route: { inbound?: Inbound } = {};
    const transport = await Transport.bind(c.bindAddr, c.bindPort, {
      packet: (buf, from) => route.inbound?.packet(buf, from),
      stream: (s) => (route.inbound ? route.inbound.stream(s) : s.destroy()),
    });
    const table = new MemberTable({
      name: c.name,
      addr: c.advertiseAddr ?? advertiseAddress(c.bindAddr),
      port: c.advertisePort ?? transport.port,
      meta: Buffer.from(meta),
      incarnation: 0,
      state: 'alive',
      protocolMin: MIN_PROTOCOL_VERSION,
      protocolMax: PROTOCOL_VERSION,
      changedAt: Date.now(),
    });
    const stats = this.tally;
    const wire = new Wire(c, this.keyring, transport, table, this.queue, stats);
    const state = new StateChanges(c, table, wire, this.awareness, stats, {
      member: (e, m) => {
        this.armProbes();
        this.emit(e, m);
      },
      conflict: (x) => this.emit('conflict', x),
    });
    const prober = new Prober(c, table, wire, transport, state, this.awareness, stats);
    const sync = new StateSync(c, table, wire, transport, state, stats);
    const users = new UserMessages(c, table, wire, stats, (m) => this.emit('message', m));
    route.inbound = new Inbound(c, { table, wire, prober, state, users, sync, stats });
    this.p = { table, transport, wire, state, prober, sync, users };

    this.armProbes();
    wire.pacer.start();
    this.timers.push(
      setInterval(() => {
        const now = Date.now();
        users.reap(now);
        table.reap(now, c.deadRetentionMs);
      }, 1000),
    );
    if (c.reconnectIntervalMs > 0)
      this.timers.push(setInterval(() => void sync.reconnectTick(), c.reconnectIntervalMs));
    sync.schedule();
    for (const t of this.timers) t.unref?.();
    if (c.seeds.length > 0) await this.join(c.seeds);
  }

  /**
   * The probe timer runs only while another member is up: a member alone has nobody to probe, and its
   * timer would wake it probeIntervalMs for nothing (a tenth of a second at fast-lan).
   */
  private armProbes(): void {
    const { table, prober } = this.p;
    const wanted = !table.stopped && table.aliveCount() > 1;
    if (wanted && this.probeTimer === undefined) {
      prober.resume();
      this.probeTimer = setInterval(() => prober.tick(), this.config.probeIntervalMs);
      this.probeTimer.unref?.();
    } else if (!wanted && this.probeTimer !== undefined) {
      clearInterval(this.probeTimer);
      this.probeTimer = undefined;
    }
  }

  // ---------------------------------------------------------------- public API

  /** Contacts seeds (`IP:port`) with a full state exchange; resolves with how many answered. */
  join(seeds: string[]): Promise<number> {
    return this.p.sync.join(seeds);
  }

  /** Contacts each seed and says what came of it (joined, unreachable, rejected, conflict); never rejects. */
  contactSeeds(seeds: string[]): Promise<SeedResult[]> {
    return this.p.sync.contact(seeds);
  }

  /** Announces a graceful leave and waits (up to timeoutMs) until the news has been gossiped. */
  async leave(timeoutMs: number): Promise<void> {
    const { table, state, wire } = this.p;
    if (table.leaving || table.stopped) return;
    state.announceLeave();
    if (table.aliveCount() <= 1) return;
    await pollUntil(timeoutMs, () => !wire.gossiping(table.self.name), this.config.gossipIntervalMs);
  }

  /** Stops every timer and closes the sockets. No leave message is sent (call leave() first). */
  async shutdown(): Promise<void> {
    const { table, sync, state, prober, transport } = this.p;
    if (table.stopped) return;
    table.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.armProbes();
    this.p.wire.pacer.stop();
    sync.stop();
    state.stop();
    prober.stop();
    this.tally.stop();
    await transport.close();
  }

  /** All known members including this one (dead/left ones until deadRetentionMs passes). */
  members(): Member[] {
    return this.p.table.all().map(toMember);
  }

  localMember(): Member {
    return toMember(this.p.table.self);
  }

  /** Replaces this member's metadata (bumps the incarnation, which versions it) and gossips it. */
  setMeta(meta: Buffer): void {
    if (meta.length > this.config.metaMaxSize)
      throw new Error(
        `membership setMeta: ${meta.length} bytes exceeds metaMaxSize ${this.config.metaMaxSize}`,
      );
    const self = this.p.table.self;
    self.meta = Buffer.from(meta);
    self.incarnation = nextIncarnation(self.incarnation);
    this.p.state.announceSelf();
  }

  /**
   * Gossips an application payload to every member (piggybacked, retransmit-limited). With `key`, a
   * newer payload from this member with the same key replaces an older one still in flight.
   */
  broadcast(payload: Buffer, opts: { key?: string } = {}): void {
    this.p.users.broadcast(payload, opts.key ?? '');
  }

  /**
   * Fast path for the members that matter (e.g. the current owner of a VIP this node would take over):
   * each watched member is probed directly by this node every probe interval, in addition to the
   * round-robin, so this node raises (and confirms) a suspicion of it within one round. Replaces the
   * previous watch list; unknown names are kept and used once they join.
   */
  watch(names: string[]): void {
    this.p.prober.watch(names);
  }

  /** Which of the timers that follow the membership run now (a member alone runs neither). */
  timersArmed(): { probe: boolean; gossip: boolean } {
    return { probe: this.probeTimer !== undefined, gossip: this.p.wire.pacer.armed() };
  }

  /** True when gossip is encrypted (at least one key). */
  encrypted(): boolean {
    return this.keyring.encrypted();
  }

  stats(): MembershipStats {
    return this.tally.snapshot(this.awareness.score());
  }

  /** Address and port other members reach us on. */
  address(): { address: string; port: number } {
    const self = this.p.table.self;
    return { address: self.addr, port: self.port };
  }
}

/** The address others should use when bound to a wildcard: the first non-internal IPv4, else loopback. */
function advertiseAddress(bind: string): string {
  if (bind !== '0.0.0.0' && bind !== '::' && isIP(bind) !== 0) return bind;
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  return '127.0.0.1';
}

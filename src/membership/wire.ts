/**
 * Frames in and out: sealing/opening with the keyring, envelope validation, compound UDP packets that
 * carry queued broadcasts piggybacked, and the gossip tick that spreads them.
 */
import { type BroadcastQueue, retransmitLimit } from './broadcast-queue.js';
import {
  CodecError,
  type Envelope,
  MESSAGE_OVERHEAD,
  type PushPull,
  type WireMessage,
  decodeEnvelope,
  encodeEnvelope,
  encodeMessage,
} from './codec.js';
import type { MemberlistConfig } from './config.js';
import { GossipPacer } from './gossip-pacer.js';
import { FRAME_OVERHEAD, type Keyring } from './keyring.js';
import { type MemberTable, isUp, shuffle } from './member-table.js';
import type { NodeRecord } from './rules.js';
import type { Stats } from './stats.js';
import type { Transport } from './transport.js';
import type { DropReason } from './types.js';

export class Wire {
  /** Gossip rounds, run only while something is queued (start() it; stop() at shutdown). */
  readonly pacer: GossipPacer;

  constructor(
    private readonly config: MemberlistConfig,
    private readonly keyring: Keyring,
    private readonly transport: Transport,
    private readonly table: MemberTable,
    private readonly queue: BroadcastQueue,
    private readonly stats: Stats,
  ) {
    // Nobody to gossip to (a member alone): news stays queued for the first member that joins (its
    // arrival is news too, which nudges the pacer), and no timer runs for rounds that send nothing.
    this.pacer = new GossipPacer(
      config.gossipIntervalMs,
      () => this.gossipTick(),
      () => queue.size() > 0 && this.gossipTargets().length > 0,
    );
  }

  /** An envelope of `msgs` (or a push-pull state), sealed with the primary key. */
  frame(msgs: Buffer[], pushPull?: PushPull): Buffer {
    return this.keyring.seal(encodeEnvelope({ cluster: this.config.cluster, pushPull }, msgs));
  }

  /** Frame → validated envelope, or undefined (counted) when it must be dropped. */
  open(frame: Buffer, source?: string): Envelope | undefined {
    const drop = (reason: DropReason, n = 1): undefined => this.stats.drop(reason, n, source);
    const opened = this.keyring.open(frame);
    if (!opened.ok) return drop(opened.reason);
    let env: Envelope;
    try {
      env = decodeEnvelope(opened.plain, this.config);
    } catch (error) {
      if (error instanceof CodecError) return drop(error.reason);
      return drop('malformed');
    }
    if (env.cluster !== this.config.cluster) return drop('cluster');
    if (env.invalid > 0) drop('invalid', env.invalid);
    return env;
  }

  /** Sends one message plus as many queued broadcasts as fit. */
  send(addr: string, port: number, m: WireMessage): void {
    this.sendCompound(addr, port, [encodeMessage(m)]);
  }

  /** Sends `msgs` plus as many queued broadcasts as fit; returns false when nothing was sent. */
  sendCompound(addr: string, port: number, msgs: Buffer[]): boolean {
    const fixed = msgs.reduce((a, m) => a + m.length + MESSAGE_OVERHEAD, 0);
    const budget = this.config.udpBufferSize - FRAME_OVERHEAD - 16 - this.config.cluster.length - fixed;
    const extra = this.queue.take(
      MESSAGE_OVERHEAD,
      budget,
      retransmitLimit(this.config.retransmitMult, this.table.aliveCount()),
    );
    if (msgs.length === 0 && extra.length === 0) return false;
    this.transport.sendUdp(this.frame([...msgs, ...extra]), addr, port);
    this.stats.counters.udpPacketsOut++;
    return true;
  }

  /** Queues news about a member (replacing older news about it). */
  gossipAbout(node: string, m: WireMessage): void {
    this.queue.push({ key: `m:${node}`, payload: encodeMessage(m), user: false });
    this.pacer.nudge();
  }

  /** True while news about `node` is still being retransmitted. */
  gossiping(node: string): boolean {
    return this.queue.has(`m:${node}`);
  }

  /** Queues an application payload; counts what the queue had to drop for it. */
  queueUser(key: string, m: WireMessage): void {
    const dropped = this.queue.push({ key, payload: encodeMessage(m), user: true });
    this.stats.counters.userMessagesDropped += dropped.length;
    this.pacer.nudge();
  }

  /** Piggybacks queued broadcasts to a few random live (or recently dead) members. */
  gossipTick(): void {
    if (this.table.stopped || this.queue.size() === 0) return;
    for (const n of shuffle(this.gossipTargets()).slice(0, this.config.gossipNodes)) {
      if (!this.sendCompound(n.addr, n.port, [])) break;
    }
  }

  /** Live members, and dead ones for gossipToTheDeadMs after they died (so they can learn and refute). */
  private gossipTargets(): NodeRecord[] {
    const now = Date.now();
    return this.table.others(
      (n) => isUp(n) || (n.state === 'dead' && now - n.changedAt < this.config.gossipToTheDeadMs),
    );
  }
}

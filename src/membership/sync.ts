/**
 * Full state exchange over TCP (push-pull): joining through seeds, the periodic anti-entropy exchange
 * with a random member, and the reconnect attempts that heal partitions.
 */
import type { PushPull } from './codec.js';
import { StreamError } from './transport.js';
import type { MemberlistConfig } from './config.js';
import { type MemberTable, shuffle } from './member-table.js';
import { parseGossipAddress, pushPullInterval, toNodeState } from './push-pull.js';
import type { StateChanges } from './state.js';
import type { Stats } from './stats.js';
import { type Transport, readFrame, writeFrame } from './transport.js';
import type { NameConflict } from './types.js';
import type { Wire } from './wire.js';

/**
 * What came of contacting one seed: `joined`; `unreachable` (no connection: nobody listens there, or no
 * route); `busy` (a listener took the connection but sent nothing before the TCP deadline: a member too
 * busy to answer yet, for example one still starting); `rejected` (the listener closed the connection
 * without an answer, or answered with something we cannot read: another key or none, another cluster);
 * `conflict` (the seed knows our name alive at another address).
 */
export type SeedOutcome = 'joined' | 'unreachable' | 'busy' | 'rejected' | 'conflict';

export interface SeedResult {
  seed: string;
  outcome: SeedOutcome;
  error?: string;
}

export class JoinError extends Error {
  constructor(readonly results: SeedResult[]) {
    super(`membership join failed: ${results.map((r) => `${r.seed}: ${r.error ?? r.outcome}`).join('; ')}`);
  }
}

class SeedError extends Error {
  constructor(
    readonly outcome: Exclude<SeedOutcome, 'joined'>,
    message: string,
  ) {
    super(message);
  }
}

export class StateSync {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly config: MemberlistConfig,
    private readonly table: MemberTable,
    private readonly wire: Wire,
    private readonly transport: Transport,
    private readonly state: StateChanges,
    private readonly stats: Stats,
  ) {}

  /**
   * Contacts seeds (`IP:port`) with a full state exchange; resolves with how many answered, or rejects
   * with a JoinError saying what came of each seed when none did.
   */
  async join(seeds: string[]): Promise<number> {
    const results = await this.contact(seeds);
    const ok = results.filter((r) => r.outcome === 'joined').length;
    if (ok === 0 && seeds.length > 0) throw new JoinError(results);
    return ok;
  }

  /** Contacts each seed in turn; never rejects. */
  async contact(seeds: string[]): Promise<SeedResult[]> {
    const results: SeedResult[] = [];
    for (const seed of seeds) {
      try {
        const { host, port } = parseGossipAddress(seed);
        await this.pushPull(host, port, true);
        results.push({ seed, outcome: 'joined' });
      } catch (error) {
        const outcome = error instanceof SeedError ? error.outcome : 'unreachable';
        results.push({ seed, outcome, error: (error as Error).message });
      }
    }
    return results;
  }

  /** This member's view, for a push-pull request or answer. */
  localState(join: boolean): PushPull {
    return { join, states: this.table.all().map(toNodeState) };
  }

  /** Folds a remote member's view into ours through the usual state-change rules. */
  merge(pp: PushPull): void {
    for (const s of pp.states) {
      if (s.state === 'alive')
        this.state.onAlive({
          node: s.name,
          incarnation: s.incarnation,
          addr: s.addr,
          port: s.port,
          meta: s.meta,
          protocolMin: s.protocolMin,
          protocolMax: s.protocolMax,
        });
      else if (s.state === 'left')
        this.state.onDead({ node: s.name, incarnation: s.incarnation, from: s.name });
      else this.state.onSuspect({ node: s.name, incarnation: s.incarnation, from: this.table.self.name });
    }
  }

  /** Starts the periodic exchange (jittered; slower beyond 32 members). */
  schedule(): void {
    const base = this.config.pushPullIntervalMs;
    if (base <= 0 || this.table.stopped) return;
    const every = pushPullInterval(base, this.table.aliveCount());
    // Jitter so members do not synchronize.
    this.timer = setTimeout(
      () => {
        const peer = shuffle(this.table.others((n) => n.state === 'alive'))[0];
        const done = peer
          ? this.pushPull(peer.addr, peer.port, false).catch(() => undefined)
          : Promise.resolve();
        void done.finally(() => this.schedule());
      },
      every / 2 + Math.random() * every,
    );
    this.timer.unref?.();
  }

  /** Heals partitions: exchange state with one dead (not left) member still remembered. */
  async reconnectTick(): Promise<void> {
    if (this.table.stopped || this.table.leaving) return;
    const dead = shuffle(this.table.all().filter((n) => n.state === 'dead'))[0];
    if (dead) await this.pushPull(dead.addr, dead.port, false).catch(() => undefined);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private async pushPull(host: string, port: number, join: boolean): Promise<void> {
    const sock = await this.transport.connect(host, port, this.config.tcpTimeoutMs);
    this.stats.counters.tcpStreamsOut++;
    const peer = port === 0 ? host : `${host.includes(':') ? `[${host}]` : host}:${port}`;
    try {
      writeFrame(sock, this.wire.frame([], this.localState(join)));
      let frame: Buffer;
      try {
        frame = await readFrame(sock, this.config.tcpTimeoutMs);
      } catch (error) {
        const why = error instanceof StreamError ? error.reason : 'error';
        // A member that cannot read our frame closes the stream at once (inbound.ts); silence until the
        // deadline is a member too busy to answer, not a refusal.
        throw new SeedError(
          why === 'timeout' ? 'busy' : 'rejected',
          `${peer} took the connection but sent no state (${why})`,
        );
      }
      const env = this.wire.open(frame, peer);
      if (!env?.pushPull) throw new SeedError('rejected', `no valid push-pull reply from ${peer}`);
      const clash = join ? this.state.selfConflict(env.pushPull) : undefined;
      if (clash) throw new SeedError('conflict', conflictMessage(clash));
      this.merge(env.pushPull);
    } finally {
      sock.destroy();
    }
  }
}

function conflictMessage(c: NameConflict): string {
  return (
    `the name ${JSON.stringify(c.node)} is alive at ${c.known} (this member is ${c.claimed}); ` +
    'refusing to join: give this node another name (--node)'
  );
}

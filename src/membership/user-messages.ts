/**
 * Application payloads carried by gossip: ids, de-duplication, "newest per key wins", re-gossip and the
 * `message` event.
 */
import type { UserMessage } from './codec.js';
import type { MemberlistConfig } from './config.js';
import type { MemberTable } from './member-table.js';
import type { Stats } from './stats.js';
import type { Wire } from './wire.js';

const USER_SEEN_MS = 60_000;

export type EmitUserMessage = (m: { from: string; payload: Buffer; key: string }) => void;

export class UserMessages {
  private readonly seen = new Map<string, number>();
  private readonly latest = new Map<string, number>();
  private seq = 0;

  constructor(
    private readonly config: MemberlistConfig,
    private readonly table: MemberTable,
    private readonly wire: Wire,
    private readonly stats: Stats,
    private readonly emit: EmitUserMessage,
  ) {}

  broadcast(payload: Buffer, key: string): void {
    if (payload.length > this.config.userMessageMaxSize)
      throw new Error(
        `membership broadcast: ${payload.length} bytes exceeds userMessageMaxSize ${this.config.userMessageMaxSize}`,
      );
    const id = Date.now() * 1000 + (this.seq++ % 1000);
    const u: UserMessage = { kind: 'user', from: this.table.self.name, id, payload, key };
    this.markSeen(u);
    this.queue(u);
  }

  onUser(u: UserMessage): void {
    const id = `${u.from}:${u.id}`;
    if (u.from === this.table.self.name || this.seen.has(id)) return;
    if (u.key !== '') {
      const k = `${u.from}:${u.key}`;
      if ((this.latest.get(k) ?? -1) >= u.id) return;
      this.latest.set(k, u.id);
    }
    this.markSeen(u);
    this.stats.counters.userMessagesIn++;
    this.queue(u);
    this.emit({ from: u.from, payload: u.payload, key: u.key });
  }

  /** Forgets ids older than the de-duplication window. */
  reap(now: number): void {
    for (const [k, until] of this.seen) if (until < now) this.seen.delete(k);
  }

  private queue(u: UserMessage): void {
    this.wire.queueUser(`u:${u.from}:${u.key || u.id}`, u);
  }

  private markSeen(u: UserMessage): void {
    this.seen.set(`${u.from}:${u.id}`, Date.now() + USER_SEEN_MS);
  }
}

/**
 * Dissemination queue: every update is piggybacked on outgoing packets a limited number of times,
 * least-transmitted first and, among equals, newest first. A newer update about the same subject (same
 * key) replaces the queued one, so stale news is never sent after fresh news.
 */

/** Each broadcast is sent retransmitMult × ceil(log10(n + 1)) times to reach all n members w.h.p. */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(Math.max(0, n) + 1));
}

export interface Broadcast {
  /** Subject: `m:<node>` for membership news, `u:<from>:<key or id>` for user messages. */
  key: string;
  payload: Buffer;
  /** User messages are capped separately (rate limit); membership news never is. */
  user: boolean;
}

interface Entry extends Broadcast {
  transmits: number;
  seq: number;
}

export class BroadcastQueue {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;

  constructor(private readonly maxUser: number) {}

  /** Queues b, replacing any queued broadcast with the same key. Returns keys dropped by the cap. */
  push(b: Broadcast): string[] {
    this.entries.delete(b.key);
    this.entries.set(b.key, { ...b, transmits: 0, seq: this.seq++ });
    if (!b.user) return [];
    const users = [...this.entries.values()].filter((e) => e.user);
    const dropped: string[] = [];
    if (users.length > this.maxUser) {
      // Drop the most transmitted, then oldest, first.
      users.sort((a, z) => z.transmits - a.transmits || a.seq - z.seq);
      for (const e of users.slice(0, users.length - this.maxUser)) {
        this.entries.delete(e.key);
        dropped.push(e.key);
      }
    }
    return dropped;
  }

  /**
   * Takes broadcasts whose size + overhead fit into `budget` bytes in priority order, counts one
   * transmission for each and retires those that reached `limit`.
   */
  take(overhead: number, budget: number, limit: number): Buffer[] {
    if (this.entries.size === 0 || budget <= 0) return [];
    const ordered = [...this.entries.values()].sort((a, z) => a.transmits - z.transmits || z.seq - a.seq);
    const out: Buffer[] = [];
    let used = 0;
    for (const e of ordered) {
      const size = e.payload.length + overhead;
      if (used + size > budget) continue;
      used += size;
      out.push(e.payload);
      e.transmits++;
      if (e.transmits >= limit) this.entries.delete(e.key);
    }
    return out;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * The member table every part of the Memberlist shares: this node's own record, every member heard of,
 * the probe round order, and the lifecycle flags. No I/O and no timers.
 */
import type { NodeRecord } from './rules.js';
import type { Member } from './types.js';

export class MemberTable {
  private readonly nodes = new Map<string, NodeRecord>();
  private probeList: string[] = [];
  private probeIndex = 0;
  /** A graceful leave is under way: no more probing, news about us is not refuted. */
  leaving = false;
  /** Shut down: every part ignores input and stops its timers. */
  stopped = false;

  constructor(readonly self: NodeRecord) {
    this.nodes.set(self.name, self);
  }

  get(name: string): NodeRecord | undefined {
    return this.nodes.get(name);
  }

  all(): NodeRecord[] {
    return [...this.nodes.values()];
  }

  /** Every member but this one that matches `pred`. */
  others(pred: (n: NodeRecord) => boolean): NodeRecord[] {
    return this.all().filter((n) => n !== this.self && pred(n));
  }

  /** Stores a member's new record; a newcomer goes to a random spot of the current probe round. */
  set(next: NodeRecord): NodeRecord | undefined {
    const prev = this.nodes.get(next.name);
    this.nodes.set(next.name, next);
    if (!prev && isUp(next)) {
      const at = this.probeIndex + Math.floor(Math.random() * (this.probeList.length - this.probeIndex + 1));
      this.probeList.splice(at, 0, next.name);
    }
    return prev;
  }

  aliveCount(): number {
    let n = 0;
    for (const m of this.nodes.values()) if (isUp(m)) n++;
    return n;
  }

  /** Next member of the shuffled round-robin probe order (reshuffled once a round is through). */
  nextProbeTarget(): NodeRecord | undefined {
    for (let tries = 0; tries <= this.probeList.length + 1; tries++) {
      if (this.probeIndex >= this.probeList.length) {
        this.probeList = shuffle(this.others(isUp).map((n) => n.name));
        this.probeIndex = 0;
        if (this.probeList.length === 0) return undefined;
      }
      const n = this.nodes.get(this.probeList[this.probeIndex++] ?? '');
      if (n && n !== this.self && isUp(n)) return n;
    }
    return undefined;
  }

  /** Forgets members that have been down for longer than retentionMs. */
  reap(now: number, retentionMs: number): void {
    for (const n of this.others((m) => !isUp(m) && now - m.changedAt > retentionMs))
      this.nodes.delete(n.name);
  }
}

export function isUp(n: NodeRecord): boolean {
  return n.state === 'alive' || n.state === 'suspect';
}

export function toMember(n: NodeRecord): Member {
  return {
    name: n.name,
    address: n.addr,
    port: n.port,
    state: n.state,
    incarnation: n.incarnation,
    meta: Buffer.from(n.meta),
  };
}

export function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

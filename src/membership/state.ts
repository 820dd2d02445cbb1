/**
 * State changes: news about members (alive, suspect, dead) goes through the pure rules, and the
 * decision is applied here to the member table, the suspicion timers, the gossip queue and the events.
 */
import type { Awareness } from './awareness.js';
import type { PushPull } from './codec.js';
import type { MemberlistConfig } from './config.js';
import { type MemberTable, toMember } from './member-table.js';
import {
  type AccuseNews,
  type AliveNews,
  type Decision,
  type EventName,
  type LocalView,
  decideAlive,
  decideDead,
  decideSuspect,
} from './rules.js';
import type { Stats } from './stats.js';
import { Suspicion, suspicionBounds } from './suspicion.js';
import type { Member, NameConflict } from './types.js';
import type { Wire } from './wire.js';

export interface StateEvents {
  member(event: EventName, member: Member): void;
  conflict(c: NameConflict): void;
}

export class StateChanges {
  private readonly suspicions = new Map<string, Suspicion>();

  constructor(
    private readonly config: MemberlistConfig,
    private readonly table: MemberTable,
    private readonly wire: Wire,
    private readonly awareness: Awareness,
    private readonly stats: Stats,
    private readonly events: StateEvents,
  ) {}

  /** Returns the decision so a join can tell a name conflict about us from success. */
  onAlive(a: AliveNews): Decision {
    const d = decideAlive(this.table.get(a.node), a, this.localView(), Date.now());
    this.apply(d);
    if (d.action === 'apply') this.wire.gossipAbout(a.node, { kind: 'alive', ...a });
    return d;
  }

  /**
   * The conflict a joining member would have with a seed's view: the seed knows our name up at another
   * address. Checked before anything of that view is merged.
   */
  selfConflict(pp: PushPull): NameConflict | undefined {
    const me = pp.states.find((s) => s.name === this.table.self.name);
    if (!me || (me.state !== 'alive' && me.state !== 'suspect')) return undefined;
    const d = decideAlive(undefined, { ...me, node: me.name }, this.localView(), Date.now());
    if (d.action !== 'conflict') return undefined;
    // Decided from our side: "known" is our own record. The joiner's message names the cluster's copy first.
    return toConflict({ ...d, known: d.claimed, claimed: d.known }, true);
  }

  onSuspect(s: AccuseNews): void {
    const d = decideSuspect(this.table.get(s.node), s, this.localView(), Date.now());
    if (d.action === 'confirm') {
      if (this.suspicions.get(s.node)?.confirm(s.from))
        this.wire.gossipAbout(s.node, { kind: 'suspect', ...s });
      return;
    }
    this.apply(d);
    if (d.action !== 'apply') return;
    this.stats.counters.suspicions++;
    this.wire.gossipAbout(s.node, { kind: 'suspect', ...s });
    const bounds = suspicionBounds(this.table.aliveCount(), this.config);
    this.suspicions.get(s.node)?.cancel();
    this.suspicions.set(
      s.node,
      new Suspicion(s.from, bounds, () =>
        // Read what already arrived (a refutation may be waiting in the socket) before the verdict.
        setImmediate(() => {
          const n = this.table.get(s.node);
          if (!n || n.state !== 'suspect' || this.table.stopped) return;
          this.suspicions.delete(s.node);
          this.onDead({ node: s.node, incarnation: n.incarnation, from: this.table.self.name });
        }),
      ),
    );
  }

  onDead(dn: AccuseNews): void {
    const d = decideDead(this.table.get(dn.node), dn, this.localView(), Date.now());
    this.apply(d);
    if (d.action === 'apply') this.wire.gossipAbout(dn.node, { kind: 'dead', ...dn });
  }

  /** Gossips this member's current record (after a refutation or a metadata change). */
  announceSelf(): void {
    const s = this.table.self;
    this.wire.gossipAbout(s.name, {
      kind: 'alive',
      incarnation: s.incarnation,
      node: s.name,
      addr: s.addr,
      port: s.port,
      meta: s.meta,
      protocolMin: s.protocolMin,
      protocolMax: s.protocolMax,
    });
  }

  /** Marks this member as left and gossips it. */
  announceLeave(): void {
    const s = this.table.self;
    this.table.leaving = true;
    s.state = 'left';
    s.changedAt = Date.now();
    this.wire.gossipAbout(s.name, { kind: 'dead', node: s.name, incarnation: s.incarnation, from: s.name });
  }

  /** Cancels every suspicion timer. */
  stop(): void {
    for (const s of this.suspicions.values()) s.cancel();
    this.suspicions.clear();
  }

  private localView(): LocalView {
    const s = this.table.self;
    return {
      name: s.name,
      incarnation: s.incarnation,
      addr: s.addr,
      port: s.port,
      meta: s.meta,
      leaving: this.table.leaving,
    };
  }

  private apply(d: Decision): void {
    if (d.action === 'ignore' && d.reason === 'implausible') this.stats.drop('implausible');
    if (d.action === 'conflict') {
      this.stats.counters.nameConflicts++;
      this.events.conflict(toConflict(d, d.node === this.table.self.name));
      return;
    }
    if (d.action === 'refute') {
      this.stats.counters.refutations++;
      this.table.self.incarnation = d.incarnation;
      this.awareness.apply(1);
      this.announceSelf();
      return;
    }
    if (d.action !== 'apply') return;
    this.table.set(d.next);
    if (d.next.state !== 'suspect') {
      this.suspicions.get(d.next.name)?.cancel();
      this.suspicions.delete(d.next.name);
    }
    const member = toMember(d.next);
    for (const e of d.events) this.events.member(e, member);
  }
}

function toConflict(d: Extract<Decision, { action: 'conflict' }>, self: boolean): NameConflict {
  return {
    node: d.node,
    self,
    known: hostPort(d.known.addr, d.known.port),
    claimed: hostPort(d.claimed.addr, d.claimed.port),
  };
}

function hostPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

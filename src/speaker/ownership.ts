import { performance } from 'node:perf_hooks';
import type { VipDecision } from '../l2/desired.js';
import { withGossipFlowSets } from '../l2/flow-liveness.js';
import { mergeTargets, type WatchTargets, watchTargetsSliced } from '../l2/watch/targets.js';
import { GossipDeaths, ownershipViews } from '../l2/watch/view.js';
import type { Member } from '../membership/types.js';
import type { TimeSlicer } from '../util/slices.js';
import { memberViews, type MemberView } from './l2-inputs.js';
import type { SpeakerParts } from './parts.js';

/**
 * Who counts as alive when the speaker decides ownership: gossip's view, corrected by the direct owner
 * watch (l2/watch) and held back on fresh gossip deaths until the dead member's gate is surely shut
 * (l2/gate.ts). The watch pairs come from the decisions over gossip alone, so a successor that took a VIP
 * over keeps watching the owner and hands the VIP back when the owner is heard again.
 */
export class OwnershipLiveness {
  private readonly deaths = new GossipDeaths(() => performance.now());
  private recheck: NodeJS.Timeout | undefined;
  /** Members alive in the views of the decisions the datapath holds (none before the first apply). */
  private appliedAlive = new Set<string>();
  private nextAlive = new Set<string>();
  private watching: ReadonlySet<string> = new Set();
  /** Watch pairs per decision array (a round with unchanged inputs gets the same array back). */
  private readonly targetsOf = new WeakMap<readonly VipDecision[], WatchTargets>();
  /** The pairs and holding marks last handed to the watch. */
  private lastTargets: WatchTargets = { watching: new Set(), watchedBy: new Set() };
  private lastAddresses: ReadonlyMap<string, string> = new Map();
  private lastGone: ReadonlySet<string> = new Set();
  private lastHolding: ReadonlySet<string> = new Set();
  /** The watch's verdicts read when the last decision / the last marks were computed. */
  private nextSeen = 0;
  private lastSeen = 0;
  /**
   * Members alive in gossip but not in the decisions the datapath holds (they joined or came back since),
   * with their address: watched both ways and marked holding from the gossip event on, until a round
   * that counts them alive is applied. Deciding over thousands of VIPs takes seconds on a loaded host
   * (a round begun before the member joined runs on without it), and a joining node that hears nothing
   * from us meanwhile opens its gate at its cap next to our answers.
   */
  private readonly joining = new Map<string, { address: string; sinceMs: number }>();
  /** A decision of this process is in the data path (it is running, not starting). */
  private appliedOnce = false;

  constructor(
    private readonly parts: Pick<SpeakerParts, 'watch' | 'gate'>,
    private readonly node: string,
    private readonly onRecheck: () => void,
    /** Owners marked holding whatever the decisions say (VIPs the watch took that no round has written). */
    private readonly alsoHeld: () => Iterable<string> = () => [],
  ) {}

  noteMember(kind: string, member: Member): void {
    this.deaths.note(kind, member.name);
    if (member.name === this.node) return;
    if (kind === 'dead' || kind === 'leave') {
      if (this.joining.delete(member.name)) this.repost();
    } else if (member.state === 'alive') this.join([member]);
  }

  async decide(
    members: readonly Member[],
    decideWith: (views: readonly MemberView[]) => Promise<VipDecision[]>,
    slicer: TimeSlicer,
  ): Promise<{ decisions: VipDecision[]; views: MemberView[] }> {
    const { watch, gate } = this.parts;
    const addresses = new Map(members.map((m) => [m.name, m.address]));
    const gone = new Set(members.filter((m) => m.state === 'dead' || m.state === 'left').map((m) => m.name));
    // Members known before the events were listened to (a start) join here.
    this.join(members.filter((m) => m.name !== this.node && m.state === 'alive'));
    const gossip = memberViews(members);
    const byGossip = await decideWith(gossip);
    let targets = await this.targets(byGossip, slicer);
    // A member gossip calls dead may only be frozen: the successor holding its VIPs keeps watching it, to
    // hand them back and to report it up (a stale owner waits for that before it answers again).
    const dead = new Set(members.filter((m) => m.state === 'dead').map((m) => m.name));
    if (dead.size > 0) {
      const asAlive = gossip.map((v) => (dead.has(v.name) ? { ...v, alive: true } : v));
      targets = mergeTargets(targets, await this.targets(await decideWith(asAlive), slicer));
    }
    this.post(targets, addresses, gone);
    const seen = watch.verdictsSeen();
    const now = performance.now();
    const corrected = ownershipViews(
      gossip,
      this.node,
      (name) => watch.verdict(name),
      (name) => this.deaths.deadForMs(name),
      gate.swimTakeoverHoldMs,
      {
        of: (name) => {
          // A node that is starting itself takes the members it finds as they are.
          const j = this.appliedOnce ? this.joining.get(name) : undefined;
          return j && { readiness: watch.readiness(name), joinedForMs: now - j.sinceMs };
        },
        waitMs: gate.joinerWaitMs,
      },
    );
    if (corrected.recheckInMs !== undefined && !this.recheck) {
      this.recheck = setTimeout(
        () => {
          this.recheck = undefined;
          this.onRecheck();
        },
        Math.max(1, Math.ceil(corrected.recheckInMs)),
      );
    }
    // Owners this node watches whose VIPs it may answer: counted out now, or not alive in the decisions
    // the datapath holds (a member that just joined: until this round is applied, this node still
    // answers the VIPs it will hand to it). Marked in the watch packets before the decision is applied,
    // unmarked only after (applied()); such an owner keeps its gate shut meanwhile (l2/watch/freshness).
    this.nextAlive = new Set(corrected.views.filter((v) => v.alive).map((v) => v.name));
    this.nextSeen = seen;
    this.watching = targets.watching;
    this.hold(
      new Set([...targets.watching].filter((n) => !this.nextAlive.has(n) || !this.appliedAlive.has(n))),
      seen,
    );
    if (!corrected.changed) return { decisions: byGossip, views: gossip };
    // Ownership as the watch corrects it; flow sets as gossip has them (l2/flow-liveness.ts).
    const decisions = withGossipFlowSets(await decideWith(corrected.views), byGossip);
    return { decisions, views: corrected.views };
  }

  /** The last decision is in the data path: owners it no longer answers for may reopen their gates. */
  applied(): void {
    if (!this.appliedOnce) {
      this.appliedOnce = true;
      this.parts.watch.applied();
    }
    this.appliedAlive = this.nextAlive;
    let left = false;
    for (const name of this.appliedAlive) left = this.joining.delete(name) || left;
    if (left) this.repost();
    this.hold(
      new Set([...this.watching].filter((n) => !this.appliedAlive.has(n))),
      // The verdicts this decision was made on: the watch marks an owner it declared down after them.
      this.nextSeen,
    );
  }

  private join(members: readonly Member[]): void {
    let added = false;
    for (const m of members) {
      if (this.appliedAlive.has(m.name) || this.joining.get(m.name)?.address === m.address) continue;
      this.joining.set(m.name, { address: m.address, sinceMs: performance.now() });
      added = true;
    }
    if (!added) return;
    // Marked before its session exists: no packet of that session ever reports it up while we hold.
    this.hold(this.lastHolding);
    this.repost();
  }

  private repost(): void {
    this.post(this.lastTargets, this.lastAddresses, this.lastGone);
  }

  /** The pairs to the watch, with every joining member watched both ways. */
  private post(
    targets: WatchTargets,
    addresses: ReadonlyMap<string, string>,
    gone: ReadonlySet<string>,
  ): void {
    this.lastTargets = targets;
    this.lastAddresses = addresses;
    this.lastGone = gone;
    if (this.joining.size === 0) {
      this.parts.watch.setTargets(targets, addresses, gone);
      return;
    }
    const names = new Set(this.joining.keys());
    this.parts.watch.setTargets(
      mergeTargets(targets, { watching: names, watchedBy: names }),
      new Map([...addresses, ...[...this.joining].map(([name, j]) => [name, j.address] as const)]),
      gone,
    );
  }

  /** The holding marks to the watch, every joining member included; `seen` as in setHolding. */
  private hold(peers: ReadonlySet<string>, seen = this.lastSeen): void {
    this.lastHolding = peers;
    this.lastSeen = seen;
    this.parts.watch.setHolding(new Set([...peers, ...this.joining.keys(), ...this.alsoHeld()]), seen);
  }

  private async targets(decisions: readonly VipDecision[], slicer: TimeSlicer): Promise<WatchTargets> {
    let t = this.targetsOf.get(decisions);
    if (!t) {
      t = await watchTargetsSliced(decisions, this.node, slicer);
      this.targetsOf.set(decisions, t);
    }
    return t;
  }

  stop(): void {
    clearTimeout(this.recheck);
    this.recheck = undefined;
  }
}

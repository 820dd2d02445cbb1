import { performance } from 'node:perf_hooks';
import type { VipDecision } from '../l2/desired.js';
import { withGossipFlowSets } from '../l2/flow-liveness.js';
import { mergeTargets, watchTargets } from '../l2/watch/targets.js';
import { GossipDeaths, ownershipViews } from '../l2/watch/view.js';
import type { Member } from '../membership/types.js';
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
  private holding = new Set<string>();
  private nextHolding = new Set<string>();

  constructor(
    private readonly parts: Pick<SpeakerParts, 'watch' | 'gate'>,
    private readonly node: string,
    private readonly onRecheck: () => void,
  ) {}

  noteMember(kind: string, member: Member): void {
    this.deaths.note(kind, member.name);
  }

  async decide(
    members: readonly Member[],
    decideWith: (views: readonly MemberView[]) => Promise<VipDecision[]>,
  ): Promise<{ decisions: VipDecision[]; views: MemberView[] }> {
    const { watch, gate } = this.parts;
    const gossip = memberViews(members);
    const byGossip = await decideWith(gossip);
    let targets = watchTargets(byGossip, this.node);
    // A member gossip calls dead may only be frozen: the successor holding its VIPs keeps watching it, to
    // hand them back and to report it up (a stale owner waits for that before it answers again).
    const dead = new Set(members.filter((m) => m.state === 'dead').map((m) => m.name));
    if (dead.size > 0) {
      const asAlive = gossip.map((v) => (dead.has(v.name) ? { ...v, alive: true } : v));
      targets = mergeTargets(targets, watchTargets(await decideWith(asAlive), this.node));
    }
    const gone = new Set(members.filter((m) => m.state === 'dead' || m.state === 'left').map((m) => m.name));
    watch.setTargets(targets, new Map(members.map((m) => [m.name, m.address])), gone);
    const corrected = ownershipViews(
      gossip,
      this.node,
      (name) => watch.verdict(name),
      (name) => this.deaths.deadForMs(name),
      gate.swimTakeoverHoldMs,
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
    // Owners this node watches and counts out: it may answer some of their VIPs. Marked in the watch
    // packets before the decision is applied, unmarked only after (applied()).
    const out = new Set(corrected.views.filter((v) => !v.alive).map((v) => v.name));
    this.nextHolding = new Set([...targets.watching].filter((name) => out.has(name)));
    watch.setHolding(new Set([...this.holding, ...this.nextHolding]));
    if (!corrected.changed) return { decisions: byGossip, views: gossip };
    // Ownership as the watch corrects it; flow sets as gossip has them (l2/flow-liveness.ts).
    const decisions = withGossipFlowSets(await decideWith(corrected.views), byGossip);
    return { decisions, views: corrected.views };
  }

  /** The last decision is in the data path: owners it no longer answers for may reopen their gates. */
  applied(): void {
    this.holding = this.nextHolding;
    this.parts.watch.setHolding(this.holding);
  }

  stop(): void {
    clearTimeout(this.recheck);
    this.recheck = undefined;
  }
}

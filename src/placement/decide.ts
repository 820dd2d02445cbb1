import { nodeLoads, touchedNodes, utilization, vipLoadOn, type LinkLoad, type VipTraffic } from './load.js';

/** Knobs of `spec.placement` (all optional in the config; these are the defaults). */
export interface PlacementKnobs {
  /** Act when a node's link is busier than this share of its capacity. */
  thresholdRatio: number;
  /** ... for at least this long. */
  sustainMs: number;
  /** A move must lower the hot node's utilization by at least this much (absolute ratio). */
  minGainRatio: number;
  /** A VIP moves at most once per this interval. */
  minMoveIntervalMs: number;
  /** Moves decided per round, cluster-wide. */
  maxMovesPerRound: number;
}

export const DEFAULT_PLACEMENT_KNOBS: PlacementKnobs = {
  thresholdRatio: 0.7,
  sustainMs: 30_000,
  minGainRatio: 0.05,
  minMoveIntervalMs: 300_000,
  maxMovesPerRound: 4,
};

export interface PlacementEntry {
  node: string;
  movedAtMs: number;
}

export interface PlacedVipInput extends VipTraffic {
  /** Rendezvous owner among `eligible`: who owns the VIP without a placement entry. */
  hashedOwner: string;
  knobs?: PlacementKnobs;
}

export interface PlacementInput {
  vips: readonly PlacedVipInput[];
  /** Link capacity per node in bytes per second; nodes without one are never a source nor a target. */
  capacities: ReadonlyMap<string, number>;
  entries: ReadonlyMap<string, PlacementEntry>;
  /** Since when each node has been over the threshold (from the previous round). */
  hotSinceMs: ReadonlyMap<string, number>;
  nowMs: number;
  knobs?: PlacementKnobs;
}

export interface PlacementMove {
  ip: string;
  from: string;
  to: string;
  fromBefore: number;
  fromAfter: number;
  toBefore: number;
  toAfter: number;
  reason: string;
}

export interface PlacementDecision {
  entries: Map<string, PlacementEntry>;
  moves: PlacementMove[];
  hotSinceMs: Map<string, number>;
  /** Utilization per node after the moves (nodes with a known capacity). */
  utilization: Map<string, number>;
}

/** Owner of a VIP given the placement entries: the placed node while it is eligible, else the hash. */
export function placedOwner(
  vip: Pick<PlacedVipInput, 'eligible' | 'hashedOwner'>,
  entry: PlacementEntry | undefined,
): string {
  return entry && vip.eligible.includes(entry.node) ? entry.node : vip.hashedOwner;
}

/**
 * One round of bandwidth-aware placement. Pure. A node whose link has been above the threshold for the
 * sustain time gives up VIPs, busiest node first, to the eligible node where the move leaves both links
 * least loaded. A move is taken only when the target stays below the threshold and the source gains at
 * least the minimum: so no move raises the maximum utilization, and with constant rates the total excess
 * over the threshold shrinks by at least the minimum gain per move — moves stop, they never oscillate.
 * Entries that no longer matter (node not eligible, or equal to the hash after the move interval) drop.
 */
export function decidePlacement(input: PlacementInput): PlacementDecision {
  const defaults = input.knobs ?? DEFAULT_PLACEMENT_KNOBS;
  const entries = new Map<string, PlacementEntry>();
  const owners = new Map<string, string>();
  for (const vip of input.vips) {
    const entry = input.entries.get(vip.ip);
    const owner = placedOwner(vip, entry);
    owners.set(vip.ip, owner);
    const knobs = vip.knobs ?? defaults;
    if (entry && owner === entry.node) {
      const settled = input.nowMs - entry.movedAtMs >= knobs.minMoveIntervalMs;
      if (!(settled && owner === vip.hashedOwner)) entries.set(vip.ip, entry);
    }
  }
  const nodes = [...input.capacities.keys()].sort();
  const loads = nodeLoads(input.vips, owners, nodes);
  const util = (node: string): number =>
    utilization(loads.get(node) as LinkLoad, input.capacities.get(node) as number);

  // A node is hot above the lowest threshold any VIP asks for; each VIP's own threshold and sustain decide
  // whether its node gives it up (bestMove), so every advertisement's knobs hold.
  const eager = eagerKnobs(input.vips, defaults);
  const hotSinceMs = new Map<string, number>();
  for (const n of nodes) {
    if (util(n) > eager.thresholdRatio) hotSinceMs.set(n, input.hotSinceMs.get(n) ?? input.nowMs);
  }
  const owned = new Map<string, PlacedVipInput[]>();
  for (const vip of input.vips) {
    const owner = owners.get(vip.ip) as string;
    const list = owned.get(owner);
    if (list) list.push(vip);
    else owned.set(owner, [vip]);
  }
  const moves: PlacementMove[] = [];
  const exhausted = new Set<string>();
  while (moves.length < defaults.maxMovesPerRound) {
    const source = nodes
      .filter((n) => !exhausted.has(n))
      .filter((n) => {
        const since = hotSinceMs.get(n);
        return (
          since !== undefined && input.nowMs - since >= eager.sustainMs && util(n) > eager.thresholdRatio
        );
      })
      .sort((a, b) => util(b) - util(a) || (a < b ? -1 : 1))[0];
    if (source === undefined) break;
    const hotForMs = input.nowMs - (hotSinceMs.get(source) as number);
    const move = bestMove(source, hotForMs, owned.get(source) ?? [], input, loads, util, defaults);
    if (!move) {
      exhausted.add(source);
      continue;
    }
    applyMove(move.vip, source, move.to, loads);
    owners.set(move.vip.ip, move.to);
    owned.set(
      source,
      (owned.get(source) ?? []).filter((v) => v !== move.vip),
    );
    owned.set(move.to, [...(owned.get(move.to) ?? []), move.vip]);
    entries.set(move.vip.ip, { node: move.to, movedAtMs: input.nowMs });
    moves.push(move.record);
  }
  const after = new Map(nodes.map((n) => [n, util(n)]));
  return { entries, moves, hotSinceMs, utilization: after };
}

interface Candidate {
  vip: PlacedVipInput;
  to: string;
  record: PlacementMove;
  score: number;
}

/** The lowest threshold and shortest sustain of any VIP: when a node may start giving VIPs up. */
function eagerKnobs(vips: readonly PlacedVipInput[], defaults: PlacementKnobs): PlacementKnobs {
  const all = vips.map((v) => v.knobs ?? defaults);
  if (all.length === 0) return defaults;
  return {
    ...defaults,
    thresholdRatio: Math.min(...all.map((k) => k.thresholdRatio)),
    sustainMs: Math.min(...all.map((k) => k.sustainMs)),
  };
}

function bestMove(
  source: string,
  hotForMs: number,
  candidates: readonly PlacedVipInput[],
  input: PlacementInput,
  loads: Map<string, LinkLoad>,
  util: (node: string) => number,
  defaults: PlacementKnobs,
): Candidate | undefined {
  let best: Candidate | undefined;
  const fromBefore = util(source);
  for (const vip of candidates) {
    const knobs = vip.knobs ?? defaults;
    if (fromBefore <= knobs.thresholdRatio || hotForMs < knobs.sustainMs) continue;
    const entry = input.entries.get(vip.ip);
    if (entry && input.nowMs - entry.movedAtMs < knobs.minMoveIntervalMs) continue;
    for (const to of vip.eligible) {
      const capacity = input.capacities.get(to);
      if (to === source || capacity === undefined) continue;
      const utilAfter = (node: string): number | undefined => {
        const cap = input.capacities.get(node);
        const load = loads.get(node);
        return cap === undefined || !load
          ? undefined
          : utilization(shifted(vip, source, to, node, load), cap);
      };
      const fromAfter = utilAfter(source) as number;
      const toAfter = utilAfter(to) as number;
      if (toAfter >= knobs.thresholdRatio) continue;
      if (fromBefore - fromAfter < knobs.minGainRatio) continue;
      const bystanders = new Set([...touchedNodes(vip, to), ...touchedNodes(vip, source)]);
      bystanders.delete(source);
      bystanders.delete(to);
      if ([...bystanders].some((n) => pushedOver(utilAfter(n), util(n), knobs))) continue;
      const score = Math.max(fromAfter, toAfter);
      if (!best || score < best.score || (score === best.score && preferred(vip, to, toAfter, best))) {
        const toBefore = util(to);
        best = {
          vip,
          to,
          score,
          record: {
            ip: vip.ip,
            from: source,
            to,
            fromBefore,
            fromAfter,
            toBefore,
            toAfter,
            reason: `moved ${vip.ip} ${source} → ${to}: ${source} link ${pct(fromBefore)} → ${pct(fromAfter)}, ${to} ${pct(toBefore)} → ${pct(toAfter)}`,
          },
        };
      }
    }
  }
  return best;
}

/** A third node (flow set) must not be pushed over the threshold by a move either. */
function pushedOver(after: number | undefined, before: number, knobs: PlacementKnobs): boolean {
  return after !== undefined && after > before && after >= knobs.thresholdRatio;
}

/** Equal worst link: the emptier target, then less traffic moved (fewer connections disturbed), then names. */
function preferred(vip: VipTraffic, to: string, toAfter: number, best: Candidate): boolean {
  if (toAfter !== best.record.toAfter) return toAfter < best.record.toAfter;
  const volume = vip.rxBytesPerSecond + vip.txBytesPerSecond;
  const bestVolume = best.vip.rxBytesPerSecond + best.vip.txBytesPerSecond;
  if (volume !== bestVolume) return volume < bestVolume;
  return vip.ip < best.vip.ip || (vip.ip === best.vip.ip && to < best.to);
}

function applyMove(vip: VipTraffic, from: string, to: string, loads: Map<string, LinkLoad>): void {
  for (const node of new Set([...touchedNodes(vip, from), ...touchedNodes(vip, to)])) {
    const load = loads.get(node);
    if (load) loads.set(node, shifted(vip, from, to, node, load));
  }
}

/** `node`'s link load once `vip`'s owner changes from `from` to `to`. */
function shifted(vip: VipTraffic, from: string, to: string, node: string, load: LinkLoad): LinkLoad {
  const before = vipLoadOn(vip, from, node);
  const after = vipLoadOn(vip, to, node);
  return { rx: load.rx + after.rx - before.rx, tx: load.tx + after.tx - before.tx };
}

function pct(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}

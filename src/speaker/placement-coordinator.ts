import type { HeraldModel } from '../config/index.js';
import type { ClusterRateView } from '../metrics/gossip.js';
import type { PlacementMetrics } from '../metrics/placement.js';
import { encodePlacement, PLACEMENT_GOSSIP_KEY } from '../placement/codec.js';
import { decidePlacement, type PlacedVipInput, type PlacementEntry } from '../placement/decide.js';
import { placementKnobs, type L2PlacementSpec } from '../placement/knobs.js';
import { nextPlacementVersion, placementCoordinator } from '../placement/map.js';
import type { VipDecision } from '../l2/desired.js';
import type { Logger } from '../util/log.js';
import { l2AdvertisementsByPool } from './l2-inputs.js';
import type { GossipChannel, PlacementSink, SpeakerView } from './view.js';

export interface PlacementCoordinatorOptions {
  speaker: SpeakerView & PlacementSink;
  gossip: GossipChannel;
  rates: ClusterRateView;
  metrics: PlacementMetrics;
  log: Logger;
  /** Decision period (default 5 s). */
  intervalMs?: number;
  /** The coordinator re-sends its map this often so late joiners and lost packets catch up (default 15 s). */
  republishMs?: number;
  /** Rate reports older than this are ignored (default 30 s). */
  maxReportAgeMs?: number;
  now?: () => number;
}

/**
 * Runs bandwidth placement on the one node that coordinates (rendezvous winner among the alive members):
 * reads the gossiped per-VIP rates and link capacities, decides one round (placement/decide.ts, pure) and
 * publishes a new map version by gossip when anything changed. On every other node it only keeps the
 * placement metrics current. Returns a stop function.
 */
export function startPlacementCoordinator(opts: PlacementCoordinatorOptions): () => void {
  const now = opts.now ?? (() => performance.now());
  const maxAge = opts.maxReportAgeMs ?? 30_000;
  let hotSince = new Map<string, number>();
  let lastPublishMs = -Infinity;
  let countedFrom: readonly VipDecision[] | undefined;
  const round = () => {
    const { speaker } = opts;
    const map = speaker.placementMap();
    opts.metrics.mapVersion.set(map.version);
    // Unchanged decisions are the same array (speaker/decider.ts): no pass over every VIP then.
    const decisions = speaker.decisions();
    if (decisions !== countedFrom) {
      countedFrom = decisions;
      opts.metrics.placedVips.set(decisions.filter((d) => d.placement?.placed).length);
    }
    const alive = speaker
      .members()
      .filter((m) => m.state === 'alive')
      .map((m) => m.name);
    const model = speaker.model();
    if (placementCoordinator(alive) !== speaker.node || !model) {
      hotSince = new Map();
      return;
    }
    // No pool under bandwidth placement and nothing placed: nothing to decide (no pass over the VIPs).
    if (map.entries.size === 0 && placementSpecsByPool(model).size === 0) return;
    const nowMs = now();
    const inputs = placementInputs(speaker, model, opts.rates, nowMs, maxAge);
    if (inputs.vips.length === 0 && map.entries.size === 0) return;
    const decision = decidePlacement({
      vips: inputs.vips,
      capacities: inputs.capacities,
      entries: map.entries,
      hotSinceMs: hotSince,
      nowMs: Date.now(),
    });
    hotSince = decision.hotSinceMs;
    for (const move of decision.moves) {
      opts.log.info({ ip: move.ip, from: move.from, to: move.to }, move.reason);
      opts.metrics.moves.inc({ reason: 'link_over_threshold' });
    }
    const changed = !sameEntries(decision.entries, map.entries);
    if (!changed && nowMs - lastPublishMs < (opts.republishMs ?? 15_000)) return;
    const next = changed
      ? { version: nextPlacementVersion(map), coordinator: speaker.node, entries: decision.entries }
      : map;
    if (changed) speaker.offerPlacement(next);
    if (next.version === 0) return;
    opts.gossip.broadcast(encodePlacement(next), PLACEMENT_GOSSIP_KEY);
    lastPublishMs = nowMs;
  };
  const timer = setInterval(() => {
    try {
      round();
    } catch (error) {
      opts.log.error({ err: error }, 'placement round failed');
    }
  }, opts.intervalMs ?? 5000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The decision's inputs from what this node knows: every L2 VIP under a bandwidth placement with its
 * eligible nodes and hash owner, its ingress (the largest rate any node reports for it: the owner sees all
 * of it), and each alive node's link capacity from its rate report.
 */
export function placementInputs(
  speaker: Pick<SpeakerView, 'decisions' | 'allocations'>,
  model: HeraldModel,
  rates: ClusterRateView,
  nowMs: number,
  maxAgeMs: number,
): { vips: PlacedVipInput[]; capacities: Map<string, number> } {
  const specs = placementSpecsByPool(model);
  const poolOf = new Map<string, string>();
  for (const a of speaker.allocations().values()) for (const ip of a.ips) poolOf.set(ip, a.pool);
  const ingress = new Map<string, number>();
  const capacities = new Map<string, number>();
  for (const { node, report } of rates.fresh(nowMs, maxAgeMs)) {
    if (report.capacityBits > 0) capacities.set(node, report.capacityBits / 8);
    for (const v of report.vips) ingress.set(v.ip, Math.max(ingress.get(v.ip) ?? 0, v.bitsPerSecond / 8));
  }
  const vips: PlacedVipInput[] = [];
  for (const d of speaker.decisions()) {
    if (!d.placement || (d.mode !== 'single' && d.mode !== 'flows')) continue;
    const spec = specs.get(poolOf.get(d.ip) ?? '');
    vips.push({
      ip: d.ip,
      mode: d.mode,
      eligible: d.eligible,
      ...(d.flowSet ? { flowSet: [...d.flowSet.keys()] } : {}),
      hashedOwner: d.placement.hashedOwner,
      rxBytesPerSecond: ingress.get(d.ip) ?? 0,
      txBytesPerSecond: 0,
      ...(spec ? { knobs: placementKnobs(spec) } : {}),
    });
  }
  return { vips, capacities };
}

/** The `spec.placement` of the first L2Advertisement with `by: bandwidth` selecting each pool. */
export function placementSpecsByPool(model: HeraldModel): Map<string, L2PlacementSpec> {
  const out = new Map<string, L2PlacementSpec>();
  for (const [pool, ads] of l2AdvertisementsByPool(model)) {
    const spec = ads.find((ad) => ad.spec.placement?.by === 'bandwidth')?.spec.placement;
    if (spec) out.set(pool, spec);
  }
  return out;
}

function sameEntries(
  a: ReadonlyMap<string, PlacementEntry>,
  b: ReadonlyMap<string, PlacementEntry>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [ip, e] of a) {
    const o = b.get(ip);
    if (!o || o.node !== e.node || o.movedAtMs !== e.movedAtMs) return false;
  }
  return true;
}

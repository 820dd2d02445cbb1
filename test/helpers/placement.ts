/**
 * The bandwidth-placement scenario shared by the namespace test and the benchmark: skewed ingress on a
 * placement lab (src/lab/placement-lab.ts) with the ARP watcher on the LAN client and long-lived
 * connections to both heavy VIPs from the client behind the router, measured before and after the move.
 */
import type { ChildProcess } from 'node:child_process';
import { rendezvousOrder } from '../../src/l2/rendezvous.js';
import { holdConnections, runRequests, type HeldConnection } from '../../src/lab/flow-lab.js';
import {
  linkUse,
  loggedMoves,
  skewedLoad,
  type LinkUse,
  type LoggedMove,
  type PlacementLab,
  type SkewedLoad,
} from '../../src/lab/placement-lab.js';
import { startUdpLoad } from '../../src/lab/udp-load.js';
import { sleep } from '../../src/util/wait.js';
import { ArpWatch, type WatchSummary } from './arp-watch.js';
import { answering } from './lab.js';
import { waitUntil } from './probes.js';

const CONNS_PER_VIP = 6;

export interface PlacementRun {
  load: SkewedLoad;
  /** Owner of each VIP (XDP maps) before the load started. */
  ownersBefore: Map<string, string>;
  /** Link use measured while the hash placement stood. */
  before: Map<string, LinkUse>;
  /** When the load started and when a heavy VIP's owner changed in the XDP maps (ms since the epoch). */
  loadStartedAt: number;
  movedAt: number;
  /** When the coordinator logged that move (its decision; the handover follows). */
  decidedAt: number | undefined;
  moved: { ip: string; from: string; to: string };
  /** Link use measured after the move. */
  after: Map<string, LinkUse>;
  watch: ArpWatch;
  conns: Array<Map<number, HeldConnection>>;
  children: ChildProcess[];
}

/** The single answering node of every VIP, or undefined while any VIP has none or several. */
export function owners(lab: PlacementLab): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const ip of lab.vips) {
    const nodes = [...answering(lab.cluster, ip).keys()];
    if (nodes.length !== 1) return undefined;
    out.set(ip, nodes[0] as string);
  }
  return out;
}

/**
 * Waits for the lab, starts the watcher, the connections and the load (bounded by `maxMs`), measures,
 * waits up to `moveTimeoutMs` for a heavy VIP to move, waits `settleMs`, measures again. The load, the
 * watcher and the connections keep running (until maxMs) so a caller can go on observing; the lab's
 * teardown ends them.
 */
export async function runPlacement(
  lab: PlacementLab,
  opts: { maxMs: number; moveTimeoutMs: number; settleMs?: number; windowMs?: number },
): Promise<PlacementRun> {
  const { cluster } = lab;
  const client = cluster.clients[0]!;
  const routed = cluster.routedClients[0]!;
  const windowMs = opts.windowMs ?? 4000;
  const names = cluster.nodes.map((n) => n.name);
  const load = skewedLoad(lab.vips, names, lab.capacityBits);
  // Until every speaker has joined, a VIP may be answered by its hash owner among fewer nodes.
  let ownersBefore = new Map<string, string>();
  await waitUntil(`every VIP answered by its hash owner among ${names.length} nodes`, 90_000, () => {
    ownersBefore = owners(lab) ?? new Map();
    return lab.vips.every((ip) => ownersBefore.get(ip) === rendezvousOrder(ip, names)[0]);
  });
  await waitUntil('flows of a heavy VIP reach every node', 60_000, async () => {
    const r = await runRequests(cluster, routed, load.heavy[0], 4, 30, 0);
    return Object.keys(r.nodes).length === cluster.nodes.length && r.failed === 0;
  });
  const watch = await ArpWatch.start(cluster.lan, client.ns, {
    source4: client.ip4,
    vips: lab.vips,
    maxDurationMs: opts.maxMs,
    heartbeatPins: cluster.nodes.map((n) => n.pinDir),
  });
  // flow-load holds connections for 10 minutes at most.
  const holdMs = Math.min(opts.maxMs, 600_000);
  const held = load.heavy.map((ip) => holdConnections(cluster, routed, ip, CONNS_PER_VIP, 500, holdMs, 5000));
  const children = [...held.map((h) => h.child)];
  await waitUntil(`${2 * CONNS_PER_VIP} long-lived connections answered`, 20_000, () =>
    held.every((h) => h.conns.size === CONNS_PER_VIP),
  );
  const loadStartedAt = Date.now();
  children.push(startUdpLoad(cluster, routed, load.rates, opts.maxMs));
  await sleep(1000);
  const before = await linkUse(lab, windowMs);
  let moved: PlacementRun['moved'] | undefined;
  await waitUntil(`a heavy VIP to move off ${load.hot}`, opts.moveTimeoutMs, () => {
    const now = owners(lab);
    const ip = load.heavy.find((h) => now?.get(h) !== undefined && now.get(h) !== load.hot);
    if (ip) moved = { ip, from: load.hot, to: now?.get(ip) as string };
    return moved !== undefined;
  });
  const movedAt = Date.now();
  const decidedAt = loggedMoves(cluster).find((m) => m.ip === moved?.ip)?.at;
  await sleep(opts.settleMs ?? 2000);
  const after = await linkUse(lab, windowMs);
  return {
    load,
    ownersBefore,
    before,
    loadStartedAt,
    movedAt,
    decidedAt,
    moved: moved as PlacementRun['moved'],
    after,
    watch,
    conns: held.map((h) => h.conns),
    children,
  };
}

/** Connections that broke, and those that did not answer after `since` (ms since the epoch). */
export function brokenConnections(
  run: PlacementRun,
  since: number,
): { broken: number; stale: number; total: number } {
  const all = run.conns.flatMap((m) => [...m.values()]);
  return {
    total: all.length,
    broken: all.filter((c) => c.error !== undefined).length,
    stale: all.filter((c) => c.error === undefined && (c.lastAt ?? 0) <= since).length,
  };
}

/** Moves logged since the load started. */
export function movesSince(run: PlacementRun, lab: PlacementLab, since = run.loadStartedAt): LoggedMove[] {
  return loggedMoves(lab.cluster).filter((m) => m.at >= since);
}

export type { WatchSummary };

/** How a VIP's traffic crosses node links, by L2 mode. Rates are smoothed bytes per second. */
export type PlacedMode = 'single' | 'flows';

export interface VipTraffic {
  ip: string;
  mode: PlacedMode;
  /** Nodes allowed to own the VIP (selectors, Local policy, health checks already applied). */
  eligible: readonly string[];
  /** In flow mode, the nodes that serve its flows (usually = eligible). */
  flowSet?: readonly string[];
  /** Ingress from the LAN to the VIP. */
  rxBytesPerSecond: number;
  /** Egress of the VIP's replies (0 when unknown). */
  txBytesPerSecond: number;
}

export interface LinkLoad {
  rx: number;
  tx: number;
}

/**
 * What a VIP puts on `node`'s link when `owner` answers it. Single mode: the owner carries all of it.
 * Flow mode: the owner receives every ingress frame and sends the other nodes' share back out on the same
 * link; each flow-set node carries its share of ingress (steered in) and of egress (replies go direct).
 */
export function vipLoadOn(vip: VipTraffic, owner: string, node: string): LinkLoad {
  if (vip.mode === 'single') {
    return node === owner ? { rx: vip.rxBytesPerSecond, tx: vip.txBytesPerSecond } : { rx: 0, tx: 0 };
  }
  const flowSet = vip.flowSet ?? vip.eligible;
  const n = flowSet.length;
  const inSet = flowSet.includes(node);
  const share = n > 0 && inSet ? 1 / n : 0;
  if (node === owner) {
    const steeredOut = vip.rxBytesPerSecond * (1 - share);
    return { rx: vip.rxBytesPerSecond, tx: steeredOut + vip.txBytesPerSecond * share };
  }
  return { rx: vip.rxBytesPerSecond * share, tx: vip.txBytesPerSecond * share };
}

/** Link utilization of a full-duplex link: the busier direction over capacity. */
export function utilization(load: LinkLoad, capacityBytesPerSecond: number): number {
  return Math.max(load.rx, load.tx) / capacityBytesPerSecond;
}

/** Every node's link load for the given owners. Nodes absent from `nodes` are ignored. */
export function nodeLoads(
  vips: readonly VipTraffic[],
  owners: ReadonlyMap<string, string>,
  nodes: Iterable<string>,
): Map<string, LinkLoad> {
  const loads = new Map<string, LinkLoad>();
  for (const n of nodes) loads.set(n, { rx: 0, tx: 0 });
  for (const vip of vips) {
    const owner = owners.get(vip.ip);
    if (owner === undefined) continue;
    for (const node of touchedNodes(vip, owner)) {
      const load = loads.get(node);
      if (!load) continue;
      const add = vipLoadOn(vip, owner, node);
      load.rx += add.rx;
      load.tx += add.tx;
    }
  }
  return loads;
}

/** The nodes whose links a VIP uses when `owner` answers it. */
export function touchedNodes(vip: VipTraffic, owner: string): string[] {
  if (vip.mode === 'single') return [owner];
  const set = new Set(vip.flowSet ?? vip.eligible);
  set.add(owner);
  return [...set];
}

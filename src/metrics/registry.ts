import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type Concentration, clusterConcentration } from './cluster.js';
import type { ClusterRateView } from './gossip.js';
import { type Announcement, formatValue, VipFamilyRenderer } from './exposition.js';
import { type LinkSpeed, type LinkSpeedProbe, probeLinkSpeed, utilizationRatio } from './link.js';
import { type FlowGuardSource, type FlowTrafficSource, renderFlowFamilies } from './flows.js';
import { withLoopDelayMonitor } from './loop-delay.js';
import type { TrafficMonitor } from './monitor.js';
import { totalRate } from './rates.js';

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';
const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

export interface ClusterAttachment {
  view: ClusterRateView;
  /** This node's name: its own rate comes from the local traffic monitor, not from gossip. */
  localNode: string;
  /** Alive member names; nodes without a fresh report count as 0 traffic. Omit to count reporters only. */
  members?: () => Iterable<string>;
  /** Reports older than this are ignored (default 30 s). */
  maxAgeMs?: number;
  now?: () => number;
}

/** Every Herald metric. Per-VIP families are rendered by a fast path; the rest are prom-client metrics. */
export class HeraldMetrics {
  readonly allocatorAddressesTotal: Gauge<'pool'>;
  readonly allocatorAddressesInUse: Gauge<'pool'>;
  readonly bgpSessionUp: Gauge<'peer'>;
  readonly bgpUpdatesTotal: Counter<'peer'>;
  readonly bgpAnnouncedPrefixes: Gauge<'peer'>;
  readonly bfdSessionUp: Gauge<'peer'>;
  readonly members: Gauge<'state'>;
  readonly failoverSeconds: Histogram;
  readonly linkSpeedBytes: Gauge<'interface'>;
  readonly clusterNodeRxBytes: Gauge<'node'>;
  readonly clusterBusiestNode: Gauge<'node'>;
  readonly trafficReadErrors: Counter;

  private traffic: TrafficMonitor | undefined;
  private flows: FlowTrafficSource | undefined;
  private flowGuards: FlowGuardSource | undefined;
  private cluster: ClusterAttachment | undefined;
  private readonly capacities = new Map<string, number>();
  private readonly vipFamilies = new VipFamilyRenderer();
  private lastConcentration: Concentration | undefined;
  private trafficErrorsSeen = 0;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.allocatorAddressesTotal = new Gauge({
      name: 'herald_allocator_addresses_total',
      help: 'Number of usable IP addresses in the pool (MetalLB: metallb_allocator_addresses_total).',
      labelNames: ['pool'],
      registers,
    });
    this.allocatorAddressesInUse = new Gauge({
      name: 'herald_allocator_addresses_in_use_total',
      help: 'Number of IP addresses of the pool assigned to services (MetalLB meaning).',
      labelNames: ['pool'],
      registers,
    });
    this.bgpSessionUp = new Gauge({
      name: 'herald_bgp_session_up',
      help: 'BGP session to the peer is established (1) or not (0).',
      labelNames: ['peer'],
      registers,
    });
    this.bgpUpdatesTotal = new Counter({
      name: 'herald_bgp_updates_total',
      help: 'BGP UPDATE messages sent to the peer.',
      labelNames: ['peer'],
      registers,
    });
    this.bgpAnnouncedPrefixes = new Gauge({
      name: 'herald_bgp_announced_prefixes_total',
      help: 'Prefixes currently advertised to the peer (a gauge, as in MetalLB).',
      labelNames: ['peer'],
      registers,
    });
    this.bfdSessionUp = new Gauge({
      name: 'herald_bfd_session_up',
      help: 'BFD session with the peer is up (1) or not (0).',
      labelNames: ['peer'],
      registers,
    });
    this.members = new Gauge({
      name: 'herald_members',
      help: 'Gossip members known to this speaker, by state.',
      labelNames: ['state'],
      registers,
    });
    for (const state of MEMBER_STATES) this.members.set({ state }, 0);
    this.failoverSeconds = new Histogram({
      name: 'herald_failover_seconds',
      help: 'Time from an owner failing (last heard) to this node announcing its VIPs.',
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20],
      registers,
    });
    this.linkSpeedBytes = new Gauge({
      name: 'herald_node_link_speed_bytes',
      help: 'Capacity of the announcing interface in bytes/s (kernel speed or configured override).',
      labelNames: ['interface'],
      registers,
    });
    this.clusterNodeRxBytes = new Gauge({
      name: 'herald_cluster_node_rx_bytes_per_second',
      help: 'VIP ingress of each node as gossiped (this node: local), bytes/s.',
      labelNames: ['node'],
      registers,
      collect: () => this.collectCluster(),
    });
    this.trafficReadErrors = new Counter({
      name: 'herald_vip_counters_read_errors_total',
      help: 'Failed reads of the per-VIP datapath counters (the last good values keep being served).',
      registers,
      collect: () => {
        const errors = this.traffic?.errors ?? 0;
        const seen = this.trafficErrorsSeen;
        if (errors > seen) this.trafficReadErrors.inc(errors - seen);
        this.trafficErrorsSeen = errors;
      },
    });
    this.clusterBusiestNode = new Gauge({
      name: 'herald_cluster_busiest_node',
      help: 'The node carrying the most VIP ingress (1; absent without traffic).',
      labelNames: ['node'],
      registers,
    });
  }

  /** Per-VIP traffic from this monitor (see TrafficMonitor.forScrape for when a scrape reads the source). */
  attachTraffic(monitor: TrafficMonitor): void {
    this.traffic = monitor;
    this.trafficErrorsSeen = monitor.errors;
  }

  /** Flow-mode steering and guard counters (herald_flow_* families), read at every scrape. */
  attachFlows(source: FlowTrafficSource, guards?: FlowGuardSource): void {
    this.flows = source;
    this.flowGuards = guards;
  }

  attachCluster(cluster: ClusterAttachment): void {
    this.cluster = cluster;
  }

  /** Sets (bits/s) or clears (undefined) an announcing interface's capacity. */
  setLinkCapacity(ifname: string, bits: number | undefined): void {
    if (bits === undefined || !(bits > 0)) {
      this.capacities.delete(ifname);
      this.linkSpeedBytes.remove({ interface: ifname });
    } else {
      this.capacities.set(ifname, bits);
      this.linkSpeedBytes.set({ interface: ifname }, bits / 8);
    }
  }

  /** Total capacity of announcing interfaces (0 = unknown). */
  capacityBits(): number {
    let sum = 0;
    for (const bits of this.capacities.values()) sum += bits;
    return sum;
  }

  gratuitousSent(ip: string, count = 1): void {
    this.vipFamilies.gratuitousSent(ip, count);
  }

  /** Replaces the announced set (herald_announced series); a VIP no longer announced loses its series. */
  setAnnounced(announcements: readonly Announcement[]): void {
    this.vipFamilies.setAnnounced(announcements);
  }

  /** Sets herald_members from a member list (every state present, 0 when none). */
  setMembers(members: Iterable<{ state: MemberState }>): void {
    const counts = new Map<MemberState, number>(MEMBER_STATES.map((s) => [s, 0]));
    for (const m of members) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
    for (const [state, n] of counts) this.members.set({ state }, n);
  }

  /**
   * Probes each announcing interface's capacity (override → sysfs → ethtool, see probeLinkSpeed) and
   * sets herald_node_link_speed_bytes; call at start and when the interfaces change (link speed can
   * change too). Interfaces no longer listed lose their capacity.
   */
  async probeLinks(
    interfaces: readonly string[],
    probe?: LinkSpeedProbe,
  ): Promise<Map<string, LinkSpeed | undefined>> {
    for (const ifname of [...this.capacities.keys()])
      if (!interfaces.includes(ifname)) this.setLinkCapacity(ifname, undefined);
    const found = new Map<string, LinkSpeed | undefined>();
    for (const ifname of interfaces) {
      const speed = await probeLinkSpeed(ifname, probe);
      this.setLinkCapacity(ifname, speed?.bits);
      found.set(ifname, speed);
    }
    return found;
  }

  /** Reads the traffic counters unless the monitor's timer has a fresh sample (before the status API reads rates). */
  refreshTraffic(): void {
    this.traffic?.forScrape();
  }

  /** One VIP's traffic as the status API shows it (zeros for an unknown VIP or without traffic source). */
  vipTraffic(ip: string): { rxBitsPerSecond: number; rxPacketsPerSecond: number; utilization: number } {
    const rate = this.traffic?.rates().get(ip);
    const bits = rate?.bitsPerSecond ?? 0;
    return {
      rxBitsPerSecond: bits,
      rxPacketsPerSecond: rate?.packetsPerSecond ?? 0,
      utilization: utilizationRatio(bits, this.capacityBits()) ?? 0,
    };
  }

  /** Node-level figures for the status API (`StatusSource.traffic`). */
  nodeTraffic(): { nodeUtilization: number; clusterConcentration: number; busiestNode: string } {
    const c = this.concentration();
    return {
      nodeUtilization: this.utilization() ?? 0,
      clusterConcentration: c?.ratio ?? 0,
      busiestNode: c?.busiest ?? '',
    };
  }

  /** This node's VIP ingress ÷ capacity, or undefined when either is unknown. */
  utilization(): number | undefined {
    if (!this.traffic) return undefined;
    return utilizationRatio(totalRate(this.traffic.rates()).bitsPerSecond, this.capacityBits());
  }

  /** Cluster concentration from gossip (+ this node's own rate); undefined when no cluster view is attached. */
  concentration(): Concentration | undefined {
    const c = this.cluster;
    if (!c) return undefined;
    const nowMs = (c.now ?? (() => performance.now()))();
    const reports = c.view.nodeRates().filter((r) => r.node !== c.localNode);
    if (this.traffic) {
      const bitsPerSecond = totalRate(this.traffic.rates()).bitsPerSecond;
      reports.push({ node: c.localNode, bitsPerSecond, receivedAtMs: nowMs });
    }
    return clusterConcentration(reports, { nowMs, maxAgeMs: c.maxAgeMs ?? 30_000, members: c.members?.() });
  }

  private collectCluster(): void {
    this.lastConcentration = this.concentration();
    this.clusterNodeRxBytes.reset();
    this.clusterBusiestNode.reset();
    const result = this.lastConcentration;
    if (!result) return;
    for (const [node, bps] of result.nodes) this.clusterNodeRxBytes.set({ node }, bps / 8);
    if (result.busiest !== undefined) this.clusterBusiestNode.set({ node: result.busiest }, 1);
  }

  /** The two node-level ratios, written only when known (a prom-client gauge cannot be absent). */
  private renderRatios(): string {
    const out: string[] = [];
    const u = this.utilization();
    out.push(
      "# HELP herald_node_lb_utilization_ratio VIP ingress on this node divided by its announcing links' capacity (absent when unknown).",
      '# TYPE herald_node_lb_utilization_ratio gauge',
    );
    if (u !== undefined) out.push(`herald_node_lb_utilization_ratio ${formatValue(u)}`);
    out.push(
      "# HELP herald_cluster_lb_concentration_ratio Busiest node's VIP ingress divided by the mean over nodes (1 = even, 0 = no traffic), from gossip.",
      '# TYPE herald_cluster_lb_concentration_ratio gauge',
    );
    if (this.lastConcentration)
      out.push(`herald_cluster_lb_concentration_ratio ${formatValue(this.lastConcentration.ratio)}`);
    return out.join('\n') + '\n';
  }

  /** The whole exposition: prom-client metrics (incl. process metrics) + the per-VIP families. */
  async render(): Promise<string> {
    const sample = this.traffic?.forScrape();
    const base = await this.registry.metrics();
    return (
      base +
      (base.endsWith('\n') || base === '' ? '' : '\n') +
      this.renderRatios() +
      this.vipFamilies.render(sample, this.traffic?.rates() ?? new Map()) +
      renderFlowFamilies(this.flows?.() ?? [], this.flowGuards?.())
    );
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Creates every Herald metric (DESIGN.md "Metrics") on `registry` (a new one by default), plus Node.js
 * process metrics (`process_*`, `nodejs_*`; the event-loop delay from metrics/loop-delay.ts).
 */
export function createHeraldMetrics(registry: Registry = new Registry()): HeraldMetrics {
  withLoopDelayMonitor(() => collectDefaultMetrics({ register: registry }));
  return new HeraldMetrics(registry);
}

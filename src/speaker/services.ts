import type { StatusSource } from '../api/source.js';
import { StatusEvents } from '../api/source.js';
import { startStatusServer } from '../api/server.js';
import { bgpStatuses, memberStatuses, vipStatuses } from '../api/speaker-status.js';
import { poolRanges, rangeSize } from '../config/index.js';
import { FailoverClock } from '../metrics/failover.js';
import { ClusterRateView, isRateReport, RateReportPublisher } from '../metrics/gossip.js';
import { createHeraldMetrics, type HeraldMetrics } from '../metrics/registry.js';
import { registerConfigReloads } from '../metrics/config-reloads.js';
import { registerGateHealth } from '../metrics/gate-health.js';
import { registerGossipHealth } from '../metrics/gossip-health.js';
import { nonzeroTransmitErrors, registerTransmitErrors } from '../metrics/transmit-errors.js';
import { registerHealthMetrics } from '../metrics/health.js';
import { type Readiness, startMetricsServer } from '../metrics/server.js';
import { sampleIntervalForVips, TrafficMonitor } from '../metrics/monitor.js';
import type { Member } from '../membership/types.js';
import type { VipDecision } from '../l2/desired.js';
import type { Logger } from '../util/log.js';
import { failingCounts } from '../health/gossip.js';
import { decodeNodeMeta } from './node-meta.js';
import type { SpeakerOptions } from './options.js';
import type { GossipChannel, SpeakerView } from './view.js';

export interface SpeakerServices {
  metrics: HeraldMetrics;
  /** Wires the bound listeners to the started speaker (until then the status API answers 'starting'). */
  attach(speaker: SpeakerView, gossip: GossipChannel): void;
  /** Every node's latest rate report, this node's own included. */
  rates: ClusterRateView;
  stop(): Promise<void>;
}

/** Ready once the control loop runs and the XDP program is attached to every interface it serves. */
export function readiness(speaker: Pick<SpeakerView, 'isReady' | 'interfaces'>): Readiness {
  if (!speaker.isReady())
    return { ready: false, detail: 'the control loop has not started (joining gossip)' };
  if (speaker.interfaces().size === 0) return { ready: false, detail: 'the XDP program is not attached' };
  const attached = [...speaker.interfaces()].map(([name, mode]) => `${name} (${mode})`).join(', ');
  return { ready: true, detail: `ready: XDP on ${attached}` };
}

/**
 * The speaker's outward face: Prometheus metrics (per-VIP traffic from the XDP counters, gossiped cluster
 * concentration, membership, BGP, allocator, failover), and the gRPC status API. Its listeners are bound
 * before the speaker touches the data path (a port or socket in use fails the start first); attach()
 * then connects them to the speaker's view. Changes nothing but its own gossiped rate reports.
 */
export async function startSpeakerServices(
  options: Pick<SpeakerOptions, 'node' | 'apiSocket' | 'apiSocketMode' | 'metrics' | 'linkCapacity'>,
  log: Logger,
): Promise<SpeakerServices> {
  const metrics = createHeraldMetrics();
  const events = new StatusEvents();
  const view = new ClusterRateView();
  let attached: SpeakerView | undefined;
  const current = (): SpeakerView => {
    if (!attached) throw new Error('the speaker is starting');
    return attached;
  };
  const source: StatusSource = {
    node: () => options.node,
    vips: async () => {
      const speaker = current();
      // Without the sampling timer (alone) the rates are only as fresh as the last read: read now.
      metrics.refreshTraffic();
      return vipStatuses({
        node: options.node,
        decisions: speaker.decisions(),
        allocations: speaker.allocations().values(),
        advertised: speaker.bgpAdvertised(),
        traffic: (ip) => metrics.vipTraffic(ip),
        flows: new Map(speaker.flowTraffic().map((f) => [f.ip, f])),
      });
    },
    // Asked together with vips(), after it: the rates it read (the first line of vips()) serve both.
    traffic: () => ({
      ...metrics.nodeTraffic(),
      transmitErrors: nonzeroTransmitErrors(attached?.transmitErrors() ?? []),
    }),
    members: async () => memberStatuses(current().members()),
    bgpSessions: async () => bgpStatuses(current().bgpSessions()),
    events,
  };
  const status = await startStatusServer(source, {
    socketPath: options.apiSocket ?? '/run/herald/speaker.sock',
    ...(options.apiSocketMode !== undefined ? { socketMode: options.apiSocketMode } : {}),
  });
  const metricsServer = options.metrics
    ? await startMetricsServer(metrics, {
        address: options.metrics,
        readiness: () =>
          attached ? readiness(attached) : { ready: false, detail: 'the speaker is starting' },
      }).catch(async (error: unknown) => {
        await status.close();
        throw error;
      })
    : undefined;
  log.info({ api: status.socketPath, metrics: metricsServer?.url }, 'status API and metrics serving');
  let wired: { stop(): void } | undefined;
  return {
    metrics,
    rates: view,
    attach: (speaker, gossip) => {
      if (attached) throw new Error('speaker services are attached already');
      attached = speaker;
      wired = wire({ speaker, gossip, metrics, events, view, options, log });
    },
    stop: async () => {
      wired?.stop();
      await status.close();
      await metricsServer?.close();
    },
  };
}

/** Feeds the metrics, the rate view and the status events from the speaker's view and gossip. */
function wire(parts: {
  speaker: SpeakerView;
  gossip: GossipChannel;
  metrics: HeraldMetrics;
  events: StatusEvents;
  view: ClusterRateView;
  options: Pick<SpeakerOptions, 'node' | 'linkCapacity'>;
  log: Logger;
}): { stop(): void } {
  const { speaker, gossip, metrics, events, view, options, log } = parts;
  registerGossipHealth(metrics.registry, () => speaker.gossipHealth());
  registerTransmitErrors(metrics.registry, () => speaker.transmitErrors());
  const gate = registerGateHealth(metrics.registry, () => speaker.gateHeartbeat());
  speaker.on('round', ({ durationMs, computed }) => gate.round(durationMs, computed));
  speaker.on('gateClosed', ({ reason }) => gate.gateClosed(reason));
  const reloads = registerConfigReloads(metrics.registry);
  speaker.on('config', ({ result }) => reloads.reloaded(result));
  const health = registerHealthMetrics(metrics.registry, {
    verdicts: () => speaker.healthVerdicts(),
    failingNodes: () => failingNodes(speaker.members(), speaker.healthVerdicts().keys()),
  });
  speaker.on('probe', ({ service, ok, durationMs }) => health.probe(service, ok, durationMs));
  const monitor = new TrafficMonitor(() => speaker.vipCounters(), { windowMs: 10_000 });
  metrics.attachTraffic(monitor);
  metrics.attachFlows(
    () => speaker.flowTraffic(),
    () => speaker.flowGuards(),
  );
  const overrides = options.linkCapacity ?? {};
  const probeLinks = () =>
    void metrics.probeLinks([...speaker.interfaces().keys()], { overrides }).catch(() => undefined);
  // Not before the gate opens: the probe may spawn `ethtool`, a fork of the speaker on the start's critical
  // path (the speaker is attached here before its gate can open: that needs its watchers' packets).
  let probing = false;
  speaker.on('gateOpened', () => {
    if (probing) return;
    probing = true;
    probeLinks();
    speaker.on('interfaces', probeLinks);
  });

  // Per-VIP rates travel through gossip so any speaker can tell how concentrated LB traffic is.
  const publisher = new RateReportPublisher(options.node, { windowMs: monitor.windowMs });
  metrics.attachCluster({
    view,
    localNode: options.node,
    members: () =>
      speaker
        .members()
        .filter((m) => m.state === 'alive')
        .map((m) => m.name),
  });
  speaker.on('message', ({ payload }) => {
    if (!isRateReport(payload)) return;
    try {
      view.ingest(payload, performance.now());
    } catch (error) {
      log.debug({ err: error }, 'dropped a malformed rate report');
    }
  });
  const gossipRates = () => {
    const report = publisher.next(performance.now(), monitor.rates(), metrics.capacityBits());
    if (!report) return;
    gossip.broadcast(report, 'rates');
    view.ingest(report, performance.now());
  };
  const followMembers = () => {
    if (!samplesPeriodically(speaker.members(), options.node)) monitor.stop();
    else if (!monitor.running()) monitor.start(sampleIntervalForVips, gossipRates);
  };
  followMembers();

  const failovers = new FailoverClock(metrics.failoverSeconds);
  // Rounds with unchanged inputs hand back the same decisions: no pass over thousands of VIPs then.
  let announcedFrom: readonly VipDecision[] | undefined;
  let countedAllocations: ReadonlyMap<string, unknown> | undefined;
  let countedModel: unknown;
  const refresh = () => {
    metrics.setMembers([...speaker.members()]);
    const decisions = speaker.decisions();
    if (decisions !== announcedFrom) {
      announcedFrom = decisions;
      metrics.setAnnounced(
        decisions
          .filter((d) => d.shares.has(options.node))
          .flatMap((d) =>
            d.services.map((service) => ({
              service,
              protocol: 'layer2' as const,
              node: options.node,
              ip: d.ip,
            })),
          ),
      );
    }
    for (const s of speaker.bgpSessions()) {
      metrics.bgpSessionUp.set({ peer: s.peer }, s.state === 'established' ? 1 : 0);
      metrics.bgpAnnouncedPrefixes.set({ peer: s.peer }, s.prefixesSent);
      if (s.bfd !== 'disabled') metrics.bfdSessionUp.set({ peer: s.peer }, s.bfd === 'up' ? 1 : 0);
    }
    // A model and allocations counted already (every resync's round lands here): no pass over the VIPs.
    const allocations = speaker.allocations();
    const model = speaker.model();
    if (allocations === countedAllocations && model === countedModel) return;
    countedAllocations = allocations;
    countedModel = model;
    const inUse = new Map<string, number>();
    for (const alloc of allocations.values())
      inUse.set(alloc.pool, (inUse.get(alloc.pool) ?? 0) + alloc.ips.length);
    for (const pool of model?.pools ?? []) {
      const total = poolRanges(pool).reduce((a, r) => a + rangeSize(r), 0n);
      metrics.allocatorAddressesTotal.set({ pool: pool.metadata.name }, Number(total));
      metrics.allocatorAddressesInUse.set({ pool: pool.metadata.name }, inUse.get(pool.metadata.name) ?? 0);
    }
  };
  speaker.on('decisions', refresh);
  speaker.on('member', ({ kind, member }) => {
    if (kind === 'dead') view.forget(member.name);
    if (kind === 'update') return;
    failovers.memberChanged(kind, member.name);
    followMembers();
    events.publish({ kind: 'member', subject: member.name, previous: '', current: member.state });
    refresh();
  });
  speaker.on('announced', ({ ip, frames }) => metrics.gratuitousSent(ip, frames));
  speaker.on('owner', (change) => {
    events.publish({
      kind: 'owner',
      subject: change.ip,
      previous: change.from ?? '',
      current: change.to ?? '',
      reason: change.mode,
    });
    failovers.ownerChanged(change.from, change.to, options.node);
  });
  // No timer of its own: every decision round (the speaker's resync runs one every 5 s) refreshes.

  return {
    stop: () => {
      monitor.stop();
    },
  };
}

/**
 * Whether the traffic counters are read on a timer: only while another member is up to receive this
 * node's rate reports (cluster concentration, bandwidth placement). Alone, a timer would read every VIP's
 * counters every 1-5 s for nobody; a scrape or a status request reads them when it asks (rates then
 * span the time since the previous read).
 */
export function samplesPeriodically(members: readonly Member[], node: string): boolean {
  return members.some((m) => m.name !== node && (m.state === 'alive' || m.state === 'suspect'));
}

/** Per checked Service, how many alive members gossip a failing health check for it. */
function failingNodes(members: readonly Member[], checked: Iterable<string>): Map<string, number> {
  const alive = members.filter((m) => m.state === 'alive' || m.state === 'suspect');
  return failingCounts(
    alive.map((m) => decodeNodeMeta(m.meta)?.failing ?? {}),
    checked,
  );
}

import type { BgpSessionStatus, MemberStatus, StatusSource, VipStatus } from '../api/source.js';
import { StatusEvents } from '../api/source.js';
import { startStatusServer } from '../api/server.js';
import { poolRanges, rangeSize } from '../config/index.js';
import { ClusterRateView, isRateReport, RateReportPublisher } from '../metrics/gossip.js';
import { createHeraldMetrics, type HeraldMetrics } from '../metrics/registry.js';
import { startMetricsServer } from '../metrics/server.js';
import { TrafficMonitor } from '../metrics/monitor.js';
import type { Logger } from '../util/log.js';
import type { SpeakerOptions } from './options.js';
import type { Speaker } from './speaker.js';

export interface SpeakerServices {
  metrics: HeraldMetrics;
  stop(): Promise<void>;
}

const SAMPLE_INTERVAL_MS = 1000;

/**
 * The speaker's outward face: Prometheus metrics (per-VIP traffic from the XDP counters, gossiped cluster
 * concentration, membership, BGP, allocator, failover), and the gRPC status API. Reads the speaker's state;
 * never changes it.
 */
export async function startSpeakerServices(
  speaker: Speaker,
  options: SpeakerOptions,
  log: Logger,
): Promise<SpeakerServices> {
  const metrics = createHeraldMetrics();
  const monitor = new TrafficMonitor(() => speaker.responder.counters(), { windowMs: 10_000 });
  metrics.attachTraffic(monitor);
  void metrics.probeLinks([...speaker.attached.keys()]).catch(() => undefined);

  // Per-VIP rates travel through gossip so any speaker can tell how concentrated LB traffic is.
  const view = new ClusterRateView();
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
  speaker.memberlist.on('message', ({ payload }) => {
    if (!isRateReport(payload)) return;
    try {
      view.ingest(payload, performance.now());
    } catch (error) {
      log.debug({ err: error }, 'dropped a malformed rate report');
    }
  });
  speaker.memberlist.on('dead', (m) => view.forget(m.name));
  monitor.start(SAMPLE_INTERVAL_MS, () => {
    const report = publisher.next(performance.now(), monitor.rates(), metrics.capacityBits());
    if (report) speaker.memberlist.broadcast(report, { key: 'rates' });
  });

  const events = new StatusEvents();
  const suspectedAt = new Map<string, number>();
  const refresh = () => {
    metrics.setMembers(speaker.members());
    const announcements = speaker
      .decisions()
      .filter((d) => d.shares.has(options.node))
      .flatMap((d) =>
        d.services.map((service) => ({ service, protocol: 'layer2' as const, node: options.node, ip: d.ip })),
      );
    metrics.setAnnounced(announcements);
    for (const s of speaker.bgp.sessions()) {
      metrics.bgpSessionUp.set({ peer: s.peer }, s.state === 'established' ? 1 : 0);
      metrics.bgpAnnouncedPrefixes.set({ peer: s.peer }, s.prefixesSent);
      if (s.bfd !== 'disabled') metrics.bfdSessionUp.set({ peer: s.peer }, s.bfd === 'up' ? 1 : 0);
    }
    const inUse = new Map<string, number>();
    for (const alloc of speaker.allocations().values())
      inUse.set(alloc.pool, (inUse.get(alloc.pool) ?? 0) + alloc.ips.length);
    for (const pool of speaker.model()?.pools ?? []) {
      const total = poolRanges(pool).reduce((a, r) => a + rangeSize(r), 0n);
      metrics.allocatorAddressesTotal.set({ pool: pool.metadata.name }, Number(total));
      metrics.allocatorAddressesInUse.set({ pool: pool.metadata.name }, inUse.get(pool.metadata.name) ?? 0);
    }
  };
  speaker.on('decisions', refresh);
  for (const kind of ['suspect', 'dead', 'alive', 'join', 'leave'] as const) {
    speaker.memberlist.on(kind, (m) => {
      if (kind === 'suspect' || kind === 'dead')
        suspectedAt.set(m.name, suspectedAt.get(m.name) ?? Date.now());
      else suspectedAt.delete(m.name);
      events.publish({ kind: 'member', subject: m.name, previous: '', current: m.state });
      refresh();
    });
  }
  speaker.on('announced', ({ ip, frames }) => metrics.gratuitousSent(ip, frames));
  speaker.on('owner', (change) => {
    events.publish({
      kind: 'owner',
      subject: change.ip,
      previous: change.from ?? '',
      current: change.to ?? '',
      reason: change.mode,
    });
    // Failover time: from the first suspicion of the previous owner to this node taking the VIP.
    const since = change.from ? suspectedAt.get(change.from) : undefined;
    if (since !== undefined && change.to === options.node)
      metrics.failoverSeconds.observe((Date.now() - since) / 1000);
  });
  const timer = setInterval(refresh, 5000);
  timer.unref();

  const source: StatusSource = {
    node: () => options.node,
    vips: () => vipStatuses(speaker, metrics),
    traffic: () => metrics.nodeTraffic(),
    members: () => memberStatuses(speaker),
    bgpSessions: () => bgpStatuses(speaker),
    events,
  };
  const status = await startStatusServer(source, {
    socketPath: options.apiSocket ?? '/run/herald/speaker.sock',
  });
  const metricsServer = options.metrics
    ? await startMetricsServer(metrics, { address: options.metrics })
    : undefined;
  log.info({ api: status.socketPath, metrics: metricsServer?.url }, 'status API and metrics serving');
  return {
    metrics,
    stop: async () => {
      clearInterval(timer);
      monitor.stop();
      await status.close();
      await metricsServer?.close();
    },
  };
}

function vipStatuses(speaker: Speaker, metrics: HeraldMetrics): VipStatus[] {
  const node = speaker.options.node;
  const allocations = speaker.allocations();
  const poolOf = new Map<string, string>();
  for (const a of allocations.values()) for (const ip of a.ips) poolOf.set(ip, a.pool);
  const viaBgp = speaker.bgp.advertised();
  return speaker.decisions().map((d): VipStatus => {
    const pool = poolOf.get(d.ip);
    if (d.mode === 'none' && viaBgp.has(d.ip)) {
      return {
        ip: d.ip,
        services: [...d.services],
        mode: 'bgp',
        owner: '',
        shares: [{ node, buckets: 0 }],
        reason: 'advertised over BGP by every eligible node; the routers spread it by ECMP',
        ...metrics.vipTraffic(d.ip),
        local: true,
        ...(pool ? { pool } : {}),
      };
    }
    return {
      ip: d.ip,
      services: [...d.services],
      mode: 'l2',
      owner: d.mode === 'single' ? (d.owner ?? '') : '',
      shares:
        d.mode === 'spread'
          ? [...d.shares].map(([n, bits]) => ({
              node: n,
              buckets: bits.toString(2).replace(/0/g, '').length,
            }))
          : [],
      reason: d.reason,
      ...metrics.vipTraffic(d.ip),
      local: d.shares.has(node),
      ...(pool ? { pool } : {}),
      interfaces: d.interfaces.get(node) ?? [],
    };
  });
}

function memberStatuses(speaker: Speaker): MemberStatus[] {
  return speaker.members().map((m) => ({
    name: m.name,
    address: m.address,
    port: m.port,
    state: m.state,
    incarnation: m.incarnation,
  }));
}

function bgpStatuses(speaker: Speaker): BgpSessionStatus[] {
  return speaker.bgp.sessions().map((s) => ({
    peer: s.peer,
    peerAsn: s.peerAsn ?? 0,
    localAsn: 0,
    state: s.state,
    bfdState: s.bfd === 'disabled' ? '' : s.bfd === 'admin-down' ? 'admindown' : s.bfd,
    uptimeSeconds: s.uptimeSec,
    prefixesAnnounced: s.prefixesSent,
    updatesSent: s.updatesSent,
    updatesReceived: s.updatesReceived,
  }));
}

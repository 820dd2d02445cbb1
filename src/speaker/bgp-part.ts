import { bgpAdvertisements } from '../bgp/advertisements.js';
import { peerConfigFromBgpPeer } from '../bgp/peer-config.js';
import type { SessionInfo } from '../bgp/session.js';
import { BgpSpeaker } from '../bgp/speaker.js';
import { type HeraldModel, matchesAnySelector } from '../config/index.js';
import type { Logger } from '../util/log.js';
import { anyReadyEndpoint, hasReadyEndpoint } from '../l2/endpoints.js';
import type { VipGroup } from './l2-inputs.js';

/**
 * VIPs this node advertises over BGP: every node with a ready endpoint (Local policy) or, with the
 * Cluster policy, every node as long as some endpoint is ready; never a node failing the health check. Routers spread the traffic by ECMP.
 */
export function bgpEligibleVips(
  groups: readonly VipGroup[],
  node: string,
  excluded: boolean,
): Array<{ ip: string; pool: string }> {
  if (excluded) return [];
  return groups
    .filter(
      (g) =>
        anyReadyEndpoint(g.readyNodes) &&
        (g.externalTrafficPolicy === 'Cluster' || hasReadyEndpoint(g.readyNodes, node)) &&
        !g.unhealthy.has(node),
    )
    .map((g) => ({ ip: g.ip, pool: g.pool }));
}

/** The speaker's BGP side: sessions from the BGPPeers that select this node, routes from the decisions. */
export class SpeakerBgp {
  private speaker: BgpSpeaker | undefined;
  private lastProblems = '';
  private advertisedIps = new Set<string>();

  constructor(
    private readonly node: string,
    private readonly routerId: string,
    private readonly restarting: boolean,
    private readonly log: Logger,
  ) {}

  async update(
    model: HeraldModel,
    groups: readonly VipGroup[],
    labels: Record<string, string>,
    excluded: boolean,
  ): Promise<void> {
    const peers = model.bgpPeers
      .filter((p) => matchesAnySelector(p.spec.nodeSelectors, labels))
      .map((p) => peerConfigFromBgpPeer(p, model.bfdProfiles, this.routerId));
    if (peers.length === 0 && !this.speaker) return;
    if (!this.speaker) {
      this.speaker = new BgpSpeaker({
        peers,
        restarting: this.restarting,
        log: (level, msg) => this.log[level](msg),
      });
      this.speaker.on('established', (s) => this.log.info({ peer: s.peer }, 'BGP session established'));
      this.speaker.on('down', (d) => this.log.warn(d, 'BGP session down'));
      await this.speaker.start();
    } else {
      this.speaker.setPeers(peers);
    }
    const { routes, problems } = bgpAdvertisements({
      nodeName: this.node,
      nodeLabels: labels,
      vips: bgpEligibleVips(groups, this.node, excluded),
      pools: model.pools,
      advertisements: model.bgpAdvertisements,
      peers: model.bgpPeers,
      communities: model.communities,
    });
    const text = problems.join('; ');
    if (text && text !== this.lastProblems) this.log.warn(`BGP advertisement problems: ${text}`);
    this.lastProblems = text;
    this.speaker.setRoutes(routes);
    this.advertisedIps = new Set(
      [...routes.values()].flatMap((list) => list.map((r) => r.prefix.split('/')[0] ?? '')).filter(Boolean),
    );
  }

  /** Prefix addresses advertised to at least one peer (for /32 and /128 routes: the VIPs). */
  advertised(): ReadonlySet<string> {
    return this.advertisedIps;
  }

  sessions(): SessionInfo[] {
    return this.speaker?.sessions() ?? [];
  }

  /** graceful: close without NOTIFICATION so graceful-restart peers keep our routes while we restart. */
  async stop(graceful: boolean): Promise<void> {
    await this.speaker?.stop({ graceful });
  }
}

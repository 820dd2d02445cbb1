/**
 * Pure decision: which prefixes, with which attributes, this node advertises to each BGP peer.
 * MetalLB semantics: a BGPAdvertisement applies to the VIPs of its selected pools, on the nodes its
 * nodeSelectors match, to the peers it names (all peers when none); a BGPPeer with nodeSelectors only
 * peers from matching nodes. Prefix = the VIP masked to aggregationLength(V6), default /32 and /128.
 */
import {
  matchesAnySelector,
  parseCommunity,
  selectedPoolNames,
  WELL_KNOWN_COMMUNITIES,
} from '../config/index.js';
import type { BGPAdvertisement, BGPPeer, Community, IPAddressPool } from '../config/index.js';
import type { LargeCommunity } from './wire/attributes.js';
import { familyOf, normalizePrefix } from './wire/prefix.js';

/** One route as the speaker advertises it to one peer (next hop is always self). */
export interface BgpRoute {
  prefix: string;
  communities: number[];
  largeCommunities: LargeCommunity[];
  /** Sent to iBGP peers only. */
  localPref?: number;
  med?: number;
}

export interface AdvertisementInput {
  nodeName: string;
  nodeLabels: Readonly<Record<string, string>>;
  /** VIPs this node is eligible to advertise now (externalTrafficPolicy etc. already applied), with their pool. */
  vips: ReadonlyArray<{ ip: string; pool: string }>;
  pools: readonly IPAddressPool[];
  advertisements: readonly BGPAdvertisement[];
  peers: readonly BGPPeer[];
  communities?: readonly Community[];
}

export interface AdvertisementResult {
  /** Per peer name: routes sorted by prefix. Every peer active on this node has an entry (maybe empty). */
  routes: Map<string, BgpRoute[]>;
  /** Unresolvable community aliases and similar; the rest is still advertised. */
  problems: string[];
}

function resolveCommunities(
  refs: readonly string[],
  aliases: ReadonlyMap<string, string>,
  problems: string[],
): { standard: number[]; large: LargeCommunity[] } {
  const standard: number[] = [];
  const large: LargeCommunity[] = [];
  for (const ref of refs) {
    const text = ref.includes(':') ? ref : (aliases.get(ref) ?? WELL_KNOWN_COMMUNITIES[ref]);
    const parsed = text === undefined ? `unknown community alias "${ref}"` : parseCommunity(text);
    if (typeof parsed === 'string') problems.push(parsed);
    else if (parsed.type === 'standard') standard.push(parsed.value);
    else large.push([parsed.global, parsed.local1, parsed.local2]);
  }
  return { standard, large };
}

const isIbgp = (peer: BGPPeer): boolean =>
  peer.spec.dynamicASN === 'internal' ||
  (peer.spec.peerASN !== undefined && peer.spec.peerASN === peer.spec.myASN);

export function bgpAdvertisements(input: AdvertisementInput): AdvertisementResult {
  const problems: string[] = [];
  const aliases = new Map<string, string>();
  for (const c of input.communities ?? []) for (const a of c.spec.communities) aliases.set(a.name, a.value);

  const activePeers = [...input.peers]
    .filter((p) => matchesAnySelector(p.spec.nodeSelectors, input.nodeLabels))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const perPeer = new Map<string, Map<string, BgpRoute>>();
  for (const p of activePeers) perPeer.set(p.metadata.name, new Map());

  const advs = [...input.advertisements].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const adv of advs) {
    const spec = adv.spec;
    if (!matchesAnySelector(spec.nodeSelectors, input.nodeLabels)) continue;
    const pools = new Set(selectedPoolNames(spec, input.pools));
    const { standard, large } = resolveCommunities(spec.communities ?? [], aliases, problems);
    const targets = activePeers.filter((p) => !spec.peers?.length || spec.peers.includes(p.metadata.name));
    for (const vip of input.vips) {
      if (!pools.has(vip.pool)) continue;
      const v6 = familyOf(vip.ip) === 'ipv6';
      const len = v6 ? (spec.aggregationLengthV6 ?? 128) : (spec.aggregationLength ?? 32);
      let prefix: string;
      try {
        prefix = normalizePrefix(`${vip.ip}/${len}`);
      } catch {
        problems.push(`VIP ${vip.ip}: not an IP address`);
        continue;
      }
      for (const peer of targets) {
        const table = perPeer.get(peer.metadata.name)!;
        const existing = table.get(prefix);
        const localPref = isIbgp(peer) ? spec.localPref : undefined;
        if (existing) {
          // Several advertisements cover the prefix: communities add up, the first localPref wins.
          existing.communities = [...new Set([...existing.communities, ...standard])].sort((a, b) => a - b);
          const keys = new Set(existing.largeCommunities.map((l) => l.join(':')));
          for (const l of large) if (!keys.has(l.join(':'))) existing.largeCommunities.push(l);
          if (existing.localPref === undefined && localPref !== undefined) existing.localPref = localPref;
        } else {
          table.set(prefix, {
            prefix,
            communities: [...new Set(standard)].sort((a, b) => a - b),
            largeCommunities: [...large],
            ...(localPref !== undefined ? { localPref } : {}),
          });
        }
      }
    }
  }
  const routes = new Map<string, BgpRoute[]>();
  for (const [peer, table] of perPeer)
    routes.set(
      peer,
      [...table.values()].sort((a, b) => a.prefix.localeCompare(b.prefix)),
    );
  return { routes, problems: [...new Set(problems)] };
}

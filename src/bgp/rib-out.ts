/**
 * Adj-RIB-Out of one peer: what was sent, and the UPDATEs that move the peer from that to a new route
 * set (withdrawals first, then announcements grouped by identical attributes, packed per message).
 */
import type { BgpRoute } from './advertisements.js';
import type { AttrContext, AsPathSegment, PathAttributes } from './wire/attributes.js';
import { packAnnouncements, packWithdrawals } from './wire/pack.js';
import { type Family, familyOf } from './wire/prefix.js';
import type { UpdateMessage } from './wire/update.js';

export interface PeerRouteContext extends AttrContext {
  localAsn: number;
  ibgp: boolean;
  /** Next hop self per family; a family without one is not advertised to this peer. */
  nextHops: Partial<Record<Family, string[]>>;
  /** Families negotiated with the peer. */
  families: ReadonlySet<Family>;
}

function attributesOf(
  route: BgpRoute,
  ctx: PeerRouteContext,
): Omit<PathAttributes, 'nextHop' | 'mpReach' | 'mpUnreach'> {
  const asPath: AsPathSegment[] = ctx.ibgp ? [] : [{ type: 'sequence', asns: [ctx.localAsn] }];
  return {
    origin: 0,
    asPath,
    ...(route.med !== undefined ? { med: route.med } : {}),
    ...(ctx.ibgp ? { localPref: route.localPref ?? 100 } : {}),
    ...(route.communities.length > 0 ? { communities: route.communities } : {}),
    ...(route.largeCommunities.length > 0 ? { largeCommunities: route.largeCommunities } : {}),
  };
}

const attrKey = (route: BgpRoute, ctx: PeerRouteContext): string => JSON.stringify(attributesOf(route, ctx));

export class RibOut {
  /** prefix → attribute key of what the peer has from us. */
  private readonly sent = new Map<string, string>();

  get size(): number {
    return this.sent.size;
  }

  prefixes(): string[] {
    return [...this.sent.keys()];
  }

  clear(): void {
    this.sent.clear();
  }

  /** Messages that bring the peer to `routes`; records them as sent. `full` resends everything. */
  diff(routes: readonly BgpRoute[], ctx: PeerRouteContext, full = false): UpdateMessage[] {
    const wanted = new Map<string, BgpRoute>();
    for (const r of routes) {
      const fam = familyOf(r.prefix);
      if (ctx.families.has(fam) && ctx.nextHops[fam]?.length) wanted.set(r.prefix, r);
    }
    const withdrawals: Record<Family, string[]> = { ipv4: [], ipv6: [] };
    for (const prefix of this.sent.keys())
      if (!wanted.has(prefix)) withdrawals[familyOf(prefix)].push(prefix);
    const groups = new Map<string, { family: Family; route: BgpRoute; prefixes: string[] }>();
    for (const [prefix, route] of wanted) {
      const key = attrKey(route, ctx);
      if (!full && this.sent.get(prefix) === key) continue;
      const family = familyOf(prefix);
      const gk = `${family}|${key}`;
      const g = groups.get(gk) ?? { family, route, prefixes: [] };
      g.prefixes.push(prefix);
      groups.set(gk, g);
    }
    const out: UpdateMessage[] = [];
    for (const fam of ['ipv4', 'ipv6'] as const) {
      out.push(...packWithdrawals(fam, withdrawals[fam]));
      for (const p of withdrawals[fam]) this.sent.delete(p);
    }
    for (const g of groups.values()) {
      out.push(
        ...packAnnouncements(
          g.family,
          g.prefixes,
          attributesOf(g.route, ctx),
          ctx.nextHops[g.family] ?? [],
          ctx,
        ),
      );
      const key = attrKey(g.route, ctx);
      for (const p of g.prefixes) this.sent.set(p, key);
    }
    return out;
  }
}

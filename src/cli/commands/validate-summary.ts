import {
  type HeraldModel,
  poolFamilies,
  selectedPoolNames,
  type Service,
  serviceKey,
} from '../../config/index.js';

/** What `herald validate` says per service: its addresses, pool, how they are announced, and why. */
export interface ServiceSummary {
  service: string;
  ips: string[];
  pool: string;
  /** e.g. `L2 single (lan)`, `L2 spread by clients (lan)`, `BGP (to-tor)`; empty: not announced. */
  announced: string[];
  /** Why a dual-stack request got one family, when it did. */
  note?: string;
}

const poolsOf = (spec: Parameters<typeof selectedPoolNames>[0], model: HeraldModel) =>
  new Set(selectedPoolNames(spec, model.pools));

function announcements(model: HeraldModel, pool: string): string[] {
  const out: string[] = [];
  for (const ad of model.l2Advertisements) {
    if (!poolsOf(ad.spec, model).has(pool)) continue;
    const mode = ad.spec.spread?.enabled ? `spread by ${ad.spec.spread.by ?? 'clients'}` : 'single';
    out.push(`L2 ${mode} (${ad.metadata.name})`);
  }
  for (const ad of model.bgpAdvertisements) {
    if (!poolsOf(ad.spec, model).has(pool)) continue;
    out.push(`BGP (${ad.metadata.name})`);
  }
  return out;
}

function familyNote(
  svc: Service,
  ips: readonly string[],
  model: HeraldModel,
  pool: string,
): string | undefined {
  if (svc.spec.ipFamilyPolicy !== 'PreferDualStack' || ips.length !== 1) return undefined;
  const p = model.pools.find((x) => x.metadata.name === pool);
  const families = p ? [...poolFamilies(p)] : [];
  const got = ips[0]?.includes(':') ? 'IPv6' : 'IPv4';
  return families.length === 1
    ? `PreferDualStack got ${got} only: pool ${pool} has no ${got === 'IPv4' ? 'IPv6' : 'IPv4'} addresses`
    : `PreferDualStack got ${got} only: the other family of pool ${pool} is exhausted or not requested`;
}

export function serviceSummaries(
  model: HeraldModel,
  allocations: ReadonlyMap<string, { ips: string[]; pool: string } | { error: string }>,
): ServiceSummary[] {
  const out: ServiceSummary[] = [];
  for (const svc of model.services) {
    const a = allocations.get(serviceKey(svc));
    if (!a || !('ips' in a)) continue;
    const note = familyNote(svc, a.ips, model, a.pool);
    out.push({
      service: serviceKey(svc),
      ips: a.ips,
      pool: a.pool,
      announced: announcements(model, a.pool),
      ...(note ? { note } : {}),
    });
  }
  return out.sort((x, y) => (x.service < y.service ? -1 : 1));
}

/** One line per service: `shop/web  192.168.50.240, fd00:50::1:0  pool lan  L2 spread by clients (lan)`. */
export function formatSummaries(rows: readonly ServiceSummary[]): string[] {
  const width = Math.max(0, ...rows.map((r) => r.service.length));
  const ipWidth = Math.max(0, ...rows.map((r) => r.ips.join(', ').length));
  return rows.map((r) => {
    const how =
      r.announced.length > 0 ? r.announced.join(', ') : 'not announced (no advertisement for the pool)';
    const line = `  ${r.service.padEnd(width)}  ${r.ips.join(', ').padEnd(ipWidth)}  pool ${r.pool}  ${how}`;
    return r.note ? `${line}; ${r.note}` : line;
  });
}

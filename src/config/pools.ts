import { parseAddressRange, type AddressRange, type Family } from './addresses.js';
import { matchesAnySelector } from './selectors.js';
import type { IPAddressPool, LabelSelector } from './types.js';

/** The valid address ranges of a pool, in the order written (invalid entries are skipped; validation reports them). */
export function poolRanges(pool: IPAddressPool): AddressRange[] {
  const out: AddressRange[] = [];
  for (const text of pool.spec.addresses) {
    const r = parseAddressRange(text);
    if (typeof r !== 'string') out.push(r);
  }
  return out;
}

export const poolFamilies = (pool: IPAddressPool): Set<Family> =>
  new Set(poolRanges(pool).map((r) => r.family));

/** Pool names selected by an advertisement (`ipAddressPools` ∪ `ipAddressPoolSelectors`; none = all pools). */
export function selectedPoolNames(
  spec: { ipAddressPools?: string[]; ipAddressPoolSelectors?: LabelSelector[] },
  pools: readonly IPAddressPool[],
): string[] {
  const names = new Set(spec.ipAddressPools ?? []);
  if ((spec.ipAddressPoolSelectors?.length ?? 0) > 0) {
    for (const p of pools)
      if (matchesAnySelector(spec.ipAddressPoolSelectors, p.metadata.labels, false))
        names.add(p.metadata.name);
  }
  if (names.size === 0 && !spec.ipAddressPools?.length && !spec.ipAddressPoolSelectors?.length) {
    return pools.map((p) => p.metadata.name);
  }
  return [...names];
}

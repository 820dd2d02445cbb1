import { parseAddressRange, parseIp } from './addresses.js';
import { looksLikeCommunityValue, parseCommunity } from './community.js';
import { parseDuration } from './duration.js';
import type { HeraldKind } from './schemas.js';
import type { BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement } from './types.js';

/**
 * Value-format checks of Herald objects that already have the right shape: addresses, CIDRs, durations,
 * community strings. An object with such a problem is kept out of the model but still takes part in the
 * cross-object checks, so one bad address does not also make every reference to its pool "unknown".
 */

export interface FieldProblem {
  path: string;
  message: string;
}

export function formatProblems(kind: HeraldKind, obj: object): FieldProblem[] {
  const out: FieldProblem[] = [];
  switch (kind) {
    case 'IPAddressPool':
      (obj as IPAddressPool).spec.addresses.forEach((a, i) => {
        const r = parseAddressRange(a);
        if (typeof r === 'string') out.push({ path: `spec.addresses[${i}]`, message: r });
      });
      break;
    case 'BGPAdvertisement':
      ((obj as BGPAdvertisement).spec.communities ?? []).forEach((c, i) => {
        if (!looksLikeCommunityValue(c)) return; // an alias: resolved against Community objects
        const r = parseCommunity(c);
        if (typeof r === 'string') out.push({ path: `spec.communities[${i}]`, message: r });
      });
      break;
    case 'Community':
      (obj as Community).spec.communities.forEach((a, i) => {
        const r = parseCommunity(a.value);
        if (typeof r === 'string') out.push({ path: `spec.communities[${i}].value`, message: r });
      });
      break;
    case 'BGPPeer':
      peerFormats((obj as BGPPeer).spec, out);
      break;
    case 'L2Advertisement':
      durationFormats(
        (obj as L2Advertisement).spec.placement ?? {},
        ['sustain', 'minMoveInterval'],
        'spec.placement',
        out,
      );
      break;
    default:
      break;
  }
  return out;
}

function peerFormats(s: BGPPeer['spec'], out: FieldProblem[]): void {
  if (!parseIp(s.peerAddress))
    out.push({ path: 'spec.peerAddress', message: `"${s.peerAddress}" is not a valid IP address` });
  if (s.sourceAddress !== undefined && !parseIp(s.sourceAddress)) {
    out.push({ path: 'spec.sourceAddress', message: `"${s.sourceAddress}" is not a valid IP address` });
  }
  if (s.routerID !== undefined && parseIp(s.routerID)?.family !== 4) {
    out.push({ path: 'spec.routerID', message: `router ID must be an IPv4 address, not "${s.routerID}"` });
  }
  durationFormats(s, ['holdTime', 'keepaliveTime', 'connectTime'], 'spec', out);
}

function durationFormats<K extends string>(
  obj: Partial<Record<K, string>>,
  fields: readonly K[],
  prefix: string,
  out: FieldProblem[],
): void {
  for (const f of fields) {
    const v = obj[f];
    if (v !== undefined && parseDuration(v) === undefined) {
      out.push({
        path: `${prefix}.${f}`,
        message: `"${v}" is not a duration: write it like 90s, 1m30s or 500ms`,
      });
    }
  }
}

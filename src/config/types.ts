import type { z } from 'zod';
import type {
  BFDProfileSchema,
  BGPAdvertisementSchema,
  BGPPeerSchema,
  CommunitySchema,
  EndpointSliceSchema,
  IPAddressPoolSchema,
  L2AdvertisementSchema,
  LabelSelectorSchema,
  NamespaceSchema,
  NodeSchema,
  ServicePortSchema,
  ServiceSchema,
} from './schemas.js';

/** Types inferred from the zod schemas in `schemas.ts` (the single source of truth). */

export type LabelSelector = z.infer<typeof LabelSelectorSchema>;
export type IPAddressPool = z.infer<typeof IPAddressPoolSchema>;
export type L2Advertisement = z.infer<typeof L2AdvertisementSchema>;
export type BGPAdvertisement = z.infer<typeof BGPAdvertisementSchema>;
export type BGPPeer = z.infer<typeof BGPPeerSchema>;
export type BFDProfile = z.infer<typeof BFDProfileSchema>;
export type Community = z.infer<typeof CommunitySchema>;
export type Service = z.infer<typeof ServiceSchema>;
export type ServicePort = z.infer<typeof ServicePortSchema>;
export type Node = z.infer<typeof NodeSchema>;
export type Namespace = z.infer<typeof NamespaceSchema>;
export type EndpointSlice = z.infer<typeof EndpointSliceSchema>;

export type IPAddressPoolSpec = IPAddressPool['spec'];
export type L2AdvertisementSpec = L2Advertisement['spec'];
export type BGPAdvertisementSpec = BGPAdvertisement['spec'];
export type BGPPeerSpec = BGPPeer['spec'];
export type BFDProfileSpec = BFDProfile['spec'];
export type CommunitySpec = Community['spec'];

/**
 * Everything the speaker and the controller decide from. The standalone YAML loader and the Kubernetes
 * informers both produce this shape; Herald objects are always converted to `herald.dev/v1beta1`.
 * Order: as read (file order, documents in order); consumers that need determinism sort by name.
 * Objects with any problem of their own are left out by the parser.
 */
export interface HeraldModel {
  pools: IPAddressPool[];
  l2Advertisements: L2Advertisement[];
  bgpAdvertisements: BGPAdvertisement[];
  bgpPeers: BGPPeer[];
  bfdProfiles: BFDProfile[];
  communities: Community[];
  /** All `v1` Services read (use `isHeraldService` to pick the ones Herald handles). */
  services: Service[];
  nodes: Node[];
  endpointSlices: EndpointSlice[];
  /** `v1` Namespaces (labels for `serviceAllocation.namespaceSelectors`); optional in standalone files. */
  namespaces: Namespace[];
}

/** One problem found in the configuration: `file:doc:path: message` (doc is 1-based; 0 = whole file). */
export interface Problem {
  file: string;
  doc: number;
  path: string;
  message: string;
}

export const emptyModel = (): HeraldModel => ({
  pools: [],
  l2Advertisements: [],
  bgpAdvertisements: [],
  bgpPeers: [],
  bfdProfiles: [],
  communities: [],
  services: [],
  nodes: [],
  endpointSlices: [],
  namespaces: [],
});

export const formatProblem = (p: Problem): string => `${p.file}:${p.doc}:${p.path || '-'}: ${p.message}`;

/** Problems by file (in order of first appearance) and document, stable within a document. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const order = new Map<string, number>();
  for (const p of problems) if (!order.has(p.file)) order.set(p.file, order.size);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (order.get(a.p.file) ?? 0) - (order.get(b.p.file) ?? 0) || a.p.doc - b.p.doc || a.i - b.i)
    .map((x) => x.p);
}

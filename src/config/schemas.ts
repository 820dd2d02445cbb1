import { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';

/**
 * The zod definitions of every object Herald reads. They are the single source of truth: the TS types are
 * inferred from them, `herald validate` checks with them, and the CRD OpenAPI schemas are generated from
 * them (`src/config/json-schema.ts`). Field names mirror MetalLB's `metallb.io/v1beta1` (`BGPPeer`:
 * `v1beta2`) field for field; Herald additions are optional and marked "Herald:" in their description.
 *
 * Herald objects are strict (an unknown field is a problem: it catches typos like `autoassign`), except
 * `metadata`, which is loose so objects read back from Kubernetes (uid, resourceVersion, ...) pass.
 * Kubernetes core objects (Service, Node, ...) are loose: Herald reads only the fields it needs.
 */

export const HERALD_GROUP = 'herald.dev';
export const HERALD_API_VERSION = 'herald.dev/v1beta1';
export const HERALD_LB_CLASS = 'herald.dev/lb';

const uint32 = z.int().min(0).max(4294967295);
const asn = z
  .int()
  .min(1, 'ASN must be 1..4294967295 (0 is reserved)')
  .max(4294967295, 'ASN must be 1..4294967295');
// Value formats (IP addresses, CIDRs, durations, communities) are checked in `formats.ts`, not here, so an
// object with a bad value still takes part in cross-object checks (no cascade of "unknown pool" problems).
const ipString = z.string().min(1);
const duration = z.string().meta({ pattern: DURATION_PATTERN });

const labelMap = z.record(z.string(), z.string());

export const LabelSelectorRequirementSchema = z
  .strictObject({
    key: z.string().min(1),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
    values: z.array(z.string()).optional(),
  })
  .superRefine((r, ctx) => {
    const n = r.values?.length ?? 0;
    if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${r.operator} needs values` });
    }
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${r.operator} takes no values` });
    }
  });

/** Kubernetes `metav1.LabelSelector` (also MetalLB v1beta1's `NodeSelector`, which has the same shape). */
export const LabelSelectorSchema = z.strictObject({
  matchLabels: labelMap.optional(),
  matchExpressions: z.array(LabelSelectorRequirementSchema).optional(),
});

export const ObjectMetaSchema = z.looseObject({
  name: z
    .string()
    .min(1, 'metadata.name is required')
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase DNS name (a-z, 0-9, "-", ".")'),
  namespace: z.string().optional(),
  labels: labelMap.optional(),
  annotations: labelMap.optional(),
});

// ---- IPAddressPool ----------------------------------------------------------------------------------

export const ServiceAllocationSchema = z.strictObject({
  priority: z.int().optional().describe('Lower value = tried first; pools without priority come last.'),
  namespaces: z.array(z.string().min(1)).optional(),
  namespaceSelectors: z.array(LabelSelectorSchema).optional(),
  serviceSelectors: z.array(LabelSelectorSchema).optional(),
});

const addressEntry = z.string();

export const IPAddressPoolSpecSchema = z.strictObject({
  addresses: z
    .array(addressEntry)
    .min(1, 'a pool needs at least one address range')
    .describe('CIDRs (10.0.0.0/24, fd00::/64) or START-END ranges (10.0.0.10-10.0.0.20).'),
  autoAssign: z.boolean().optional().describe('Default true. false: only used when asked for by name or IP.'),
  avoidBuggyIPs: z.boolean().optional().describe('Skip IPv4 addresses ending in .0 and .255.'),
  serviceAllocation: ServiceAllocationSchema.optional(),
});

// ---- L2Advertisement --------------------------------------------------------------------------------

export const L2SpreadSchema = z
  .strictObject({
    enabled: z.boolean().describe('Share this VIP among several nodes.'),
    by: z
      .enum(['clients', 'flows'])
      .optional()
      .describe(
        'clients (default): each node answers ARP/NDP for its share of the clients on the segment. ' +
          'flows: one node answers and its XDP program steers each connection to a node of the flow set, ' +
          'so traffic from one client or through one router is shared too.',
      ),
  })
  .describe(
    'Herald: spread a VIP over the eligible nodes, by clients on the segment (64 client buckets) or by ' +
      'flows (each connection to one node, also behind a router). Off by default.',
  );

export const L2PlacementSchema = z
  .strictObject({
    by: z
      .enum(['hash', 'bandwidth'])
      .describe('hash (default): rendezvous hash of the IP. bandwidth: move VIPs off links that stay busy.'),
    utilizationThreshold: z
      .number()
      .gt(0)
      .lte(1)
      .optional()
      .describe('Act when a node link is busier than this share of its capacity. Default 0.7.'),
    sustain: duration.optional().describe('... for at least this long. Default 30s.'),
    minGain: z
      .number()
      .gt(0)
      .lt(1)
      .optional()
      .describe('A move must lower the busy link by at least this share of its capacity. Default 0.05.'),
    minMoveInterval: duration.optional().describe('A VIP moves at most once per this interval. Default 5m.'),
  })
  .describe(
    'Herald: where the VIPs of this advertisement are answered. bandwidth: one coordinator moves VIPs from ' +
      'nodes whose link stays over the threshold to nodes with room, from the traffic the speakers measure.',
  );

export const L2AdvertisementSpecSchema = z.strictObject({
  ipAddressPools: z.array(z.string().min(1)).optional(),
  ipAddressPoolSelectors: z.array(LabelSelectorSchema).optional(),
  nodeSelectors: z.array(LabelSelectorSchema).optional(),
  interfaces: z.array(z.string().min(1).max(15)).optional(),
  spread: L2SpreadSchema.optional(),
  placement: L2PlacementSchema.optional(),
});

// ---- BGPAdvertisement -------------------------------------------------------------------------------

const communityRef = z.string().min(1);

export const BGPAdvertisementSpecSchema = z.strictObject({
  aggregationLength: z.int().min(0).max(32, 'IPv4 aggregation length must be 0..32').optional(),
  aggregationLengthV6: z.int().min(0).max(128, 'IPv6 aggregation length must be 0..128').optional(),
  localPref: uint32.optional(),
  communities: z.array(communityRef).optional(),
  ipAddressPools: z.array(z.string().min(1)).optional(),
  ipAddressPoolSelectors: z.array(LabelSelectorSchema).optional(),
  nodeSelectors: z.array(LabelSelectorSchema).optional(),
  peers: z.array(z.string().min(1)).optional(),
});

// ---- BGPPeer ----------------------------------------------------------------------------------------

export const SecretReferenceSchema = z.strictObject({
  name: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
});

export const BGPPeerSpecSchema = z.strictObject({
  myASN: asn,
  peerASN: asn.optional().describe('Required unless dynamicASN is set.'),
  dynamicASN: z.enum(['internal', 'external']).optional(),
  peerAddress: ipString,
  sourceAddress: ipString.optional(),
  peerPort: z.int().min(1).max(65535, 'port must be 1..65535').optional(),
  holdTime: duration.optional().describe('Default 90s; 0 or at least 3s (RFC 4271).'),
  keepaliveTime: duration.optional().describe('Default holdTime/3; must be lower than holdTime.'),
  connectTime: duration.optional(),
  routerID: z.string().optional(),
  nodeSelectors: z.array(LabelSelectorSchema).optional(),
  password: z.string().max(80, 'TCP MD5 keys are at most 80 bytes').optional(),
  passwordSecret: SecretReferenceSchema.optional(),
  bfdProfile: z.string().min(1).optional(),
  enableGracefulRestart: z.boolean().optional(),
  ebgpMultiHop: z.boolean().optional(),
  vrf: z.string().optional(),
  interface: z.string().optional(),
  disableMP: z.boolean().optional(),
  dualStackAddressFamily: z.boolean().optional(),
});

// ---- BFDProfile -------------------------------------------------------------------------------------

const interval = (what: string) =>
  z.int().min(10, `${what} must be 10..60000 ms`).max(60000, `${what} must be 10..60000 ms`);

export const BFDProfileSpecSchema = z.strictObject({
  receiveInterval: interval('receiveInterval').optional().describe('ms, default 300'),
  transmitInterval: interval('transmitInterval').optional().describe('ms, default 300'),
  detectMultiplier: z.int().min(2, 'detectMultiplier must be 2..255').max(255).optional(),
  echoInterval: interval('echoInterval').optional().describe('ms, default 50'),
  echoMode: z.boolean().optional(),
  passiveMode: z.boolean().optional(),
  minimumTtl: z.int().min(1, 'minimumTtl must be 1..254').max(254, 'minimumTtl must be 1..254').optional(),
});

// ---- Community --------------------------------------------------------------------------------------

export const CommunityAliasSchema = z.strictObject({
  name: z.string().min(1),
  value: z.string(),
});

export const CommunitySpecSchema = z.strictObject({
  communities: z.array(CommunityAliasSchema),
});

// ---- object envelopes -------------------------------------------------------------------------------

// Strict envelope: a misspelt top-level key (`sepc:`) is reported rather than silently ignored.
const objectOf = <K extends string, S extends z.ZodType>(kind: K, spec: S) =>
  z.strictObject({
    apiVersion: z.string(),
    kind: z.literal(kind),
    metadata: ObjectMetaSchema,
    spec,
    status: z.unknown().optional(),
  });

export const IPAddressPoolSchema = objectOf('IPAddressPool', IPAddressPoolSpecSchema);
export const L2AdvertisementSchema = objectOf('L2Advertisement', L2AdvertisementSpecSchema.default({}));
export const BGPAdvertisementSchema = objectOf('BGPAdvertisement', BGPAdvertisementSpecSchema.default({}));
export const BGPPeerSchema = objectOf('BGPPeer', BGPPeerSpecSchema);
export const BFDProfileSchema = objectOf('BFDProfile', BFDProfileSpecSchema.default({}));
export const CommunitySchema = objectOf('Community', CommunitySpecSchema);

/** The Herald kinds and their schemas, in the order they are documented. */
export const HERALD_KINDS = {
  IPAddressPool: IPAddressPoolSchema,
  L2Advertisement: L2AdvertisementSchema,
  BGPAdvertisement: BGPAdvertisementSchema,
  BGPPeer: BGPPeerSchema,
  BFDProfile: BFDProfileSchema,
  Community: CommunitySchema,
} as const;
export type HeraldKind = keyof typeof HERALD_KINDS;
export const HERALD_KIND_NAMES = Object.keys(HERALD_KINDS) as HeraldKind[];

/** The spec schemas by kind (what a CRD's `spec` holds). */
export const HERALD_SPECS = {
  IPAddressPool: IPAddressPoolSpecSchema,
  L2Advertisement: L2AdvertisementSpecSchema,
  BGPAdvertisement: BGPAdvertisementSpecSchema,
  BGPPeer: BGPPeerSpecSchema,
  BFDProfile: BFDProfileSpecSchema,
  Community: CommunitySpecSchema,
} as const satisfies Record<HeraldKind, z.ZodType>;

// ---- Kubernetes core objects (the subset Herald reads; everything else passes through) ----------------

export const ServicePortSchema = z.looseObject({
  name: z.string().optional(),
  port: z.int().min(1, 'port must be 1..65535').max(65535, 'port must be 1..65535'),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional().describe('Default TCP'),
  targetPort: z.union([z.int(), z.string()]).optional(),
  nodePort: z.int().optional(),
});

export const IP_FAMILIES = ['IPv4', 'IPv6'] as const;
export type IpFamilyName = (typeof IP_FAMILIES)[number];

export const ServiceSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  metadata: ObjectMetaSchema,
  spec: z.looseObject({
    type: z.string().optional(),
    ports: z.array(ServicePortSchema).optional(),
    selector: labelMap.optional(),
    loadBalancerIP: z.string().optional(),
    loadBalancerClass: z.string().optional(),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
    ipFamilies: z.array(z.enum(IP_FAMILIES)).max(2).optional(),
    ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
    clusterIP: z.string().optional(),
  }),
  status: z
    .looseObject({
      loadBalancer: z
        .looseObject({
          ingress: z
            .array(z.looseObject({ ip: z.string().optional(), hostname: z.string().optional() }))
            .optional(),
        })
        .optional(),
    })
    .optional(),
});

export const NodeSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Node'),
  metadata: ObjectMetaSchema,
  spec: z.looseObject({}).optional(),
  status: z.unknown().optional(),
});

export const NamespaceSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Namespace'),
  metadata: ObjectMetaSchema,
  spec: z.unknown().optional(),
  status: z.unknown().optional(),
});

export const EndpointSchema = z.looseObject({
  addresses: z.array(z.string()).optional(),
  nodeName: z.string().optional(),
  conditions: z
    .looseObject({
      ready: z.boolean().optional(),
      serving: z.boolean().optional(),
      terminating: z.boolean().optional(),
    })
    .optional(),
});

export const ENDPOINTSLICE_SERVICE_LABEL = 'kubernetes.io/service-name';

export const EndpointSliceSchema = z.looseObject({
  apiVersion: z.literal('discovery.k8s.io/v1'),
  kind: z.literal('EndpointSlice'),
  metadata: ObjectMetaSchema.refine((m) => Boolean(m.labels?.[ENDPOINTSLICE_SERVICE_LABEL]), {
    message: `an EndpointSlice needs the label ${ENDPOINTSLICE_SERVICE_LABEL} naming its Service`,
    path: ['labels'],
  }),
  addressType: z.enum(['IPv4', 'IPv6', 'FQDN']).optional(),
  endpoints: z.array(EndpointSchema).optional(),
  ports: z.array(z.unknown()).optional(),
});

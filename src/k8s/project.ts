import { ENDPOINTSLICE_SERVICE_LABEL } from '../config/schemas.js';
import { ANNOTATION_PREFIXES } from '../config/service.js';

type Plain = Record<string, unknown>;

const isRecord = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const NETWORK_UNAVAILABLE = 'NetworkUnavailable';

/** The listed keys of `obj` that are set, in that order; a value that is not an object is kept as is. */
function pick(obj: unknown, keys: readonly string[]): unknown {
  if (!isRecord(obj)) return obj;
  const out: Plain = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** `pick` on every element of an array (anything else is kept as is, so the schema still reports it). */
function pickEach(list: unknown, keys: readonly string[]): unknown {
  return Array.isArray(list) ? list.map((e) => pick(e, keys)) : list;
}

/** The entries of a string map whose key passes `keep`; undefined when none is left. */
function filterMap(map: unknown, keep: (key: string) => boolean): unknown {
  if (!isRecord(map)) return map;
  let out: Plain | undefined;
  for (const [k, v] of Object.entries(map)) if (keep(k)) (out ??= {})[k] = v;
  return out;
}

/** name, namespace and labels: what every selector, key and problem location reads. */
function identity(metadata: unknown, labels: (labels: unknown) => unknown = (l) => l): unknown {
  if (!isRecord(metadata)) return metadata;
  return object([
    ['name', metadata.name],
    ['namespace', metadata.namespace],
    ['labels', labels(metadata.labels)],
  ]);
}

const heraldAnnotation = (key: string): boolean => ANNOTATION_PREFIXES.some((p) => key.startsWith(p));

/** Sets the fields whose value is not undefined, in order. */
function object(fields: Array<[string, unknown]>): Plain {
  const out: Plain = {};
  for (const [k, v] of fields) if (v !== undefined) out[k] = v;
  return out;
}

type Projection = (raw: Plain) => Array<[string, unknown]>;

const SERVICE_SPEC = [
  'type',
  'ports',
  'selector',
  'loadBalancerIP',
  'loadBalancerClass',
  'externalTrafficPolicy',
  'ipFamilies',
  'ipFamilyPolicy',
] as const;

/** The port numbers and protocols: what IP sharing compares. */
const ports = (list: unknown): unknown => pickEach(list, ['port', 'protocol']);

/**
 * Per kind, the fields the speaker reads (allocation requests, sharing, health checks, L2 eligibility,
 * node selectors, problem locations); every other field of the object is dropped on arrival.
 */
const projections: Readonly<Record<string, Projection>> = {
  Service: (raw) => {
    const spec = raw.spec;
    const status = raw.status;
    const ingress =
      isRecord(status) && isRecord(status.loadBalancer) ? status.loadBalancer.ingress : undefined;
    return [
      [
        'metadata',
        isRecord(raw.metadata)
          ? object([
              ['name', raw.metadata.name],
              ['namespace', raw.metadata.namespace],
              ['labels', raw.metadata.labels],
              // Herald's and MetalLB's annotations (requests, sharing, health checks); nobody else's.
              ['annotations', filterMap(raw.metadata.annotations, heraldAnnotation)],
            ])
          : raw.metadata,
      ],
      [
        'spec',
        isRecord(spec)
          ? object(SERVICE_SPEC.map((k) => [k, k === 'ports' ? ports(spec.ports) : spec[k]]))
          : spec,
      ],
      // The addresses the controller wrote: the speaker announces these and no others.
      [
        'status',
        ingress === undefined ? undefined : { loadBalancer: { ingress: pickEach(ingress, ['ip']) } },
      ],
    ];
  },
  EndpointSlice: (raw) => [
    [
      'metadata',
      identity(raw.metadata, (labels) => filterMap(labels, (k) => k === ENDPOINTSLICE_SERVICE_LABEL)),
    ],
    // Which nodes have a ready endpoint; not the endpoints' addresses, ports, zones or targets.
    [
      'endpoints',
      Array.isArray(raw.endpoints)
        ? raw.endpoints.map((e) =>
            isRecord(e)
              ? object([
                  ['nodeName', e.nodeName],
                  ['conditions', pick(e.conditions, ['ready', 'serving', 'terminating'])],
                ])
              : e,
          )
        : raw.endpoints,
    ],
  ],
  // Node selectors read the labels, eligibility the NetworkUnavailable condition.
  Node: (raw) => {
    const conditions = isRecord(raw.status) ? raw.status.conditions : undefined;
    return [
      ['metadata', identity(raw.metadata)],
      [
        'status',
        Array.isArray(conditions)
          ? {
              conditions: conditions
                .filter((c) => isRecord(c) && c.type === NETWORK_UNAVAILABLE)
                .map((c) => pick(c, ['type', 'status'])),
            }
          : undefined,
      ],
    ];
  },
  // Namespace selectors read the labels.
  Namespace: (raw) => [['metadata', identity(raw.metadata)]],
};

/** Herald's own kinds are few and read whole: only the server's bookkeeping goes. */
function withoutBookkeeping(raw: Plain): Array<[string, unknown]> {
  const { apiVersion: _a, kind: _k, metadata, ...body } = raw;
  let kept: unknown = metadata;
  if (isRecord(metadata)) {
    const { managedFields: _m, annotations, ...rest } = metadata;
    const others = filterMap(annotations, (k) => k !== LAST_APPLIED);
    kept = others === undefined ? rest : { ...rest, annotations: others };
  }
  return [['metadata', kept], ...Object.entries(body)];
}

/**
 * The speaker's copy of an API object, made as it arrives: apiVersion and kind (which list items lack)
 * and the few fields the speaker's model reads (`projections`), nothing else, so a large cluster's
 * Services, EndpointSlices and Nodes cost the speaker a fraction of their size (client-go's informer
 * transforms do the same). Values are copied as they are, so the schema still reports bad ones. Pure; the
 * input is not changed. The controller does not project: it writes objects back.
 */
export function projectForSpeaker(apiVersion: string, kind: string, raw: Plain): Plain {
  const project = projections[kind] ?? withoutBookkeeping;
  return object([['apiVersion', apiVersion], ['kind', kind], ...project(raw)]);
}

/** A speaker pod as a gossip seed: its IP and phase. */
export interface SpeakerPod {
  podIP?: string;
  phase?: string;
}

export function projectSpeakerPod(raw: Plain): SpeakerPod {
  const status = isRecord(raw.status) ? raw.status : {};
  return object([
    ['podIP', typeof status.podIP === 'string' ? status.podIP : undefined],
    ['phase', typeof status.phase === 'string' ? status.phase : undefined],
  ]) as SpeakerPod;
}

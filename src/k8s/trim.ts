import type { KubernetesObject } from './client.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Plain = Record<string, unknown>;

const isRecord = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Metadata without the server's bookkeeping nobody in the speaker reads: managedFields (often half of an
 * object's size) and kubectl's copy of the last applied object.
 */
function trimMetadata(metadata: KubernetesObject['metadata']): KubernetesObject['metadata'] {
  if (!metadata) return metadata;
  const { managedFields: _managedFields, annotations, ...rest } = metadata;
  if (!annotations) return rest;
  const { [LAST_APPLIED]: _lastApplied, ...kept } = annotations;
  return Object.keys(kept).length > 0 ? { ...rest, annotations: kept } : rest;
}

function pick(obj: unknown, keys: readonly string[]): Plain | undefined {
  if (!isRecord(obj)) return undefined;
  const out: Plain = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** Per kind, the top-level fields the speaker's model reads besides metadata; absent kinds keep all. */
const keptFields: Readonly<Record<string, (o: Plain) => Plain>> = {
  // Node selectors read labels and eligibility the NetworkUnavailable condition: the rest of the status
  // (images, addresses, capacity, node info) is most of a Node.
  Node: (o) => ({ status: pick(o.status, ['conditions']) }),
  Namespace: () => ({}),
  // Gossip seeds: the pod's IP and phase.
  Pod: (o) => ({ status: pick(o.status, ['podIP', 'phase']) }),
  EndpointSlice: (o) => ({
    addressType: o.addressType,
    ports: o.ports,
    endpoints: Array.isArray(o.endpoints)
      ? o.endpoints.map((e) => pick(e, ['addresses', 'nodeName', 'conditions']))
      : o.endpoints,
  }),
};

/**
 * The speaker's copy of an API object: what its model needs and nothing else, so the informer caches of
 * a large cluster hold a fraction of the objects (client-go's informer transforms do the same). The
 * controller does not trim: it writes objects back.
 */
export function trimForSpeaker(kind: string, obj: KubernetesObject): KubernetesObject {
  const { apiVersion, kind: ownKind, metadata, ...body } = obj as KubernetesObject & Plain;
  const keep = keptFields[kind];
  const out: Plain = {};
  // List items carry no apiVersion/kind (the caller knows the kind); watch events do.
  if (apiVersion !== undefined) out.apiVersion = apiVersion;
  if (ownKind !== undefined) out.kind = ownKind;
  out.metadata = trimMetadata(metadata);
  for (const [k, v] of Object.entries(keep ? keep(body) : body)) if (v !== undefined) out[k] = v;
  return out as KubernetesObject;
}

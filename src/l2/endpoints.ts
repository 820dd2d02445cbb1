import { ENDPOINTSLICE_SERVICE_LABEL, type EndpointSlice } from '../config/index.js';

/**
 * Where a service's endpoints are: the nodes with at least one ready endpoint, or `undeclared` when no
 * EndpointSlice says anything about the service (standalone mode only: plain hosts serve it themselves).
 */
export type ReadyNodes = ReadonlySet<string> | 'undeclared';

/**
 * How a missing EndpointSlice is read. Standalone: nobody declared where the endpoints are, so every
 * eligible node serves; slices, when present, narrow it as in Kubernetes. Kubernetes: MetalLB's meaning,
 * no slice = no endpoint = nobody announces.
 */
export type EndpointSemantics = 'standalone' | 'kubernetes';

export function hasReadyEndpoint(ready: ReadyNodes, node: string): boolean {
  return ready === 'undeclared' || ready.has(node);
}

export function anyReadyEndpoint(ready: ReadyNodes): boolean {
  return ready === 'undeclared' || ready.size > 0;
}

/** Union over the services sharing one IP: an undeclared service serves everywhere. */
export function mergeReadyNodes(list: readonly ReadyNodes[]): ReadyNodes {
  if (list.some((r) => r === 'undeclared')) return 'undeclared';
  return new Set(list.flatMap((r) => [...(r as ReadonlySet<string>)]));
}

/** The `namespace/name` key of the service an EndpointSlice belongs to (undefined without the label). */
export function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata.labels?.[ENDPOINTSLICE_SERVICE_LABEL];
  return svc ? `${slice.metadata.namespace ?? 'default'}/${svc}` : undefined;
}

/** Nodes with a ready endpoint in these slices (ready unset counts as ready). */
export function readyNodesOfSlices(slices: readonly EndpointSlice[], into = new Set<string>()): Set<string> {
  for (const slice of slices) {
    for (const ep of slice.endpoints ?? []) {
      if (ep.nodeName && ep.conditions?.ready !== false) into.add(ep.nodeName);
    }
  }
  return into;
}

/**
 * Ready nodes per service key (`namespace/name`) from EndpointSlices. A service absent from the result
 * has no slice at all; read it with `readyNodesOf`.
 */
export function readyNodesByService(slices: readonly EndpointSlice[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const slice of slices) {
    const key = sliceServiceKey(slice);
    if (key === undefined) continue;
    out.set(key, readyNodesOfSlices([slice], out.get(key)));
  }
  return out;
}

export function readyNodesOf(
  bySlices: ReadonlyMap<string, ReadonlySet<string>>,
  serviceKey: string,
  semantics: EndpointSemantics,
): ReadyNodes {
  const declared = bySlices.get(serviceKey);
  if (declared) return declared;
  return semantics === 'standalone' ? 'undeclared' : new Set<string>();
}

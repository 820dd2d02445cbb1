import { HERALD_KIND_NAMES } from '../../../src/config/schemas.js';
import { allCrds, crdFor, pluralOf } from '../../../src/k8s/crd-gen.js';
import type { TestApiServer } from '../apiserver/server.js';
import type { JsonObject, KubeObject } from '../apiserver/types.js';

export const HERALD_NS = 'herald-system';

/** Installs the Herald CRDs and the Herald namespace into a test API server. */
export function installHerald(server: TestApiServer): void {
  for (const crd of allCrds()) server.createObject(crd as KubeObject);
  server.createObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: HERALD_NS } });
}

export function pool(name: string, addresses: string[], spec: JsonObject = {}): KubeObject {
  return {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace: HERALD_NS },
    spec: { addresses, ...spec },
  };
}

/** An L2Advertisement of `pools` (every node, every interface unless `spec` says otherwise). */
export function l2Advertisement(name: string, pools: string[], spec: JsonObject = {}): KubeObject {
  return {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name, namespace: HERALD_NS },
    spec: { ipAddressPools: pools, ...spec },
  };
}

export function lbService(
  name: string,
  opts: {
    namespace?: string;
    annotations?: Record<string, string>;
    spec?: JsonObject;
    labels?: Record<string, string>;
  } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      annotations: opts.annotations ?? {},
      labels: opts.labels ?? {},
    },
    spec: {
      type: 'LoadBalancer',
      ports: [{ port: 80, protocol: 'TCP' }],
      selector: { app: name },
      ...opts.spec,
    },
  };
}

/** The IPs in a Service's status.loadBalancer.ingress. */
export function ingressOf(server: TestApiServer, name: string, namespace = 'default'): string[] {
  const s = server.get('v1', 'Service', name, namespace);
  const lb = (s?.status as { loadBalancer?: { ingress?: Array<{ ip: string }> } } | undefined)?.loadBalancer;
  return (lb?.ingress ?? []).map((i) => i.ip);
}

export function eventsFor(
  server: TestApiServer,
  name: string,
  namespace = 'default',
): Array<{ reason: string; message: string; type: string }> {
  return server
    .list('v1', 'Event', namespace)
    .filter((e) => (e.involvedObject as { name?: string }).name === name)
    .map((e) => ({ reason: String(e.reason), message: String(e.message), type: String(e.type) }));
}

/**
 * What a cluster that ran MetalLB has: the namespace metallb-system and stand-ins for MetalLB's CRDs
 * (metallb.io, BGPPeer served as v1beta1 and v1beta2) with Herald's schemas of the same kinds.
 */
export function installMetallb(server: TestApiServer): void {
  server.createObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'metallb-system' } });
  for (const kind of HERALD_KIND_NAMES) {
    const crd = crdFor(kind) as KubeObject & { spec: { group: string; versions: JsonObject[] } };
    const plural = pluralOf(kind);
    const [v1beta1] = crd.spec.versions;
    const versions =
      kind === 'BGPPeer'
        ? [
            { ...v1beta1, name: 'v1beta1', storage: false },
            { ...v1beta1, name: 'v1beta2', storage: true },
          ]
        : crd.spec.versions;
    server.createObject({
      ...crd,
      metadata: { name: `${plural}.metallb.io` },
      spec: { ...crd.spec, group: 'metallb.io', versions },
    });
  }
}

/** An EndpointSlice of `service` (namespace default) with one ready endpoint on each of `nodes`. */
export function readyOn(service: string, nodes: string[], addressType: 'IPv4' | 'IPv6' = 'IPv4'): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-${addressType.toLowerCase()}`,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType,
    endpoints: nodes.map((nodeName, i) => ({
      addresses: [addressType === 'IPv4' ? `10.244.${i}.10` : `fd44:${i}::10`],
      nodeName,
      conditions: { ready: true },
    })),
  };
}

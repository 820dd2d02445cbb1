import type { IPAddressPool, Namespace, Service } from '../../../src/config/types.js';
import { emptyModel, type HeraldModel } from '../../../src/config/types.js';

/** Small builders for allocator tests (plain Kubernetes-shaped objects). */

export function pool(
  name: string,
  addresses: string[],
  spec: Partial<IPAddressPool['spec']> = {},
): IPAddressPool {
  return {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name },
    spec: { addresses, ...spec },
  };
}

export interface SvcOpts {
  ns?: string;
  ports?: Array<number | [number, 'TCP' | 'UDP' | 'SCTP']>;
  share?: string;
  ips?: string;
  lbIP?: string;
  pool?: string;
  policy?: 'Cluster' | 'Local';
  selector?: Record<string, string>;
  families?: Array<'IPv4' | 'IPv6'>;
  familyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  labels?: Record<string, string>;
  cls?: string;
  type?: string;
  ingress?: string[];
  metallb?: boolean;
}

export function svc(name: string, o: SvcOpts = {}): Service {
  const prefix = o.metallb ? 'metallb.universe.tf/' : 'herald.dev/';
  const annotations: Record<string, string> = {};
  if (o.share) annotations[`${prefix}allow-shared-ip`] = o.share;
  if (o.ips) annotations[`${prefix}loadBalancerIPs`] = o.ips;
  if (o.pool) annotations[`${prefix}address-pool`] = o.pool;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: o.ns ?? 'default', annotations, labels: o.labels },
    spec: {
      type: o.type ?? 'LoadBalancer',
      ports: (o.ports ?? [80]).map((p) =>
        typeof p === 'number' ? { port: p } : { port: p[0], protocol: p[1] },
      ),
      loadBalancerIP: o.lbIP,
      loadBalancerClass: o.cls,
      externalTrafficPolicy: o.policy,
      selector: o.selector ?? { app: name },
      ipFamilies: o.families,
      ipFamilyPolicy: o.familyPolicy,
    },
    ...(o.ingress ? { status: { loadBalancer: { ingress: o.ingress.map((ip) => ({ ip })) } } } : {}),
  };
}

export const ns = (name: string, labels: Record<string, string>): Namespace => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

export function model(
  pools: IPAddressPool[],
  services: Service[],
  namespaces: Namespace[] = [],
): HeraldModel {
  return { ...emptyModel(), pools, services, namespaces };
}

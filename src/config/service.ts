import { canonicalIp, parseIp, formatIp, type Family } from './addresses.js';
import { HERALD_LB_CLASS } from './schemas.js';
import type { Service } from './types.js';

/**
 * What a Service asks of the allocator, read from its spec and annotations. `herald.dev/<name>` wins over
 * `metallb.io/<name>` and `metallb.universe.tf/<name>`, which are accepted so MetalLB users change nothing.
 */

export const ANNOTATION_PREFIXES = ['herald.dev/', 'metallb.io/', 'metallb.universe.tf/'] as const;
export const ANNOTATION_LOADBALANCER_IPS = 'loadBalancerIPs';
export const ANNOTATION_ADDRESS_POOL = 'address-pool';
export const ANNOTATION_ALLOW_SHARED_IP = 'allow-shared-ip';

export type IpFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

export interface PortProto {
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface ServiceRequest {
  /** `namespace/name` */
  key: string;
  namespace: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Requested addresses, canonical text, in the order given (annotation, else spec.loadBalancerIP). */
  requestedIps: Array<{ ip: string; family: Family; value: bigint }>;
  requestedPool?: string;
  sharingKey?: string;
  ports: PortProto[];
  trafficPolicy: 'Cluster' | 'Local';
  /** For `Local` services: the pod selector (MetalLB only lets Local services share an IP with the same one). */
  backendKey: string;
  /** Families in preference order from `spec.ipFamilies` (empty: not stated). */
  families: Family[];
  familyPolicy: IpFamilyPolicy;
  /** Problems in the request itself: path (relative to the Service object) and message. */
  problems: Array<{ path: string; message: string }>;
}

export const serviceKey = (svc: { metadata: { name: string; namespace?: string } }): string =>
  `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;

/** Herald handles `type: LoadBalancer` Services whose `loadBalancerClass` is unset or `herald.dev/lb`. */
export const isHeraldService = (svc: Service): boolean =>
  svc.spec.type === 'LoadBalancer' &&
  (svc.spec.loadBalancerClass === undefined || svc.spec.loadBalancerClass === HERALD_LB_CLASS);

/** The annotation value and the exact key it was found under. */
const ANNOTATION_KEYS = new Map<string, string[]>();

export function serviceAnnotation(svc: Service, name: string): { key: string; value: string } | undefined {
  const ann = svc.metadata.annotations;
  if (!ann) return undefined;
  let keys = ANNOTATION_KEYS.get(name);
  if (!keys) ANNOTATION_KEYS.set(name, (keys = ANNOTATION_PREFIXES.map((p) => p + name)));
  for (const key of keys) {
    const value = ann[key];
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

const annPath = (key: string): string => `metadata.annotations["${key}"]`;

/** Requests by Service object: validation and allocation both read every Service on each reload. */
const requests = new WeakMap<Service, ServiceRequest>();

/**
 * What `svc` asks for. Model objects are never changed once parsed, so the result is computed once per
 * object and shared: callers must not change it.
 */
export function serviceRequest(svc: Service): ServiceRequest {
  let request = requests.get(svc);
  if (!request) {
    request = readServiceRequest(svc);
    requests.set(svc, request);
  }
  return request;
}

function readServiceRequest(svc: Service): ServiceRequest {
  const problems: ServiceRequest['problems'] = [];
  const requestedIps: ServiceRequest['requestedIps'] = [];
  const ipsAnn = serviceAnnotation(svc, ANNOTATION_LOADBALANCER_IPS);
  const specIp = svc.spec.loadBalancerIP?.trim() || undefined;
  const addIp = (text: string, path: string): void => {
    const p = parseIp(text);
    if (!p) {
      problems.push({ path, message: `"${text}" is not a valid IP address` });
      return;
    }
    if (requestedIps.some((r) => r.family === p.family)) {
      problems.push({ path, message: `more than one IPv${p.family} address requested` });
      return;
    }
    requestedIps.push({ ip: formatIp(p.family, p.value), family: p.family, value: p.value });
  };
  if (ipsAnn) {
    const parts = ipsAnn.value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (parts.length === 0) problems.push({ path: annPath(ipsAnn.key), message: 'no address given' });
    for (const part of parts) addIp(part, annPath(ipsAnn.key));
    const specCanonical = specIp === undefined ? undefined : (canonicalIp(specIp) ?? specIp);
    if (specCanonical && !requestedIps.some((r) => r.ip === specCanonical)) {
      problems.push({
        path: 'spec.loadBalancerIP',
        message: `conflicts with annotation ${ipsAnn.key}; set only one of them (the annotation is preferred)`,
      });
    }
  } else if (specIp) {
    addIp(specIp, 'spec.loadBalancerIP');
  }

  const poolAnn = serviceAnnotation(svc, ANNOTATION_ADDRESS_POOL);
  const requestedPool = poolAnn?.value.trim() || undefined;
  if (poolAnn && !requestedPool) problems.push({ path: annPath(poolAnn.key), message: 'empty pool name' });
  const shareAnn = serviceAnnotation(svc, ANNOTATION_ALLOW_SHARED_IP);
  const sharingKey = shareAnn?.value.trim() || undefined;
  if (shareAnn && !sharingKey) problems.push({ path: annPath(shareAnn.key), message: 'empty sharing key' });

  const ports: PortProto[] = [];
  (svc.spec.ports ?? []).forEach((p, i) => {
    const protocol = p.protocol ?? 'TCP';
    if (ports.some((q) => q.port === p.port && q.protocol === protocol)) {
      problems.push({ path: `spec.ports[${i}]`, message: `port ${p.port}/${protocol} is listed twice` });
      return;
    }
    ports.push({ port: p.port, protocol });
  });

  const trafficPolicy = svc.spec.externalTrafficPolicy ?? 'Cluster';
  const families = (svc.spec.ipFamilies ?? []).map((f): Family => (f === 'IPv6' ? 6 : 4));
  if (families.length === 2 && families[0] === families[1]) {
    problems.push({ path: 'spec.ipFamilies', message: 'the same family is listed twice' });
  }
  const familyPolicy: IpFamilyPolicy = svc.spec.ipFamilyPolicy ?? 'SingleStack';
  if (familyPolicy === 'SingleStack' && families.length > 1) {
    problems.push({
      path: 'spec.ipFamilies',
      message: 'SingleStack services have one family; use PreferDualStack or RequireDualStack',
    });
  }
  if (familyPolicy === 'SingleStack' && requestedIps.length > 1) {
    problems.push({
      path: 'spec.ipFamilyPolicy',
      message: 'two addresses requested for a SingleStack service',
    });
  }
  for (const r of requestedIps) {
    if (families.length > 0 && !families.includes(r.family)) {
      problems.push({
        path: 'spec.ipFamilies',
        message: `requested ${r.ip} is IPv${r.family}, not in ipFamilies`,
      });
    }
  }
  const selector = svc.spec.selector ?? {};
  const backendKey =
    trafficPolicy === 'Local'
      ? Object.keys(selector)
          .sort()
          .map((k) => `${k}=${selector[k]}`)
          .join(',')
      : '';
  return {
    key: serviceKey(svc),
    namespace: svc.metadata.namespace ?? 'default',
    name: svc.metadata.name,
    labels: svc.metadata.labels ?? NO_LABELS,
    requestedIps,
    requestedPool,
    sharingKey,
    ports,
    trafficPolicy,
    backendKey,
    families,
    familyPolicy,
    problems,
  };
}

/**
 * What `herald validate` says about a Service beyond what the speaker needs: Herald and MetalLB
 * annotations it does not know, and spec fields Kubernetes does not have, each with the nearest known
 * name. Pure. The speaker itself ignores both (a Kubernetes object may carry anything).
 */
import { ANNOTATION_HEALTH_CHECK, ANNOTATION_HEALTH_CHECK_TIMING } from './health-check.js';
import {
  ANNOTATION_ADDRESS_POOL,
  ANNOTATION_ALLOW_SHARED_IP,
  ANNOTATION_LOADBALANCER_IPS,
  ANNOTATION_PREFIXES,
} from './service.js';
import type { Service } from './types.js';
import { suggestion } from './did-you-mean.js';

const SHARED = [ANNOTATION_LOADBALANCER_IPS, ANNOTATION_ADDRESS_POOL, ANNOTATION_ALLOW_SHARED_IP];
/** Written by MetalLB's controller; read by nobody here, but not a mistake. */
const METALLB_WRITTEN = ['ip-allocated-from-pool'];

const KNOWN_ANNOTATIONS = new Set([
  ...ANNOTATION_PREFIXES.flatMap((p) => SHARED.map((n) => p + n)),
  ...['metallb.io/', 'metallb.universe.tf/'].flatMap((p) => METALLB_WRITTEN.map((n) => p + n)),
  ANNOTATION_HEALTH_CHECK,
  ANNOTATION_HEALTH_CHECK_TIMING,
]);

/** Every field of a Kubernetes ServiceSpec (core/v1, Kubernetes 1.33). */
const SERVICE_SPEC_FIELDS = [
  'allocateLoadBalancerNodePorts',
  'clusterIP',
  'clusterIPs',
  'externalIPs',
  'externalName',
  'externalTrafficPolicy',
  'healthCheckNodePort',
  'internalTrafficPolicy',
  'ipFamilies',
  'ipFamilyPolicy',
  'loadBalancerClass',
  'loadBalancerIP',
  'loadBalancerSourceRanges',
  'ports',
  'publishNotReadyAddresses',
  'selector',
  'sessionAffinity',
  'sessionAffinityConfig',
  'trafficDistribution',
  'type',
];
const SPEC_FIELDS = new Set(SERVICE_SPEC_FIELDS);

export interface LintFinding {
  /** Field path inside the Service (`metadata.annotations["..."]`, `spec.x`). */
  path: string;
  message: string;
}

export function lintService(svc: Service): LintFinding[] {
  const out: LintFinding[] = [];
  for (const key of Object.keys(svc.metadata.annotations ?? {})) {
    const ours = ANNOTATION_PREFIXES.some((p) => key.startsWith(p));
    if (!ours || KNOWN_ANNOTATIONS.has(key)) continue;
    out.push({
      path: `metadata.annotations["${key}"]`,
      message: `unknown annotation, ignored${suggestion(key, KNOWN_ANNOTATIONS)}`,
    });
  }
  for (const field of Object.keys(svc.spec)) {
    if (SPEC_FIELDS.has(field)) continue;
    out.push({
      path: `spec.${field}`,
      message: `not a Service field, ignored${suggestion(field, SERVICE_SPEC_FIELDS)}`,
    });
  }
  return out;
}

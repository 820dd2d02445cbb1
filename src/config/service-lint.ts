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

/** Levenshtein distance, case-insensitive (a misspelt capital is the commonest slip). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[y.length] ?? 0;
}

/** The closest candidate within a third of the word's length (at least 2 edits), if any. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = distance(word, name);
    if (d <= Math.max(2, Math.floor(word.length / 3)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

const suggestion = (word: string, candidates: Iterable<string>): string => {
  const near = didYouMean(word, candidates);
  return near ? `; did you mean ${near}?` : '';
};

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

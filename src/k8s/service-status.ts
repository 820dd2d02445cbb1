import type { Allocation } from '../allocator/allocator.js';

/** The condition Herald's controller owns on each Service it handles. */
export const ALLOCATED_CONDITION = 'herald.dev/AddressAllocated';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface IngressEntry {
  ip: string;
  ipMode?: 'VIP' | 'Proxy';
}

/** What the service status should say for an allocation result. */
export function desiredServiceStatus(a: Allocation): { ingress: IngressEntry[]; condition: Condition } {
  if ('ips' in a) {
    return {
      ingress: a.ips.map((ip) => ({ ip, ipMode: 'VIP' as const })),
      condition: {
        type: ALLOCATED_CONDITION,
        status: 'True',
        reason: 'Allocated',
        message: `${a.ips.join(', ')} from pool ${a.pool}`,
      },
    };
  }
  return {
    ingress: [],
    condition: { type: ALLOCATED_CONDITION, status: 'False', reason: 'AllocationFailed', message: a.error },
  };
}

interface StatusLike {
  loadBalancer?: { ingress?: Array<{ ip?: string; ipMode?: string; hostname?: string }> };
  conditions?: Condition[];
}

const ingressText = (ing: StatusLike['loadBalancer']): string =>
  JSON.stringify((ing?.ingress ?? []).map((i) => [i.ip ?? i.hostname ?? '', i.ipMode ?? '']));

/**
 * The new `status` for a Service (ingress + our condition, other conditions kept), or undefined when the
 * current status already says so. Pure: the controller writes only real changes, so re-running a
 * reconcile (resync, restart, relist) never writes or emits anything.
 */
export function serviceStatusUpdate(
  current: StatusLike | undefined,
  desired: { ingress: IngressEntry[]; condition: Condition } | undefined,
  now: Date,
  generation?: number,
): StatusLike | undefined {
  const others = (current?.conditions ?? []).filter((c) => c.type !== ALLOCATED_CONDITION);
  const mine = (current?.conditions ?? []).find((c) => c.type === ALLOCATED_CONDITION);
  if (!desired) {
    if (!mine && (current?.loadBalancer?.ingress ?? []).length === 0) return undefined;
    return { loadBalancer: {}, conditions: others };
  }
  const sameIngress = ingressText(current?.loadBalancer) === ingressText({ ingress: desired.ingress });
  const sameCondition =
    mine !== undefined &&
    mine.status === desired.condition.status &&
    mine.reason === desired.condition.reason &&
    mine.message === desired.condition.message &&
    (generation === undefined || mine.observedGeneration === generation);
  if (sameIngress && sameCondition) return undefined;
  const transition =
    mine && mine.status === desired.condition.status
      ? mine.lastTransitionTime
      : now.toISOString().replace(/\.\d+Z$/, 'Z');
  const condition: Condition = {
    ...desired.condition,
    lastTransitionTime: transition,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return {
    loadBalancer: desired.ingress.length > 0 ? { ingress: desired.ingress } : {},
    conditions: [...others, condition],
  };
}

/** The event to record for a status change, if any: only when what users see actually changed. */
export function serviceEvent(
  current: StatusLike | undefined,
  desired: { ingress: IngressEntry[]; condition: Condition } | undefined,
): { type: 'Normal' | 'Warning'; reason: string; message: string } | undefined {
  const mine = (current?.conditions ?? []).find((c) => c.type === ALLOCATED_CONDITION);
  const hadIps = (current?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((s) => s !== '');
  if (!desired)
    return hadIps.length > 0
      ? { type: 'Normal', reason: 'AddressReleased', message: `released ${hadIps.join(', ')}` }
      : undefined;
  if (desired.condition.status === 'True') {
    const ips = desired.ingress.map((i) => i.ip);
    if (JSON.stringify(ips) === JSON.stringify(hadIps)) return undefined;
    return { type: 'Normal', reason: 'AddressAllocated', message: `assigned ${desired.condition.message}` };
  }
  if (mine?.status === 'False' && mine.message === desired.condition.message) return undefined;
  return { type: 'Warning', reason: 'AllocationFailed', message: desired.condition.message };
}

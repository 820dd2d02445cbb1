import { EventEmitter } from 'node:events';
import type { Logger } from '../util/log.js';
import { httpCode } from './api-util.js';
import {
  CoordinationV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Lease,
} from './client.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease is valid without renewal (whole seconds, as the Lease API stores it). */
  leaseDurationSeconds?: number;
  /** A leader that could not renew for this long steps down (must be < lease duration). */
  renewDeadlineMs?: number;
  /** How often candidates try to acquire and the leader renews. */
  retryPeriodMs?: number;
  log?: Logger;
}

/** True when a lease held by someone else has expired at `now` (pure; exported for tests). */
export function leaseExpired(spec: V1Lease['spec'], now: number): boolean {
  if (!spec?.holderIdentity) return true;
  const renew = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
  return renew + (spec.leaseDurationSeconds ?? 15) * 1000 < now;
}

/** metav1.MicroTime wire format: RFC 3339 with exactly six fractional digits (the API server insists). */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Lease-based leader election (coordination.k8s.io/v1), the client-go algorithm: acquire when the lease
 * is free or expired, renew every retry period with a resourceVersion precondition (so two candidates
 * cannot both win), step down when renewal fails past the renew deadline, release on stop so a standby
 * takes over at once. Emits `started` and `stopped` (leadership) events.
 */
export class LeaderElector extends EventEmitter {
  private readonly api: CoordinationV1Api;
  private timer?: NodeJS.Timeout;
  private leading = false;
  private lastRenew = 0;
  private running = false;
  private readonly leaseSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(
    kc: KubeConfig,
    private readonly opts: LeaderElectionOptions,
  ) {
    super();
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.leaseSeconds = opts.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? Math.floor(this.leaseSeconds * 1000 * (2 / 3));
    this.retryMs = opts.retryPeriodMs ?? 2000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so another candidate can take it immediately. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.api.readNamespacedLease({
        name: this.opts.name,
        namespace: this.opts.namespace,
      });
      if (lease.spec?.holderIdentity === this.opts.identity)
        await this.stamp(lease, { holderIdentity: '', leaseDurationSeconds: 1 });
    } catch (e) {
      this.opts.log?.debug({ err: e }, 'releasing the lease failed (it will expire)');
    }
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (e) {
      this.opts.log?.debug({ err: e }, 'lease update failed');
    }
    if (!this.running) return;
    const now = Date.now();
    if (ok) {
      this.lastRenew = now;
      this.setLeading(true);
    } else if (this.leading && now - this.lastRenew > this.renewDeadlineMs) {
      this.setLeading(false);
    }
    this.timer = setTimeout(() => void this.tick(), this.retryMs);
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    this.opts.log?.info(
      { identity: this.opts.identity, lease: `${this.opts.namespace}/${this.opts.name}` },
      v ? 'became leader' : 'stopped leading',
    );
    this.emit(v ? 'started' : 'stopped');
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity } = this.opts;
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (httpCode(e) !== 404) throw e;
      // Created without times (the typed client would send millisecond MicroTimes); stamped just below.
      lease = await this.api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: this.leaseSeconds, leaseTransitions: 0 },
        },
      });
      return this.stamp(lease, {
        holderIdentity: identity,
        acquireTime: microTime(now),
        renewTime: microTime(now),
      });
    }
    const spec = lease.spec ?? {};
    const mine = spec.holderIdentity === identity;
    if (!mine && !leaseExpired(spec, now.getTime())) return false;
    return this.stamp(lease, {
      holderIdentity: identity,
      leaseDurationSeconds: this.leaseSeconds,
      renewTime: microTime(now),
      ...(mine ? {} : { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
    });
  }

  /** Merge-patches the lease spec with the read resourceVersion as precondition (409 if someone else wrote). */
  private async stamp(lease: V1Lease, spec: Record<string, string | number | undefined>): Promise<boolean> {
    await this.api.patchNamespacedLease(
      {
        name: this.opts.name,
        namespace: this.opts.namespace,
        body: { metadata: { resourceVersion: lease.metadata?.resourceVersion }, spec },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    return true;
  }
}

import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { Allocator, ingressIps, type PoolStats } from '../allocator/allocator.js';
import { HERALD_LB_CLASS, ServiceSchema } from '../config/schemas.js';
import { serviceKey, serviceRequest } from '../config/service.js';
import type { Service } from '../config/types.js';
import { createLogger, type Logger } from '../util/log.js';
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
  shareConnections,
} from './client.js';
import { EventRecorder } from './events.js';
import { LeaderElector } from './leader.js';
import { buildModel, withKind } from './model.js';
import {
  ALLOCATED_CONDITION,
  desiredServiceStatus,
  serviceEvent,
  serviceStatusUpdate,
} from './service-status.js';
import { RawKubeApi } from './raw.js';
import { type ListResult, ResourceWatcher } from './watcher.js';
import { httpCode, poolApiServed } from './api-util.js';

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** Namespace holding Herald's configuration objects (IPAddressPools, ...) and the leader Lease. */
  namespace: string;
  /** Unique per replica (pod name); defaults to hostname + pid. */
  identity?: string;
  /** Leader election via a Lease; `false` runs as the only replica (tests, single-replica installs). */
  leaderElection?:
    | false
    | { leaseName?: string; leaseDurationSeconds?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** Whether Herald handles LoadBalancer services without `spec.loadBalancerClass` (default true). */
  defaultClass?: boolean;
  /** Also read `metallb.io` IPAddressPools from the namespace when that API exists (default true). */
  metallbCompat?: boolean;
  /** Delay before retrying a failed status write. */
  retryMs?: number;
  log?: Logger;
}

/** Status writes in flight at once (allocation itself is sequential). */
const WRITE_CONCURRENCY = 16;

interface StatusWrite {
  key: string;
  svc: Service;
  update: NonNullable<ReturnType<typeof serviceStatusUpdate>>;
  event: ReturnType<typeof serviceEvent>;
}

/** The pool kinds the controller reads, by API group/version. */
const poolSources = [
  { group: 'herald.dev', version: 'v1beta1', plural: 'ipaddresspools', kind: 'IPAddressPool' },
];
const metallbPoolSource = {
  group: 'metallb.io',
  version: 'v1beta1',
  plural: 'ipaddresspools',
  kind: 'IPAddressPool',
};

/**
 * `herald controller`: watches Services, IPAddressPools and Namespaces; while leader, allocates
 * addresses with the config/allocator `Allocator`, writes `status.loadBalancer.ingress` (ipMode VIP)
 * and the `herald.dev/AddressAllocated` condition, records an Event only when what a user sees changes,
 * releases addresses of deleted or retyped services, and publishes pool usage in IPAddressPool status.
 *
 * Restart and relist safety: on becoming leader, every service first re-claims the addresses its status
 * already shows (in key order) before anything new is allocated, so a restart, an API-server outage or a
 * 410 relist never moves or double-assigns an address. Emits `reconciled` after each pass.
 */
export class HeraldController extends EventEmitter {
  readonly identity: string;
  private readonly log: Logger;
  private readonly core: CoreV1Api;
  private readonly raw: RawKubeApi;
  private readonly custom: CustomObjectsApi;
  private readonly events: EventRecorder;
  private readonly services: ResourceWatcher;
  private readonly namespaces: ResourceWatcher;
  private readonly pools: Array<{
    watcher: ResourceWatcher;
    apiVersion: string;
    kind: string;
    group: string;
    version: string;
    plural: string;
  }> = [];
  private readonly elector?: LeaderElector;
  private allocator?: Allocator;
  private leading = false;
  private readonly dirty = new Set<string>();
  private poolsDirty = true;
  private running = false;
  private rerun = false;
  private scheduled?: NodeJS.Timeout;
  private stopped = false;
  private lastPoolProblems = '';
  private readonly poolStatusWritten = new Map<string, string>();
  /** Parsed Services by key, valid for one resourceVersion. */
  private readonly parsed = new Map<string, { rv: string; svc: Service | undefined }>();

  constructor(private readonly opts: ControllerOptions) {
    super();
    const kc = shareConnections(opts.kubeConfig);
    this.identity = opts.identity ?? `${hostname()}-${process.pid}`;
    this.log = opts.log ?? createLogger('herald-controller');
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.raw = new RawKubeApi(kc);
    this.events = new EventRecorder(this.raw, 'herald-controller', this.identity, this.log);
    this.services = new ResourceWatcher(kc, {
      path: '/api/v1/services',
      list: () => this.raw.get<ListResult>('/api/v1/services'),
    });
    this.services.on('change', (_type: string, obj: KubernetesObject) => this.markService(obj));
    this.services.on('synced', () => this.markAllServices());
    this.namespaces = new ResourceWatcher(kc, {
      path: '/api/v1/namespaces',
      list: () => this.core.listNamespace(),
    });
    this.namespaces.on('change', () => this.markPools());
    if (opts.leaderElection !== false) {
      const le = opts.leaderElection ?? {};
      this.elector = new LeaderElector(kc, {
        namespace: opts.namespace,
        name: le.leaseName ?? 'herald-controller',
        identity: this.identity,
        leaseDurationSeconds: le.leaseDurationSeconds,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        log: this.log,
      });
      this.elector.on('started', () => this.setLeading(true));
      this.elector.on('stopped', () => this.setLeading(false));
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Current assignments (`namespace/name` → ips + pool); empty while not leading. */
  allocations(): Map<string, { ips: string[]; pool: string }> {
    return this.allocator?.assignments() ?? new Map();
  }

  poolStats(): PoolStats[] {
    return this.allocator?.poolStats() ?? [];
  }

  async start(): Promise<void> {
    const sources = [...poolSources];
    if (
      this.opts.metallbCompat !== false &&
      (await poolApiServed(
        this.custom,
        metallbPoolSource.group,
        metallbPoolSource.version,
        this.opts.namespace,
      ))
    )
      sources.push(metallbPoolSource);
    for (const s of sources) {
      const watcher = new ResourceWatcher(this.opts.kubeConfig, {
        path: `/apis/${s.group}/${s.version}/namespaces/${this.opts.namespace}/${s.plural}`,
        list: async () =>
          (await this.custom.listNamespacedCustomObject({
            group: s.group,
            version: s.version,
            namespace: this.opts.namespace,
            plural: s.plural,
          })) as never,
      });
      watcher.on('change', () => this.markPools());
      this.pools.push({ watcher, apiVersion: `${s.group}/${s.version}`, ...s });
    }
    for (const w of this.watchers())
      w.on('error', (e: Error) =>
        this.log.debug({ err: e.message, path: w.path }, 'watch interrupted; re-listing'),
      );
    await Promise.all(this.watchers().map((w) => w.start()));
    this.log.info(
      { namespace: this.opts.namespace, identity: this.identity, pools: sources.map((s) => s.group) },
      'informers synced',
    );
    if (this.elector) this.elector.start();
    else this.setLeading(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scheduled) clearTimeout(this.scheduled);
    for (const w of this.watchers()) w.stop();
    await this.elector?.stop();
    this.leading = false;
  }

  private watchers(): ResourceWatcher[] {
    return [this.services, this.namespaces, ...this.pools.map((p) => p.watcher)];
  }

  private setLeading(v: boolean): void {
    this.leading = v;
    // A new term starts from scratch: re-claim what the statuses say, then allocate.
    this.allocator = undefined;
    if (v) this.markAllServices();
  }

  private markService(obj: KubernetesObject): void {
    this.dirty.add(`${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name ?? ''}`);
    this.schedule();
  }

  private markAllServices(): void {
    for (const s of this.services.list())
      this.dirty.add(`${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}`);
    this.schedule();
  }

  private markPools(): void {
    this.poolsDirty = true;
    this.markAllServices();
  }

  private schedule(delayMs = 0): void {
    if (this.stopped || this.scheduled) return;
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined;
      void this.reconcile();
    }, delayMs);
  }

  private ours(svc: Service): boolean {
    if (svc.spec.type !== 'LoadBalancer') return false;
    const cls = svc.spec.loadBalancerClass;
    return cls === HERALD_LB_CLASS || (cls === undefined && this.opts.defaultClass !== false);
  }

  private parseService(obj: KubernetesObject): Service | undefined {
    const key = `${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name ?? ''}`;
    const rv = obj.metadata?.resourceVersion ?? '';
    const cached = this.parsed.get(key);
    if (cached && cached.rv === rv) return cached.svc;
    const svc = this.parseServiceUncached(obj);
    this.parsed.set(key, { rv, svc });
    return svc;
  }

  private parseServiceUncached(obj: KubernetesObject): Service | undefined {
    const r = ServiceSchema.safeParse(withKind(obj, 'v1', 'Service'));
    if (!r.success) {
      this.log.warn(
        { service: `${obj.metadata?.namespace}/${obj.metadata?.name}`, issues: r.error.issues.slice(0, 3) },
        'unreadable Service skipped',
      );
      return undefined;
    }
    return r.data;
  }

  private oursList(): Service[] {
    return this.services
      .list()
      .map((o) => this.parseService(o))
      .filter((s): s is Service => s !== undefined && this.ours(s))
      .sort((a, b) => (serviceKey(a) < serviceKey(b) ? -1 : 1));
  }

  private applyPools(alloc: Allocator): void {
    const objs = [
      ...this.pools.flatMap((p) => p.watcher.list().map((o) => withKind(o, p.apiVersion, p.kind))),
      ...this.namespaces.list().map((o) => withKind(o, 'v1', 'Namespace')),
    ];
    const { model, problems } = buildModel(objs);
    const text = problems.map((p) => `${p.path}: ${p.message}`).join('\n');
    if (text !== this.lastPoolProblems && problems.length > 0)
      this.log.warn({ problems: text.split('\n') }, 'configuration problems (offending objects ignored)');
    this.lastPoolProblems = text;
    alloc.setNamespaces(model.namespaces);
    alloc.setPools(model.pools);
  }

  private async reconcile(): Promise<void> {
    if (!this.leading || this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    let retry = false;
    try {
      if (!this.allocator) {
        const alloc = new Allocator();
        this.applyPools(alloc);
        // Existing assignments first, in key order, so nothing already handed out moves or is given twice.
        for (const svc of this.oursList()) {
          const ips = ingressIps(svc);
          if (ips.length > 0) alloc.claim(svc, ips);
        }
        this.allocator = alloc;
        this.poolsDirty = false;
        this.markAllServices();
      } else if (this.poolsDirty) {
        this.poolsDirty = false;
        this.applyPools(this.allocator);
      }
      const rank = new Map([...this.dirty].map((k) => [k, this.requestRank(k)]));
      const keys = [...this.dirty].sort((a, b) => rank.get(a)! - rank.get(b)! || (a < b ? -1 : 1));
      this.dirty.clear();
      const writes = keys.map((k) => this.planService(k)).filter((w): w is StatusWrite => w !== undefined);
      // Writes are independent once allocated: run a few at a time.
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < writes.length && this.leading && !this.stopped) {
          const w = writes[next++]!;
          if (!(await this.writeStatus(w))) {
            this.dirty.add(w.key);
            retry = true;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, writes.length) }, worker));
      if (this.leading && !this.stopped && this.allocator) await this.writePoolStatuses(this.allocator);
    } catch (e) {
      this.log.error({ err: e }, 'reconcile failed');
      retry = true;
    } finally {
      this.running = false;
    }
    this.emit('reconciled');
    if (this.rerun || this.dirty.size > 0) {
      this.rerun = false;
      this.schedule(retry ? (this.opts.retryMs ?? 500) : 0);
    }
  }

  /** Services asking for specific addresses go first, so automatic ones do not take them. */
  private requestRank(key: string): number {
    const [ns, name] = key.split('/') as [string, string];
    const obj = this.services.get(name, ns);
    const svc = obj && this.parseService(obj);
    return svc && serviceRequest(svc).requestedIps.length > 0 ? 0 : 1;
  }

  /**
   * Allocates for one service (synchronously, so allocation order is deterministic) and returns the
   * status write it needs, if any.
   */
  private planService(key: string): StatusWrite | undefined {
    const alloc = this.allocator!;
    const [namespace, name] = key.split('/') as [string, string];
    const obj = this.services.get(name, namespace);
    if (!obj) {
      this.parsed.delete(key);
      if (alloc.release(key)) this.log.info({ service: key }, 'service deleted; addresses released');
      return undefined;
    }
    const svc = this.parseService(obj);
    if (!svc) return undefined;
    let desired: ReturnType<typeof desiredServiceStatus> | undefined;
    if (this.ours(svc)) desired = desiredServiceStatus(alloc.assign(svc));
    else {
      const released = alloc.release(key);
      const hasOurCondition = (
        svc.status as { conditions?: Array<{ type: string }> } | undefined
      )?.conditions?.some((c) => c.type === ALLOCATED_CONDITION);
      if (!released && !hasOurCondition) return undefined;
    }
    const current = svc.status as Parameters<typeof serviceStatusUpdate>[0];
    const update = serviceStatusUpdate(current, desired, new Date());
    if (!update) return undefined;
    return { key, svc, update, event: serviceEvent(current, desired) };
  }

  /** Writes one planned status (merge patch with resourceVersion precondition); false = retry later. */
  private async writeStatus(w: StatusWrite): Promise<boolean> {
    const { svc, update, event } = w;
    const name = svc.metadata.name;
    const namespace = svc.metadata.namespace ?? 'default';
    try {
      await this.raw.request(
        'PATCH',
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}/status`,
        {
          metadata: { resourceVersion: svc.metadata.resourceVersion },
          status: {
            ...update,
            loadBalancer: update.loadBalancer?.ingress ? update.loadBalancer : { ingress: null },
            conditions: update.conditions,
          },
        },
        'application/merge-patch+json',
      );
    } catch (e) {
      const code = httpCode(e);
      if (code === 404) return true;
      this.log.debug({ service: w.key, code }, 'status write failed; will retry');
      return false;
    }
    if (event) {
      void this.events.record(
        { apiVersion: 'v1', kind: 'Service', name, namespace, uid: svc.metadata.uid as string | undefined },
        event.type,
        event.reason,
        event.message,
      );
      this.log.info({ service: w.key, reason: event.reason }, event.message);
    }
    return true;
  }

  /** IPAddressPool status: assigned/available addresses per family (MetalLB's field names). */
  private async writePoolStatuses(alloc: Allocator): Promise<void> {
    const stats = new Map(alloc.poolStats().map((s) => [s.pool, s]));
    for (const p of this.pools) {
      if (p.group !== 'herald.dev') continue;
      for (const obj of p.watcher.list()) {
        const name = obj.metadata?.name ?? '';
        const s = stats.get(name);
        if (!s) continue;
        const status = {
          assignedIPv4: s.ipv4.inUse,
          assignedIPv6: s.ipv6.inUse,
          availableIPv4: Number(s.ipv4.total) - s.ipv4.inUse,
          availableIPv6:
            Number(
              s.ipv6.total > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : s.ipv6.total,
            ) - s.ipv6.inUse,
        };
        const text = JSON.stringify(status);
        const cur = JSON.stringify((obj as { status?: unknown }).status ?? {});
        if (cur === text || this.poolStatusWritten.get(name) === text) continue;
        try {
          await this.custom.patchNamespacedCustomObjectStatus(
            {
              group: p.group,
              version: p.version,
              namespace: this.opts.namespace,
              plural: p.plural,
              name,
              body: { status },
            },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
          this.poolStatusWritten.set(name, text);
        } catch (e) {
          this.log.debug({ pool: name, code: httpCode(e) }, 'pool status write failed');
        }
      }
    }
  }
}

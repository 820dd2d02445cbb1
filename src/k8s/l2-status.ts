import { createHash } from 'node:crypto';
import { createLogger, type Logger } from '../util/log.js';
import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  shareConnections,
} from './client.js';
import { EventRecorder } from './events.js';
import { httpCode } from './api-util.js';

/** What one node announces for one Service (the speaker's decision, published for people). */
export interface Announcement {
  serviceNamespace: string;
  serviceName: string;
  ips: string[];
  interfaces: string[];
  /** owner: this node answers for everyone; spread: this node answers for a share of the clients. */
  mode: 'owner' | 'spread';
  reason: string;
}

export interface L2StatusWriterOptions {
  kubeConfig: KubeConfig;
  /** Namespace for the ServiceL2Status objects (the release namespace). */
  namespace: string;
  node: string;
  log?: Logger;
}

const GROUP = 'herald.dev';
const VERSION = 'v1beta1';
const PLURAL = 'servicel2statuses';
export const L2STATUS_NODE_LABEL = 'herald.dev/node';
export const L2STATUS_SERVICE_LABEL = 'herald.dev/service-name';
export const L2STATUS_NAMESPACE_LABEL = 'herald.dev/service-namespace';

/** Object name for (service, node): stable, DNS-safe, short. */
export function l2StatusName(serviceNamespace: string, serviceName: string, node: string): string {
  const h = createHash('sha256')
    .update(`${serviceNamespace}/${serviceName}/${node}`)
    .digest('hex')
    .slice(0, 10);
  return `${serviceName.slice(0, 40).replace(/[^a-z0-9-]/g, '-')}-${h}`;
}

/**
 * Publishes which node announces each Service: one `ServiceL2Status` per (service, announcing node),
 * created, updated and deleted by that node's speaker, and an Event on the Service only when this node
 * *starts* announcing it (an owner change), never on unchanged reconciles. `publish()` takes this
 * node's complete current set; it is idempotent and cheap when nothing changed. Write errors are
 * logged and retried on the next publish.
 */
export class L2StatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly events: EventRecorder;
  private readonly log: Logger;
  /** name → status JSON last written successfully. */
  private readonly written = new Map<string, string>();
  private adopted = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: L2StatusWriterOptions) {
    this.api = shareConnections(opts.kubeConfig).makeApiClient(CustomObjectsApi);
    this.log = opts.log ?? createLogger('herald-l2-status');
    this.events = new EventRecorder(opts.kubeConfig, 'herald-speaker', opts.node, this.log);
  }

  /** Serialised: concurrent calls run one after another, the last one wins. */
  publish(announcements: readonly Announcement[]): Promise<void> {
    const next = this.chain.then(() => this.sync(announcements));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async adopt(): Promise<void> {
    // Objects this node wrote before a restart: known, so a restart does not re-announce events.
    const list = (await this.api.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.opts.namespace,
      plural: PLURAL,
      labelSelector: `${L2STATUS_NODE_LABEL}=${this.opts.node}`,
    })) as { items?: Array<{ metadata: { name: string }; status?: unknown }> };
    for (const o of list.items ?? []) this.written.set(o.metadata.name, JSON.stringify(o.status ?? {}));
    this.adopted = true;
  }

  private async sync(announcements: readonly Announcement[]): Promise<void> {
    const { namespace, node } = this.opts;
    if (!this.adopted) {
      try {
        await this.adopt();
      } catch (e) {
        this.log.warn({ code: httpCode(e) }, 'cannot list ServiceL2Status objects; will retry');
        return;
      }
    }
    const want = new Map<string, { a: Announcement; status: Record<string, unknown> }>();
    for (const a of announcements) {
      const status = {
        node,
        serviceName: a.serviceName,
        serviceNamespace: a.serviceNamespace,
        ips: a.ips,
        interfaces: a.interfaces.map((name) => ({ name })),
        mode: a.mode,
        reason: a.reason,
      };
      want.set(l2StatusName(a.serviceNamespace, a.serviceName, node), { a, status });
    }
    for (const [name, { a, status }] of want) {
      const text = JSON.stringify(status);
      const before = this.written.get(name);
      if (before === text) continue;
      try {
        if (before === undefined) {
          await this.api
            .createNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace,
              plural: PLURAL,
              body: {
                apiVersion: `${GROUP}/${VERSION}`,
                kind: 'ServiceL2Status',
                metadata: {
                  name,
                  namespace,
                  labels: {
                    [L2STATUS_NODE_LABEL]: node,
                    [L2STATUS_SERVICE_LABEL]: a.serviceName.slice(0, 63),
                    [L2STATUS_NAMESPACE_LABEL]: a.serviceNamespace,
                  },
                },
                spec: {},
              },
            })
            .catch((e: unknown) => {
              if (httpCode(e) !== 409) throw e;
            });
        }
        await this.api.patchNamespacedCustomObjectStatus(
          {
            group: GROUP,
            version: VERSION,
            namespace,
            plural: PLURAL,
            name,
            body: {
              status: { ...status, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        this.written.set(name, text);
        if (before === undefined) {
          await this.events.record(
            { apiVersion: 'v1', kind: 'Service', name: a.serviceName, namespace: a.serviceNamespace },
            'Normal',
            'Announcing',
            `node ${node} announces ${a.ips.join(', ')}${a.mode === 'spread' ? ' (spread: a share of the clients)' : ''} (${a.reason})`,
          );
        }
      } catch (e) {
        this.log.warn({ status: name, code: httpCode(e) }, 'ServiceL2Status write failed; will retry');
      }
    }
    for (const name of [...this.written.keys()]) {
      if (want.has(name)) continue;
      try {
        await this.api.deleteNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name,
        });
        this.written.delete(name);
      } catch (e) {
        if (httpCode(e) === 404) this.written.delete(name);
        else this.log.warn({ status: name, code: httpCode(e) }, 'ServiceL2Status delete failed; will retry');
      }
    }
  }
}

import { createLogger, type Logger } from '../util/log.js';
import type { JsonApi } from './connection.js';
import { EventRecorder } from './events.js';
import { httpCode } from './api-util.js';
import { type Announcement, type L2StatusWrite, planL2Status } from './l2-status-plan.js';

export { type Announcement, l2StatusName } from './l2-status-plan.js';

export interface L2StatusWriterOptions {
  /** The speaker's API connection (k8s/connection.ts). */
  api: JsonApi;
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

/**
 * Publishes which node announces each Service: one `ServiceL2Status` per (service, announcing node),
 * created, updated and deleted by that node's speaker, and an Event on the Service only when this node
 * *starts* announcing it (an owner change), never on unchanged reconciles. `publish()` takes this
 * node's complete current set; it is idempotent and cheap when nothing changed. Write errors are
 * logged and retried on the next publish.
 */
export class L2StatusWriter {
  private readonly api: JsonApi;
  private readonly collection: string;
  private readonly events: EventRecorder;
  private readonly log: Logger;
  /** name → status JSON last written successfully. */
  private readonly written = new Map<string, string>();
  private adopted = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: L2StatusWriterOptions) {
    this.api = opts.api;
    this.collection = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(opts.namespace)}/${PLURAL}`;
    this.log = opts.log ?? createLogger('herald-l2-status');
    this.events = new EventRecorder(opts.api, 'herald-speaker', opts.node, this.log);
  }

  /** Serialised: concurrent calls run one after another, the last one wins. */
  publish(announcements: readonly Announcement[]): Promise<void> {
    const next = this.chain.then(() => this.sync(announcements));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async adopt(): Promise<void> {
    // Objects this node wrote before a restart: known, so a restart does not re-announce events.
    const selector = encodeURIComponent(`${L2STATUS_NODE_LABEL}=${this.opts.node}`);
    const list = await this.api.request<{ items?: Array<{ metadata: { name: string }; status?: unknown }> }>(
      'GET',
      `${this.collection}?labelSelector=${selector}`,
    );
    for (const o of list.items ?? []) this.written.set(o.metadata.name, JSON.stringify(o.status ?? {}));
    this.adopted = true;
  }

  private async sync(announcements: readonly Announcement[]): Promise<void> {
    if (!this.adopted) {
      try {
        await this.adopt();
      } catch (e) {
        this.log.warn({ code: httpCode(e) }, 'cannot list ServiceL2Status objects; will retry');
        return;
      }
    }
    const plan = planL2Status(this.opts.node, announcements, this.written);
    for (const write of plan.writes) await this.write(write);
    for (const name of plan.deletes) await this.remove(name);
  }

  /** Creates (when new) and patches the status of one object; an Event only when this node starts. */
  private async write({ name, announcement: a, status, text, create }: L2StatusWrite): Promise<void> {
    const { namespace, node } = this.opts;
    try {
      if (create) {
        await this.api
          .request('POST', this.collection, {
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
          })
          .catch((e: unknown) => {
            if (httpCode(e) !== 409) throw e;
          });
      }
      await this.api.request(
        'PATCH',
        `${this.collection}/${encodeURIComponent(name)}/status`,
        { status: { ...status, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } },
        'application/merge-patch+json',
      );
      this.written.set(name, text);
      if (create) {
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

  private async remove(name: string): Promise<void> {
    try {
      await this.api.request('DELETE', `${this.collection}/${encodeURIComponent(name)}`);
      this.written.delete(name);
    } catch (e) {
      if (httpCode(e) === 404) this.written.delete(name);
      else this.log.warn({ status: name, code: httpCode(e) }, 'ServiceL2Status delete failed; will retry');
    }
  }
}

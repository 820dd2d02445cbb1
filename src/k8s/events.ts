import type { Logger } from '../util/log.js';
import type { JsonApi } from './connection.js';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

/**
 * Writes core/v1 Events. Callers decide *when* (only on a real change: MetalLB's per-reconcile event
 * spam is a known complaint); a failed write is logged, never retried or thrown.
 */
export class EventRecorder {
  constructor(
    private readonly api: JsonApi,
    private readonly component: string,
    private readonly instance: string,
    private readonly log?: Logger,
  ) {}

  async record(
    obj: InvolvedObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const namespace = obj.namespace ?? 'default';
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    try {
      await this.api.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${obj.name}.`, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.name,
          namespace: obj.namespace,
          uid: obj.uid,
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.instance,
      });
    } catch (e) {
      this.log?.warn({ err: e, reason, object: `${namespace}/${obj.name}` }, 'could not record event');
    }
  }
}

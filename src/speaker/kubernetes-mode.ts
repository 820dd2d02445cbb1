import { KubeConnection } from '../k8s/connection.js';
import { type Announcement, L2StatusWriter } from '../k8s/l2-status.js';
import { KubernetesConfigSource } from '../k8s/speaker-source.js';
import type { VipDecision } from '../l2/desired.js';
import type { Logger } from '../util/log.js';
import type { SpeakerView } from './view.js';

export interface KubernetesMode {
  source: KubernetesConfigSource;
  /** Publishes this node's announcements as ServiceL2Status objects after every reconcile. */
  attach(speaker: SpeakerView): void;
}

/** The speaker's Kubernetes side: informers as the model source, speaker pods as seeds, status objects. */
export function kubernetesMode(opts: {
  kubeconfig?: string;
  namespace: string;
  node: string;
  log: Logger;
}): KubernetesMode {
  // The speaker's own small client (k8s/connection.ts), not client-node's KubeConfig (~40 MB of modules).
  const connection = KubeConnection.load(opts.kubeconfig);
  const source = new KubernetesConfigSource({ connection, namespace: opts.namespace, log: opts.log });
  const writer = new L2StatusWriter({
    api: connection,
    namespace: opts.namespace,
    node: opts.node,
    log: opts.log,
  });
  return {
    source,
    attach(speaker) {
      speaker.on('decisions', (decisions) => {
        writer.publish(l2Announcements(decisions, opts.node)).catch((error: unknown) => {
          opts.log.warn({ err: error }, 'publishing ServiceL2Status failed; retried on the next change');
        });
      });
    },
  };
}

/** This node's L2 announcements, one per service (a dual-stack service lists both IPs). */
export function l2Announcements(decisions: readonly VipDecision[], node: string): Announcement[] {
  const byService = new Map<string, Announcement>();
  for (const d of decisions) {
    if (!d.shares.has(node)) continue;
    for (const key of d.services) {
      const [serviceNamespace = 'default', serviceName = key] = key.split('/');
      const entry = byService.get(key) ?? {
        serviceNamespace,
        serviceName,
        ips: [],
        interfaces: d.interfaces.get(node) ?? [],
        mode: d.mode === 'spread' ? ('spread' as const) : ('owner' as const),
        reason: d.reason,
      };
      entry.ips.push(d.ip);
      byService.set(key, entry);
    }
  }
  return [...byService.values()];
}

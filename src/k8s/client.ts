import type { KubeConfig } from '@kubernetes/client-node';

export * from '@kubernetes/client-node';

const shared = Symbol('herald.sharedDispatcher');
type DispatcherFactory = (cluster?: { server?: string; name?: string }, agentOptions?: unknown) => unknown;
type Patchable = { createDispatcher: DispatcherFactory; [shared]?: true };

/**
 * client-node builds a new undici Agent (a new TCP and TLS connection) for every request. This makes a
 * KubeConfig reuse one Agent per cluster/user, so requests share keep-alive connections. Idempotent;
 * returns the same KubeConfig.
 */
export function shareConnections(kc: KubeConfig): KubeConfig {
  const p = kc as unknown as Patchable;
  if (p[shared]) return kc;
  const original = p.createDispatcher.bind(kc);
  const cache = new Map<string, unknown>();
  p.createDispatcher = (cluster, agentOptions) => {
    const key = JSON.stringify([
      cluster?.server,
      cluster?.name,
      kc.getCurrentUser()?.name,
      agentOptions ?? null,
    ]);
    if (!cache.has(key)) cache.set(key, original(cluster, agentOptions));
    return cache.get(key);
  };
  p[shared] = true;
  return kc;
}

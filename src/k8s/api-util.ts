import type { CustomObjectsApi } from './client.js';

/** The HTTP status of a client-node ApiException (undefined for network errors). */
export function httpCode(e: unknown): number | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number') return e.code;
  return undefined;
}

/** Whether `group/version` serves `ipaddresspools` in the namespace (e.g. MetalLB's CRDs are installed). */
export async function poolApiServed(
  custom: CustomObjectsApi,
  group: string,
  version: string,
  namespace: string,
): Promise<boolean> {
  try {
    await custom.listNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'ipaddresspools',
      limit: 1,
    });
    return true;
  } catch {
    return false;
  }
}

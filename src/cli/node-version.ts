/** The oldest Node the speaker runs on: `engines.node` in package.json (a unit test keeps them equal). */
export const MINIMUM_NODE = '22.19.0';

function parts(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10) || 0);
}

/** Whether `version` (x.y.z, with or without a leading v) is at least `minimum`. */
export function nodeAtLeast(version: string, minimum: string): boolean {
  const have = parts(version);
  const need = parts(minimum);
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * The error to stop with when this Node is too old, else undefined. Older ones fail later and obscurely
 * (a worker thread's cpuUsage() is missing on Node 20 and the config reader dies at its first timer).
 */
export function unsupportedNodeMessage(version: string, execPath: string): string | undefined {
  if (nodeAtLeast(version, MINIMUM_NODE)) return undefined;
  return (
    `herald: needs Node >= ${MINIMUM_NODE}; ${execPath} is Node ${version.replace(/^v?/, 'v')}. ` +
    `Run it with a newer Node (the image and \`npm run lab\` bring Node 24)\n`
  );
}

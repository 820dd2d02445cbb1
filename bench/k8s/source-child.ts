/**
 * Child process of bench/k8s/run.ts: runs the speaker's KubernetesConfigSource against the bench's API
 * server and prints one JSON line per model change with the value of the `bench` label of
 * default/svc-0, so the parent can time how long a change takes to reach the speaker's model. A line
 * `memory` on stdin asks for its process.memoryUsage() (one JSON line `{"memory": ...}`).
 */
import { createInterface } from 'node:readline';
import { KubeConnection } from '../../src/k8s/connection.js';
import { KubernetesConfigSource } from '../../src/k8s/speaker-source.js';
import { createLogger } from '../../src/util/log.js';

const source = new KubernetesConfigSource({
  connection: KubeConnection.load(process.argv[2]!),
  namespace: 'herald-system',
  log: createLogger('bench-source', 'warn'),
});
const mark = (model: {
  services: Array<{ metadata: { name: string; namespace?: string; labels?: Record<string, string> } }>;
}): string =>
  model.services.find((s) => s.metadata.name === 'svc-0' && s.metadata.namespace === 'default')?.metadata
    .labels?.bench ?? '';
source.on('change', (m) =>
  process.stdout.write(`${JSON.stringify({ bench: mark(m), services: m.services.length })}\n`),
);
const first = await source.start();
process.stdout.write(
  `${JSON.stringify({ ready: true, bench: mark(first), services: first.services.length })}\n`,
);
createInterface(process.stdin).on('line', (line) => {
  if (line.trim() === 'memory')
    process.stdout.write(`${JSON.stringify({ memory: process.memoryUsage() })}\n`);
});
process.on('SIGTERM', () => {
  source.stop();
  process.exit(0);
});

import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { setThreadNice } from '../../../src/util/thread-priority.js';

t.test('setThreadNice changes the calling thread only', async (t) => {
  const url = new URL('../../../src/util/thread-priority.js', import.meta.url).href;
  const worker = new Worker(
    `import('${url}').then((m) => require('node:worker_threads').parentPort.postMessage(m.setThreadNice(5)))`,
    { eval: true },
  );
  const outcome = await new Promise((resolve) => worker.once('message', resolve));
  await worker.terminate();
  t.same(outcome, { nice: 5 }, 'a worker lowered its own priority (allowed without privileges)');
  t.equal(getPriority(), 0, 'the process (main thread) keeps its own');
  t.ok(readFileSync('/proc/thread-self/stat', 'utf8').length > 0);
});

t.test('setThreadNice reports a refusal instead of throwing', async (t) => {
  const outcome = setThreadNice(100);
  t.ok('error' in outcome, `out of range: ${JSON.stringify(outcome)}`);
});

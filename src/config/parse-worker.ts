import { parentPort } from 'node:worker_threads';
import { parseConfigTexts } from './parse.js';

/**
 * Worker-thread entry of `parseInWorker`: waits for one set of texts, parses it
 * and posts the result back. One message: the structured clone keeps the identity of the model objects
 * used as `locations` keys.
 */
parentPort?.once('message', (files: Array<{ text: string; fileName: string }>) => {
  parentPort?.postMessage(parseConfigTexts(files));
});

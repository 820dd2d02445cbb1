import { parentPort } from 'node:worker_threads';
import { decodeDocuments, parseConfigTexts } from './parse.js';
import type { ParserRequest } from './parse-off-thread.js';
import { toWire } from './parsed-wire.js';

/**
 * Worker-thread entry of `parseInWorker` and `parseDocumentsInWorker`: waits for one request, parses it
 * and posts the result back. One message: the structured clone keeps the identity of the model objects
 * used as `locations` keys.
 */
parentPort?.once('message', (request: ParserRequest) => {
  if (request.kind === 'config') {
    parentPort?.postMessage(parseConfigTexts(request.files));
    return;
  }
  parentPort?.postMessage(decodeDocuments(request.pieces).map(toWire));
});

/**
 * Splits a YAML stream into its documents' texts at the lines a YAML parser must treat as document
 * starts (`---` at the start of a line, followed by a space or the line's end: such a line cannot be
 * scalar content). Each piece parses alone to what it parses to inside the stream, so a piece's result
 * can be reused while its text is unchanged.
 *
 * Directives (`%YAML`, `%TAG`) apply to the document after them and `...` ends a document: a text with
 * either gives `undefined`, and only a parse of the whole text is exact.
 */
export function splitDocuments(text: string): string[] | undefined {
  if (/^(%|\.\.\.(\s|$))/m.test(text)) return undefined;
  const pieces: string[] = [];
  let start = 0;
  for (let at = text.indexOf('---'); at !== -1; at = text.indexOf('---', at + 3)) {
    if (at > 0 && !LINE_BREAKS.has(text[at - 1]!)) continue;
    const after = text[at + 3];
    if (after !== undefined && !SEPARATORS.has(after)) continue;
    if (at > start) pieces.push(text.slice(start, at));
    start = at;
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces;
}

const LINE_BREAKS = new Set(['\n', '\r']);
const SEPARATORS = new Set([' ', '\t', '\r', '\n']);

/**
 * For each new document, the index of the same text in the previous version, or -1; no index twice. An edit changes a
 * few documents somewhere in a long file: the unchanged head and tail are matched by position (a string
 * compare each), and only the documents between them by text.
 */
export function matchDocuments(previous: readonly string[], next: readonly string[]): number[] {
  const matched = new Array<number>(next.length).fill(-1);
  let head = 0;
  while (head < next.length && head < previous.length && next[head] === previous[head]) {
    matched[head] = head;
    head++;
  }
  let tail = 0;
  while (
    tail < next.length - head &&
    tail < previous.length - head &&
    next[next.length - 1 - tail] === previous[previous.length - 1 - tail]
  ) {
    matched[next.length - 1 - tail] = previous.length - 1 - tail;
    tail++;
  }
  // Each previous document is taken once (a copied text is decoded again: its objects are its own).
  const middle = new Map<string, number[]>();
  for (let i = previous.length - tail - 1; i >= head; i--) {
    const same = middle.get(previous[i]!);
    if (same) same.push(i);
    else middle.set(previous[i]!, [i]);
  }
  for (let i = head; i < next.length - tail; i++) matched[i] = middle.get(next[i]!)?.pop() ?? -1;
  return matched;
}

const CHUNK = 4096;

/** How many bytes two buffers share at their start (chunks compared natively, then bytes). */
export function commonPrefix(a: Uint8Array, b: Uint8Array): number {
  const most = Math.min(a.length, b.length);
  let at = 0;
  while (at + CHUNK <= most && Buffer.compare(a.subarray(at, at + CHUNK), b.subarray(at, at + CHUNK)) === 0)
    at += CHUNK;
  while (at < most && a[at] === b[at]) at++;
  return at;
}

/** How many bytes two buffers share at their end, at most `most`. */
export function commonSuffix(a: Uint8Array, b: Uint8Array, most: number): number {
  let n = 0;
  while (
    n + CHUNK <= most &&
    Buffer.compare(
      a.subarray(a.length - n - CHUNK, a.length - n),
      b.subarray(b.length - n - CHUNK, b.length - n),
    ) === 0
  )
    n += CHUNK;
  while (n < most && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

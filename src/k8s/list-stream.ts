const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Depth of the top-level object's members, and of the elements of its `items` array. */
const TOP = 1;
const ITEM = 2;

/**
 * Splits the JSON text of a Kubernetes list (`{"kind":…,"metadata":{…},"items":[{…},{…}]}`) as it
 * arrives, chunk by chunk: each element of the top-level `items` array is handed to `onItem` as soon as
 * its closing brace arrives, as its own JSON text, and is not kept; everything else (kind, apiVersion,
 * metadata with the list's resourceVersion) is kept and returned by `end()` with `items` empty. So a
 * list of thousands of objects never exists at once as one text or one parsed tree: at most one item
 * does. Only the structure is scanned (strings, escapes, nesting); the JSON itself is checked by
 * JSON.parse, per item and for the rest. Structural characters are ASCII, so a split never falls inside
 * a multi-byte UTF-8 character.
 */
export class ListSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The text of the string being read at the top level (keys), and of the last one read there. */
  private topString: number[] | undefined;
  private lastTopString = '';
  /** The last structural character outside strings: `:` before `[` means a member's value. */
  private lastToken = 0;
  private inItems = false;
  /** The current item's bytes seen in earlier chunks. */
  private itemParts: Buffer[] = [];
  private itemStart = -1;
  private readonly envelope: Buffer[] = [];

  constructor(private readonly onItem: (json: string) => void) {}

  write(chunk: Buffer): void {
    let keepFrom = this.itemStart >= 0 || this.inItems ? -1 : 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.topString) {
            this.lastTopString = String.fromCharCode(...this.topString);
            this.topString = undefined;
          }
        }
        if (this.topString && this.topString.length < 16) this.topString.push(c);
        continue;
      }
      switch (c) {
        case QUOTE:
          this.inString = true;
          if (this.depth === TOP) this.topString = [];
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET:
          if (this.inItems && this.depth === ITEM && c === OPEN_BRACE) {
            this.itemStart = i;
          } else if (
            c === OPEN_BRACKET &&
            this.depth === TOP &&
            this.lastToken === COLON &&
            this.lastTopString === 'items'
          ) {
            // The envelope keeps `"items":[`, then `]` below, and nothing in between.
            this.envelope.push(chunk.subarray(keepFrom, i + 1));
            keepFrom = -1;
            this.inItems = true;
          }
          this.depth++;
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          this.depth--;
          if (this.inItems && this.depth === ITEM && c === CLOSE_BRACE && this.itemStart >= 0) {
            this.emitItem(chunk, i + 1);
          } else if (this.inItems && this.depth === TOP) {
            this.inItems = false;
            keepFrom = i;
          }
          break;
      }
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) this.lastToken = c;
    }
    if (this.itemStart >= 0) {
      this.itemParts.push(chunk.subarray(this.itemStart));
      this.itemStart = 0;
    }
    if (keepFrom >= 0) this.envelope.push(chunk.subarray(keepFrom));
  }

  /** Everything but the items, parsed (`items` is `[]`); throws when the text was not one JSON object. */
  end(): Record<string, unknown> {
    if (this.depth !== 0 || this.inString || this.itemParts.length > 0)
      throw new SyntaxError('list response ended inside a JSON value');
    const value: unknown = JSON.parse(Buffer.concat(this.envelope).toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new SyntaxError('list response is not a JSON object');
    return value as Record<string, unknown>;
  }

  private emitItem(chunk: Buffer, end: number): void {
    const piece = chunk.subarray(this.itemParts.length > 0 ? 0 : this.itemStart, end);
    const text =
      this.itemParts.length > 0
        ? Buffer.concat([...this.itemParts, piece]).toString('utf8')
        : piece.toString('utf8');
    this.itemParts = [];
    this.itemStart = -1;
    this.onItem(text);
  }
}

import { type Document, isMap, isScalar, type LineCounter, visit } from 'yaml';

/**
 * Duplicate mapping keys of one YAML document, found in one pass (a Set per mapping). The yaml library's
 * own check (`uniqueKeys: true`) compares every key with every other and takes minutes on a few MB of
 * keys, so the parser runs with `uniqueKeys: false` and this reports what it would have.
 */
export function duplicateKeys(
  doc: Document.Parsed,
  lines: LineCounter,
): Array<{ key: string; line: number; col: number }> {
  const out: Array<{ key: string; line: number; col: number }> = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = pair.key;
        // `<<` merge keys may repeat; complex keys (maps as keys) do not occur in Kubernetes objects.
        const text = isScalar(key) ? String(key.value) : isMap(key) ? undefined : String(key);
        if (text === undefined || text === '<<') continue;
        if (seen.has(text)) {
          const offset = isScalar(key) ? (key.range?.[0] ?? 0) : 0;
          const pos = lines.linePos(offset);
          out.push({ key: text, line: pos.line, col: pos.col });
        }
        seen.add(text);
      }
    },
  });
  return out;
}

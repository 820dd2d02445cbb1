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
  return text.split(/^(?=---(?:[ \t\r\n]|$))/m).filter((piece) => piece.length > 0);
}

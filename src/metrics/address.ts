/** Parses "ADDR:PORT" / "[v6]:PORT" / ":PORT" (loopback). Throws naming the flag value when malformed. */
export function parseHostPort(text: string, defaultHost = '127.0.0.1'): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new Error(`"${text}": expected ADDR:PORT, [IPv6]:PORT or :PORT`);
  }
  return { host: m[1] ?? (m[2] || defaultHost), port };
}

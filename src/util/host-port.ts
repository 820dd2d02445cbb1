/**
 * Splits "HOST:PORT", "[IPv6]:PORT", ":PORT" or a bare "HOST" into its text parts; undefined when the
 * shape is wrong. Callers apply their own defaults and checks (listen flags, gossip seeds).
 */
export function splitHostPort(text: string): { host: string; port: string | undefined } | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:[\]]*)(?::(\d{1,5}))?$/.exec(text);
  return m ? { host: m[1] ?? '', port: m[2] } : undefined;
}

/** A listen address flag: "ADDR:PORT" / "[v6]:PORT" / ":PORT" (→ defaultHost). The port is required. */
export function parseHostPort(text: string, defaultHost = '127.0.0.1'): { host: string; port: number } {
  const parts = splitHostPort(text.trim());
  const port = parts?.port === undefined ? NaN : Number(parts.port);
  if (!parts || !(port >= 0 && port <= 65535)) {
    throw new Error(`"${text}": expected ADDR:PORT, [IPv6]:PORT or :PORT`);
  }
  return { host: parts.host || defaultHost, port };
}

import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseHostPort } from './address.js';

// Not `import ... from 'node:http'`: see the no-restricted-syntax rule in eslint.config.js.
const { createServer: createHttpServer } = process.getBuiltinModule('node:http');

/** Where `--metrics` binds when only a port or nothing is given: loopback, never all interfaces. */
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:7473';

export interface MetricsServerOptions {
  /** "ADDR:PORT" (`--metrics`); ":PORT" binds loopback. */
  address?: string;
  /** PEM files: serve HTTPS instead of HTTP. */
  tls?: { certFile: string; keyFile: string };
  /** Answers `/readyz`: 200 when ready, else 503 with the reason (Kubernetes readiness probe). */
  readiness?: () => Readiness;
}

export interface Readiness {
  ready: boolean;
  /** What is missing, for the probe's log: e.g. "the XDP program is not attached". */
  detail: string;
}

export interface MetricsEndpoint {
  render(): Promise<string>;
  readonly contentType: string;
}

export interface RunningMetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics`, `/healthz` (the process serves) and `/readyz` (the owner's readiness); any render
 * failure answers 500 and never stops the server.
 */
export async function startMetricsServer(
  endpoint: MetricsEndpoint,
  opts: MetricsServerOptions = {},
): Promise<RunningMetricsServer> {
  const { host, port } = parseHostPort(opts.address ?? DEFAULT_METRICS_ADDRESS);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      endpoint.render().then(
        (body) =>
          res
            .writeHead(200, { 'content-type': endpoint.contentType })
            .end(req.method === 'HEAD' ? undefined : body),
        (error: unknown) =>
          res
            .writeHead(500, { 'content-type': 'text/plain' })
            .end(`metrics: ${error instanceof Error ? error.message : String(error)}\n`),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const { ready, detail } = opts.readiness?.() ?? { ready: true, detail: 'ready' };
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(`${detail}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
    }
  };
  const server: Server = opts.tls
    ? createHttpsServer(
        { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) },
        handler,
      )
    : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new Error(`metrics server cannot listen on ${host}:${port}: ${error.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${shownHost}:${bound}/metrics`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

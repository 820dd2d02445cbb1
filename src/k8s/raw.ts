import { HttpMethod, type KubeConfig, RequestContext, shareConnections } from './client.js';
import { type JsonApi, KubeApiError, type Method } from './connection.js';

export { KubeApiError } from './connection.js';

/**
 * Plain-JSON requests with the KubeConfig's authentication and (shared) connection pool, for the hot
 * paths: client-node's typed calls spend milliseconds per request (de)serializing class instances
 * and going through WHATWG fetch; lists returned here are already plain JSON.
 */
export class RawKubeApi implements JsonApi {
  constructor(private readonly kc: KubeConfig) {
    shareConnections(kc);
  }

  async request<T>(
    method: Method,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error('kubeconfig has no current cluster');
    const url = new URL(path, server);
    const ctx = new RequestContext(url.toString(), HttpMethod[method]);
    await this.kc.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = contentType;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const dispatcher = ctx.getDispatcher();
    let status: number;
    let text: string;
    if (dispatcher) {
      const res = await dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        body: payload,
      });
      status = res.statusCode;
      text = await res.body.text();
    } else {
      const res = await fetch(url, { method, headers, body: payload });
      status = res.status;
      text = await res.text();
    }
    if (status < 200 || status >= 300) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not a Status object
      }
      throw new KubeApiError(status, status, `${method} ${url.pathname}: HTTP ${status}: ${message}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
}

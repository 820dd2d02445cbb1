/**
 * The speaker's own small Kubernetes client: where the API server is and how to authenticate (in-cluster
 * service account or a kubeconfig file), plain-JSON requests and watch streams over node:https with one
 * keep-alive agent. The speaker needs nothing more; @kubernetes/client-node's KubeConfig imports its whole
 * generated API (about 1,100 modules, some 40 MB of RSS), which the controller keeps using.
 */
import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'yaml';
import { ListSplitter } from './list-stream.js';

// Not `import ... from 'node:http'`: see the no-restricted-syntax rule in eslint.config.js.
const { Agent: PlainAgent, request: httpRequest } = process.getBuiltinModule('node:http');

/** An API error with the HTTP status (`code`, and `statusCode` as client-node's informers read it). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ConnectionSettings {
  /** https://host:port (http:// only for tests). */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTlsVerify?: boolean;
  token?: string;
  /** Read again when older than TOKEN_REREAD_MS: the kubelet rotates projected service account tokens. */
  tokenFile?: string;
  /** The context's namespace, or the service account's. */
  namespace?: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_REREAD_MS = 60_000;

/** In-cluster settings: KUBERNETES_SERVICE_HOST/PORT and the pod's service account token and CA. */
export function inClusterSettings(
  env: NodeJS.ProcessEnv = process.env,
  dir = SERVICE_ACCOUNT_DIR,
): ConnectionSettings {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new Error('not in a cluster (KUBERNETES_SERVICE_HOST/PORT unset): pass --kubeconfig');
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim();
  } catch {
    // optional
  }
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(dir, 'ca.crt')),
    tokenFile: join(dir, 'token'),
    ...(namespace ? { namespace } : {}),
  };
}

type Named<T> = Array<{ name: string } & T>;
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string; namespace?: string } }>;
  clusters?: Named<{ cluster?: Record<string, string | boolean | undefined> }>;
  users?: Named<{ user?: Record<string, unknown> }>;
}

/**
 * Settings of a kubeconfig's current context: server, CA, client certificate or token (inline, or in
 * files relative to the kubeconfig). Exec and auth-provider plugins are not supported (in-cluster or a
 * token is what a speaker uses); they fail here, loudly.
 */
export function kubeconfigSettings(text: string, path = ''): ConnectionSettings {
  const doc = (parse(text) ?? {}) as KubeconfigFile;
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`kubeconfig ${path}: no current context`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (typeof cluster?.server !== 'string') throw new Error(`kubeconfig ${path}: no server for ${ctxName}`);
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined)
    throw new Error(`kubeconfig ${path}: exec and auth-provider users are not supported by the speaker`);
  const base = path ? dirname(path) : process.cwd();
  const file = (p: unknown) => readFileSync(isAbsolute(String(p)) ? String(p) : join(base, String(p)));
  const blob = (data: unknown, p: unknown): Buffer | undefined =>
    typeof data === 'string' ? Buffer.from(data, 'base64') : p !== undefined ? file(p) : undefined;
  const ca = blob(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = blob(user['client-certificate-data'], user['client-certificate']);
  const key = blob(user['client-key-data'], user['client-key']);
  return {
    server: cluster.server,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(cluster['insecure-skip-tls-verify'] === true ? { insecureSkipTlsVerify: true } : {}),
    ...(typeof user.token === 'string' ? { token: user.token } : {}),
    ...(typeof user.tokenFile === 'string'
      ? { tokenFile: isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile) }
      : {}),
    ...(ctx.namespace ? { namespace: ctx.namespace } : {}),
  };
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Plain-JSON API requests (KubeConnection here, RawKubeApi over client-node's KubeConfig for the controller). */
export interface JsonApi {
  request<T>(method: Method, path: string, body?: unknown, contentType?: string): Promise<T>;
}

/** One watch event as the API server streams it. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

export class KubeConnection implements JsonApi {
  private readonly url: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  private token?: { value: string; readAt: number };

  constructor(
    readonly settings: ConnectionSettings,
    private readonly tokenRereadMs = TOKEN_REREAD_MS,
  ) {
    this.url = new URL(settings.server);
    const tls = {
      ...(settings.ca ? { ca: settings.ca } : {}),
      ...(settings.cert ? { cert: settings.cert } : {}),
      ...(settings.key ? { key: settings.key } : {}),
      rejectUnauthorized: settings.insecureSkipTlsVerify !== true,
    };
    this.agent =
      this.url.protocol === 'http:'
        ? new PlainAgent({ keepAlive: true })
        : new HttpsAgent({ keepAlive: true, ...tls });
  }

  /** From --kubeconfig FILE, else in-cluster. */
  static load(kubeconfig?: string): KubeConnection {
    return new KubeConnection(
      kubeconfig ? kubeconfigSettings(readFileSync(kubeconfig, 'utf8'), kubeconfig) : inClusterSettings(),
    );
  }

  private bearer(): string | undefined {
    const { token, tokenFile } = this.settings;
    if (!tokenFile) return token;
    const now = Date.now();
    if (!this.token || now - this.token.readAt >= this.tokenRereadMs)
      this.token = { value: readFileSync(tokenFile, 'utf8').trim(), readAt: now };
    return this.token.value;
  }

  private open(
    method: Method,
    path: string,
    headers: Record<string, string>,
    onResponse: (res: IncomingMessage) => void,
  ): ClientRequest {
    const bearer = this.bearer();
    const options: RequestOptions = {
      protocol: this.url.protocol,
      hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || (this.url.protocol === 'http:' ? 80 : 443),
      path: `${this.url.pathname.replace(/\/$/, '')}${path}`,
      method,
      agent: this.agent,
      headers: {
        accept: 'application/json',
        ...headers,
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
    };
    return this.url.protocol === 'http:'
      ? httpRequest(options, onResponse)
      : httpsRequest(options as Parameters<typeof httpsRequest>[0], onResponse);
  }

  /** A JSON request; a non-2xx answer rejects with KubeApiError (the Status message when there is one). */
  request<T>(method: Method, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = this.open(method, path, payload ? { 'content-type': contentType } : {}, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) return reject(apiError(method, path, status, text));
          try {
            resolve((text === '' ? undefined : JSON.parse(text)) as T);
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Lists a collection, handing each item to `onItem` as it arrives (list-stream.ts): the response is
   * never held whole, as text or as parsed objects. Resolves with the list's metadata; rejects on a
   * non-2xx answer (KubeApiError), a broken connection, bad JSON or an error thrown by `onItem`.
   */
  list(path: string, onItem: (item: Record<string, unknown>) => void): Promise<{ resourceVersion?: string }> {
    return new Promise((resolve, reject) => {
      const req = this.open('GET', path, {}, (res) => {
        if (rejectsAnswer(res, path, reject)) return;
        const splitter = new ListSplitter((json) => onItem(JSON.parse(json) as Record<string, unknown>));
        res.on('data', (chunk: Buffer) => {
          try {
            splitter.write(chunk);
          } catch (error) {
            req.destroy(error instanceof Error ? error : new Error(String(error)));
          }
        });
        res.on('error', reject);
        res.on('end', () => {
          try {
            resolve((splitter.end().metadata ?? {}) as { resourceVersion?: string });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * Streams a watch: `onOpen` once the server accepted it, `onEvent` per line; resolves when the server
   * ends the stream, rejects on a non-2xx answer (KubeApiError) or a broken connection. `signal` aborts.
   */
  watch(
    path: string,
    handlers: { onOpen: () => void; onEvent: (event: WatchEvent) => void },
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return resolve();
      const req = this.open('GET', path, {}, (res) => {
        if (rejectsAnswer(res, path, reject)) return;
        handlers.onOpen();
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        // A connection reset reaches the line reader too (an unhandled 'error' there would crash).
        lines.on('error', (error) => (signal.aborted ? resolve() : reject(error)));
        lines.on('line', (line) => {
          if (line.trim() === '') return;
          try {
            handlers.onEvent(JSON.parse(line) as WatchEvent);
          } catch (error) {
            req.destroy(error instanceof Error ? error : new Error(String(error)));
          }
        });
        res.on('error', (error) => (signal.aborted ? resolve() : reject(error)));
        res.on('close', () =>
          signal.aborted || res.complete ? resolve() : reject(new Error('watch stream broke')),
        );
      });
      const abort = () => req.destroy();
      signal.addEventListener('abort', abort, { once: true });
      req.on('close', () => signal.removeEventListener('abort', abort));
      req.on('error', (error) => (signal.aborted ? resolve() : reject(error)));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** For a streamed GET: whether the answer is not 2xx; if so, `reject` gets its error once it is read. */
function rejectsAnswer(res: IncomingMessage, path: string, reject: (error: Error) => void): boolean {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return false;
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => reject(apiError('GET', path, status, Buffer.concat(chunks).toString('utf8'))));
  return true;
}

function apiError(method: string, path: string, status: number, text: string): KubeApiError {
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    // not a Status object
  }
  return new KubeApiError(status, status, `${method} ${path.split('?')[0]}: HTTP ${status}: ${message}`);
}

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { builtinResourceTypes } from './builtins.js';
import { validateBuiltin } from './builtin-schema.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { fieldsMatch, labelsMatch, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, ObjectStore, type StoredEvent, typeKey } from './store.js';
import {
  clone,
  groupVersion,
  isObject,
  type Json,
  type JsonObject,
  type KubeObject,
  type OpenApiSchema,
  type ResourceType,
} from './types.js';
import { prune, validateAgainstSchema } from './validate.js';

export interface TestApiServerOptions {
  /** Port to listen on (0 = any free port; restart() reuses the chosen one). */
  port?: number;
  /** How often watches that asked for bookmarks get one (real servers: about a minute). */
  bookmarkIntervalMs?: number;
  /** Events kept for watch resumption before older resourceVersions answer 410 Gone. */
  historyLimit?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
}

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * An in-process Kubernetes API server for tests, with the semantics Herald and kubectl rely on:
 * discovery (incl. CRD-defined resources), list/watch with resourceVersions, bookmarks, 410 Gone after
 * compaction, 409 on stale updates, status subresources, label and field selectors, namespaces,
 * create/update/patch (merge, strategic merge, JSON patch, server-side apply)/delete, CRD schema
 * validation and strict field validation of built-in kinds. Plain HTTP on 127.0.0.1.
 */
export class TestApiServer {
  readonly store: ObjectStore;
  readonly requests: RequestRecord[] = [];
  private readonly types: ResourceType[] = builtinResourceTypes();
  private crdTypes = new Map<string, ResourceType[]>();
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<ServerResponse>();
  private port: number;
  private nextClusterIp = 1;
  private readonly bookmarkIntervalMs: number;

  private constructor(opts: TestApiServerOptions) {
    this.store = new ObjectStore(opts.historyLimit);
    this.port = opts.port ?? 0;
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 1000;
    const ns = this.typeFor('', 'v1', 'namespaces')!;
    for (const name of systemNamespaces)
      this.store.create(ns, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
  }

  static async start(opts: TestApiServerOptions = {}): Promise<TestApiServer> {
    const s = new TestApiServer(opts);
    await s.listen();
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  private listen(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        const addr = server.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        resolve();
      });
    });
  }

  /** Stops listening and cuts every connection (watches included); state is kept for restart(). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const w of this.watches) w.destroy();
    this.watches.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Simulates an API server restart: all connections drop, then it listens again on the same port. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.listen();
  }

  /** Drops watch history: watches resuming from an older resourceVersion get 410 Gone and must relist. */
  compact(): void {
    this.store.compact();
  }

  /** Ends every open watch stream (clients resume from their last resourceVersion). */
  closeWatches(): void {
    for (const w of this.watches) w.end();
    this.watches.clear();
  }

  /** A kubeconfig (YAML) pointing at this server, for kubectl and for KubeConfig.loadFromString. */
  kubeconfig(namespace = 'default'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      '  cluster:',
      `    server: ${this.url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: test',
      '  user:',
      '    token: test-token',
      'contexts:',
      '- name: test',
      '  context:',
      '    cluster: test',
      '    user: test',
      `    namespace: ${namespace}`,
      'current-context: test',
      '',
    ].join('\n');
  }

  // ---- typed access for tests -------------------------------------------------------------------

  resourceType(apiVersion: string, kind: string): ResourceType {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const t = this.allTypes().find((x) => x.group === group && x.version === version && x.kind === kind);
    if (!t) throw new Error(`test API server: no resource for ${apiVersion} ${kind}`);
    return t;
  }

  get(apiVersion: string, kind: string, name: string, namespace = ''): KubeObject | undefined {
    const t = this.resourceType(apiVersion, kind);
    const o = this.store.get(t, t.namespaced ? namespace : '', name);
    return o && this.present(t, o);
  }

  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    const t = this.resourceType(apiVersion, kind);
    return this.store.list(t, namespace).map((o) => this.present(t, o));
  }

  /** Creates an object as a client would (validation, defaulting, events), bypassing HTTP. */
  createObject(obj: KubeObject): KubeObject {
    return this.create(this.routeFor(obj), clone(obj), new URLSearchParams()).object;
  }

  /** Merge-patches an object (no resourceVersion precondition unless the patch carries one). */
  patchObject(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
    patch: JsonObject,
    subresource?: 'status',
  ): KubeObject {
    const t = this.resourceType(apiVersion, kind);
    const route: Route = { type: t, namespace: t.namespaced ? namespace : undefined, name, subresource };
    const current = this.store.get(t, t.namespaced ? (namespace ?? '') : '', name);
    if (!current) throw notFound(t, name);
    const obj = mergePatch(current, patch) as KubeObject;
    const patchRv = isObject(patch.metadata) ? patch.metadata.resourceVersion : undefined;
    obj.metadata.resourceVersion =
      typeof patchRv === 'string' ? patchRv : (current.metadata.resourceVersion ?? null);
    return this.update(route, obj, new URLSearchParams()).object;
  }

  deleteObjectNamed(apiVersion: string, kind: string, name: string, namespace = ''): void {
    const t = this.resourceType(apiVersion, kind);
    this.deleteObject(t, t.namespaced ? namespace : '', name);
  }

  private routeFor(obj: KubeObject): Route {
    const t = this.resourceType(obj.apiVersion, obj.kind);
    return { type: t, namespace: t.namespaced ? String(obj.metadata.namespace ?? 'default') : undefined };
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  private allTypes(): ResourceType[] {
    return [...this.types, ...[...this.crdTypes.values()].flat()];
  }

  private typeFor(group: string, version: string, plural: string): ResourceType | undefined {
    return this.allTypes().find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    if (this.requests.length < 20000) this.requests.push({ method, path: u.pathname, query: u.search });
    try {
      const body =
        method === 'GET' || method === 'DELETE' ? await readBody(req).catch(() => '') : await readBody(req);
      this.dispatch(method, u, req, body, res);
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const err =
        e instanceof ApiError
          ? e
          : new ApiError(500, 'InternalError', e instanceof Error ? e.message : String(e));
      sendJson(res, err.code, statusBody(err));
    }
  }

  private dispatch(method: string, u: URL, req: IncomingMessage, body: string, res: ServerResponse): void {
    const segs = u.pathname.split('/').filter((s) => s !== '');
    const p = u.pathname.replace(/\/+$/, '');
    if (p === '/healthz' || p === '/readyz' || p === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (p === '/version')
      return sendJson(res, 200, {
        major: '1',
        minor: '32',
        gitVersion: 'v1.32.0-herald-test',
        platform: 'linux/amd64',
      });
    if (p === '/api')
      return sendJson(res, 200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }],
      });
    if (p === '/apis') return sendJson(res, 200, this.groupList());
    if (p === '/openapi/v3') return sendJson(res, 200, this.openApiRoot());
    if (p.startsWith('/openapi/v3/'))
      return sendJson(res, 200, this.openApiGroupVersion(p.slice('/openapi/v3/'.length)));
    if (p.startsWith('/openapi'))
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) {
      group = '';
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 2) {
      group = segs[1]!;
      if (segs.length === 2) {
        const g = this.groupList().groups.find((x) => x.name === group);
        if (!g) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
        return sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...g });
      }
      version = segs[2]!;
      rest = segs.slice(3);
    } else throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const inGv = this.allTypes().filter((t) => t.group === group && t.version === version);
    if (inGv.length === 0)
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (rest.length === 0) return sendJson(res, 200, resourceList(group, version, inGv));
    const route = this.route(inGv, rest);
    const q = u.searchParams;
    const t = route.type;
    if (route.name === undefined) {
      if (method === 'GET') {
        if (q.get('watch') === 'true' || q.get('watch') === '1') return this.watch(route, q, res);
        return sendJson(res, 200, this.listResponse(route, q));
      }
      if (method === 'POST') {
        if (route.namespace === undefined && t.namespaced)
          throw new ApiError(405, 'MethodNotAllowed', 'namespace required');
        return this.respondWrite(res, 201, this.create(route, parseBody(body, req), q), q);
      }
      if (method === 'DELETE') {
        const sel = selectors(q);
        const gone = this.store
          .list(t, route.namespace)
          .filter((o) => labelsMatch(sel.labels, o) && fieldsMatch(sel.fields, o));
        for (const o of gone)
          this.deleteObject(t, String(o.metadata.namespace ?? ''), String(o.metadata.name));
        return sendJson(res, 200, {
          kind: t.listKind,
          apiVersion: groupVersion(t),
          metadata: {},
          items: gone.map((o) => this.present(t, o)),
        });
      }
      throw new ApiError(405, 'MethodNotAllowed', `method ${method} not allowed on a collection`);
    }
    if (route.subresource !== undefined && (route.subresource !== 'status' || !t.statusSubresource))
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const ns = route.namespace ?? '';
    switch (method) {
      case 'GET': {
        const o = this.store.get(t, ns, route.name);
        if (!o) throw notFound(t, route.name);
        return sendJson(res, 200, this.present(t, o));
      }
      case 'PUT':
        return this.respondWrite(res, 200, this.update(route, parseBody(body, req), q), q);
      case 'PATCH':
        return this.patch(route, body, String(req.headers['content-type'] ?? ''), q, res);
      case 'DELETE': {
        if (q.get('dryRun') === 'All') {
          const o = this.store.get(t, ns, route.name);
          if (!o) throw notFound(t, route.name);
          return sendJson(res, 200, this.present(t, o));
        }
        return sendJson(res, 200, this.present(t, this.deleteObject(t, ns, route.name)));
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', `method ${method} not allowed`);
    }
  }

  private route(inGv: ResourceType[], rest: string[]): Route {
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = inGv.find((x) => x.namespaced && x.plural === rest[2]);
      if (t) {
        if (rest.length > 5)
          throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
        return { type: t, namespace: rest[1]!, name: rest[3], subresource: rest[4] };
      }
    }
    const t = inGv.find((x) => x.plural === rest[0]);
    if (!t || rest.length > 3 || (t.namespaced && rest.length > 1))
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return { type: t, name: rest[1], subresource: rest[2] };
  }

  private groupList(): {
    kind: string;
    apiVersion: string;
    groups: Array<{
      name: string;
      versions: Array<{ groupVersion: string; version: string }>;
      preferredVersion: { groupVersion: string; version: string };
    }>;
  } {
    const groups = new Map<string, string[]>();
    for (const t of this.allTypes()) {
      if (t.group === '') continue;
      const vs = groups.get(t.group) ?? [];
      if (!vs.includes(t.version)) vs.push(t.version);
      groups.set(t.group, vs);
    }
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => {
        const vs = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
        return { name, versions: vs, preferredVersion: vs[0]! };
      }),
    };
  }

  /**
   * OpenAPI v3 discovery: one document per group/version whose PATCH operations declare the
   * `fieldValidation` parameter, which is how kubectl learns to leave validation to the server.
   */
  private openApiRoot(): JsonObject {
    const paths: JsonObject = {};
    for (const t of this.allTypes()) {
      const gv = t.group === '' ? `api/${t.version}` : `apis/${t.group}/${t.version}`;
      const hash = createHash('sha256')
        .update(JSON.stringify(this.openApiGroupVersion(gv)))
        .digest('hex')
        .slice(0, 32);
      paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
    }
    return { paths };
  }

  private openApiGroupVersion(gvPath: string): JsonObject {
    const segs = gvPath.split('/');
    const [group, version] = segs[0] === 'api' ? ['', segs[1]] : [segs[1], segs[2]];
    const types = this.allTypes().filter((t) => t.group === group && t.version === version);
    if (types.length === 0)
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const paths: JsonObject = {};
    for (const t of types) {
      const base = `/${gvPath}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}/{name}`;
      const gvk = { group: t.group, version: t.version, kind: t.kind };
      const params = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
        name,
        in: 'query',
        schema: { type: 'string' },
      }));
      paths[base] = {
        patch: {
          operationId: `patch${t.kind}`,
          'x-kubernetes-group-version-kind': gvk,
          'x-kubernetes-action': 'patch',
          parameters: params,
          responses: {},
        },
      };
    }
    return {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: 'v1.32.0' },
      paths,
      components: { schemas: {} },
    };
  }

  /** The object as seen through one version of its resource (CR versions share storage). */
  private present(t: ResourceType, o: KubeObject): KubeObject {
    const c = clone(o);
    c.apiVersion = groupVersion(t);
    return c;
  }

  private listResponse(route: Route, q: URLSearchParams): JsonObject {
    const t = route.type;
    const rv = q.get('resourceVersion');
    if (rv && q.get('resourceVersionMatch') === 'Exact' && Number(rv) < this.store.oldestWatchableRv)
      throw new ApiError(410, 'Expired', `too old resource version: ${rv} (${this.store.oldestWatchableRv})`);
    const sel = selectors(q);
    const items = this.store
      .list(t, route.namespace)
      .filter((o) => labelsMatch(sel.labels, o) && fieldsMatch(sel.fields, o))
      .map((o) => this.present(t, o));
    return {
      kind: t.listKind,
      apiVersion: groupVersion(t),
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items,
    };
  }

  private watch(route: Route, q: URLSearchParams, res: ServerResponse): void {
    const t = route.type;
    const sel = selectors(q);
    const rvParam = q.get('resourceVersion') ?? '';
    const matches = (o: KubeObject | undefined): boolean =>
      o !== undefined &&
      (route.namespace === undefined || o.metadata.namespace === route.namespace) &&
      labelsMatch(sel.labels, o) &&
      fieldsMatch(sel.fields, o);
    res.writeHead(200, {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
      'cache-control': 'no-cache, private',
    });
    res.flushHeaders();
    const send = (type: string, object: JsonObject): void => {
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    if (rvParam !== '' && rvParam !== '0' && Number(rvParam) < this.store.oldestWatchableRv) {
      send('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${rvParam} (${this.store.oldestWatchableRv})`,
        reason: 'Expired',
        code: 410,
      });
      res.end();
      return;
    }
    const emit = (e: StoredEvent): void => {
      if (e.typeKey !== typeKey(t)) return;
      const now = matches(e.object);
      const before = e.type === 'MODIFIED' ? matches(e.previous) : now;
      if (e.type === 'MODIFIED' && now && !before) send('ADDED', this.present(t, e.object));
      else if (e.type === 'MODIFIED' && !now && before) send('DELETED', this.present(t, e.object));
      else if (now) send(e.type, this.present(t, e.object));
    };
    if (rvParam === '' || rvParam === '0') {
      for (const o of this.store.list(t, route.namespace)) if (matches(o)) send('ADDED', this.present(t, o));
    } else for (const e of this.store.eventsSince(Number(rvParam))) emit(e);
    const unsubscribe = this.store.onEvent(emit);
    const timers: NodeJS.Timeout[] = [];
    if (q.get('allowWatchBookmarks') === 'true')
      timers.push(
        setInterval(
          () =>
            send('BOOKMARK', {
              kind: t.kind,
              apiVersion: groupVersion(t),
              metadata: { resourceVersion: String(this.store.resourceVersion) },
            }),
          this.bookmarkIntervalMs,
        ),
      );
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    if (timeout > 0) timers.push(setTimeout(() => res.end(), timeout * 1000));
    this.watches.add(res);
    res.on('close', () => {
      unsubscribe();
      for (const tm of timers) clearTimeout(tm);
      this.watches.delete(res);
    });
  }

  private respondWrite(
    res: ServerResponse,
    code: number,
    result: { object: KubeObject; warnings: string[] },
    _q: URLSearchParams,
  ): void {
    if (result.warnings.length > 0)
      res.setHeader(
        'warning',
        result.warnings.map((w) => `299 - ${JSON.stringify(w)}`),
      );
    sendJson(res, code, result.object);
  }

  // ---- writes -------------------------------------------------------------------------------------

  private prepare(route: Route, obj: KubeObject, q: URLSearchParams): string[] {
    const t = route.type;
    if (obj.kind !== undefined && obj.kind !== t.kind)
      throw new ApiError(
        400,
        'BadRequest',
        `the kind of the provided object (${String(obj.kind)}) does not match the resource (${t.kind})`,
      );
    if (!isObject(obj.metadata)) obj.metadata = {};
    if (t.namespaced) {
      if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== route.namespace)
        throw new ApiError(
          400,
          'BadRequest',
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      obj.metadata.namespace = route.namespace ?? null;
    } else delete obj.metadata.namespace;
    const warnings: string[] = [];
    const mode = q.get('fieldValidation') ?? 'Warn';
    const problems: { errors: string[]; unknownFields: string[] } = t.schema
      ? validateAgainstSchema(obj, t.schema)
      : validateBuiltin(t, obj);
    if (problems.errors.length > 0)
      throw invalid(t, String(obj.metadata.name ?? obj.metadata.generateName ?? ''), problems.errors);
    if (problems.unknownFields.length > 0) {
      if (mode === 'Strict')
        throw new ApiError(
          400,
          'BadRequest',
          `strict decoding error: ${problems.unknownFields.map((f) => `unknown field "${f}"`).join(', ')}`,
        );
      if (mode === 'Warn') warnings.push(...problems.unknownFields.map((f) => `unknown field "${f}"`));
      prune(obj, problems.unknownFields);
    }
    if (t.kind === 'CustomResourceDefinition' && t.group === 'apiextensions.k8s.io') checkCrd(obj);
    return warnings;
  }

  private create(
    route: Route,
    obj: KubeObject,
    q: URLSearchParams,
  ): { object: KubeObject; warnings: string[] } {
    const t = route.type;
    const warnings = this.prepare(route, obj, q);
    if (!obj.metadata.name) {
      if (typeof obj.metadata.generateName === 'string')
        obj.metadata.name = `${obj.metadata.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
      else throw invalid(t, '', ['metadata.name: Required value: name or generateName is required']);
    }
    if (t.namespaced) this.requireNamespace(String(obj.metadata.namespace));
    if (t.statusSubresource && !(t.group === '' && t.kind === 'Namespace')) delete obj.status;
    this.defaults(t, obj);
    if (q.get('dryRun') === 'All') return { object: this.present(t, obj), warnings };
    const created = this.store.create(t, obj);
    if (t.kind === 'CustomResourceDefinition' && t.group === 'apiextensions.k8s.io')
      this.registerCrd(created);
    return {
      object: this.present(
        t,
        this.store.get(
          t,
          t.namespaced ? String(created.metadata.namespace) : '',
          String(created.metadata.name),
        ) ?? created,
      ),
      warnings,
    };
  }

  private update(
    route: Route,
    obj: KubeObject,
    q: URLSearchParams,
  ): { object: KubeObject; warnings: string[] } {
    const t = route.type;
    const ns = route.namespace ?? '';
    const name = route.name!;
    if (isObject(obj.metadata) && obj.metadata.name !== undefined && obj.metadata.name !== name)
      throw new ApiError(
        400,
        'BadRequest',
        `the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`,
      );
    const current = this.store.get(t, ns, name);
    if (!current) throw notFound(t, name);
    const warnings = this.prepare(route, obj, q);
    const wantRv = obj.metadata.resourceVersion;
    if (typeof wantRv === 'string' && wantRv !== '' && wantRv !== current.metadata.resourceVersion)
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${t.plural}${t.group ? `.${t.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: t.group, kind: t.plural },
      );
    let next: KubeObject;
    if (route.subresource === 'status') {
      next = clone(current);
      if (obj.status === undefined) delete next.status;
      else next.status = clone(obj.status);
    } else {
      next = obj;
      for (const k of ['uid', 'creationTimestamp', 'generation', 'namespace'])
        if (current.metadata[k] !== undefined) next.metadata[k] = current.metadata[k]!;
      if (t.statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = clone(current.status);
      }
      this.defaults(t, next, current);
    }
    next.apiVersion = current.apiVersion;
    next.kind = current.kind;
    const specChanged =
      route.subresource !== 'status' && JSON.stringify(specOf(next)) !== JSON.stringify(specOf(current));
    if (q.get('dryRun') === 'All') return { object: this.present(t, next), warnings };
    const stored = this.store.replace(t, next, specChanged);
    if (t.kind === 'CustomResourceDefinition' && t.group === 'apiextensions.k8s.io') this.registerCrd(stored);
    return { object: this.present(t, this.store.get(t, ns, name) ?? stored), warnings };
  }

  private patch(
    route: Route,
    body: string,
    contentType: string,
    q: URLSearchParams,
    res: ServerResponse,
  ): void {
    const t = route.type;
    const ns = route.namespace ?? '';
    const name = route.name!;
    const ct = contentType.split(';')[0]!.trim();
    const current = this.store.get(t, ns, name);
    if (ct === 'application/apply-patch+yaml') {
      const applied = parseYaml(body) as Json;
      if (!isObject(applied)) throw new ApiError(400, 'BadRequest', 'apply patch must be an object');
      if (!current) {
        const obj = applied as KubeObject;
        if (!isObject(obj.metadata)) obj.metadata = {};
        obj.metadata.name = name;
        return this.respondWrite(res, 201, this.create({ ...route, name: undefined }, obj, q), q);
      }
      const merged = strategicMergePatch(current, applied) as KubeObject;
      merged.metadata.resourceVersion = current.metadata.resourceVersion ?? null;
      return this.respondWrite(res, 200, this.update(route, merged, q), q);
    }
    if (!current) throw notFound(t, name);
    let patchDoc: Json;
    try {
      patchDoc = JSON.parse(body) as Json;
    } catch {
      throw new ApiError(400, 'BadRequest', 'patch body is not valid JSON');
    }
    let patched: Json;
    try {
      if (ct === 'application/merge-patch+json') patched = mergePatch(current, patchDoc);
      else if (ct === 'application/strategic-merge-patch+json') {
        if (t.schema)
          throw new ApiError(
            415,
            'UnsupportedMediaType',
            'strategic merge patch is not supported for custom resources; use a merge patch',
          );
        patched = strategicMergePatch(current, patchDoc);
      } else if (ct === 'application/json-patch+json') patched = jsonPatch(current, patchDoc);
      else
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
        );
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError(422, 'Invalid', e instanceof Error ? e.message : String(e));
    }
    if (!isObject(patched)) throw new ApiError(422, 'Invalid', 'patch result is not an object');
    const obj = patched as KubeObject;
    // A resourceVersion inside the patch is a precondition; without one the patch applies to the latest.
    const patchRv =
      isObject(patchDoc) && isObject(patchDoc.metadata) ? patchDoc.metadata.resourceVersion : undefined;
    obj.metadata.resourceVersion =
      typeof patchRv === 'string' ? patchRv : (current.metadata.resourceVersion ?? null);
    this.respondWrite(res, 200, this.update(route, obj, q), q);
  }

  private deleteObject(t: ResourceType, ns: string, name: string): KubeObject {
    const gone = this.store.delete(t, ns, name);
    if (t.group === '' && t.kind === 'Namespace') {
      for (const other of this.allTypes()) {
        if (!other.namespaced || other.version !== this.preferredVersion(other)) continue;
        for (const o of this.store.list(other, name)) this.store.delete(other, name, String(o.metadata.name));
      }
    }
    if (t.kind === 'CustomResourceDefinition' && t.group === 'apiextensions.k8s.io') {
      const types = this.crdTypes.get(name) ?? [];
      const first = types[0];
      if (first)
        for (const o of this.store.list(first))
          this.store.delete(first, String(o.metadata.namespace ?? ''), String(o.metadata.name));
      this.crdTypes.delete(name);
    }
    return gone;
  }

  private preferredVersion(t: ResourceType): string {
    return this.allTypes().find((x) => x.group === t.group && x.plural === t.plural)!.version;
  }

  private requireNamespace(ns: string): void {
    const nsType = this.typeFor('', 'v1', 'namespaces')!;
    if (!this.store.get(nsType, '', ns))
      throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
  }

  /** Server-side defaulting of the few fields clients read back. */
  private defaults(t: ResourceType, obj: KubeObject, current?: KubeObject): void {
    if (t.group === '' && t.kind === 'Service') {
      const spec = isObject(obj.spec) ? obj.spec : (obj.spec = {});
      spec.type ??= 'ClusterIP';
      const cur = current && isObject(current.spec) ? current.spec : undefined;
      if (spec.type !== 'ExternalName' && !spec.clusterIP) {
        const ip =
          cur?.clusterIP ??
          `10.96.${Math.floor(this.nextClusterIp / 250)}.${(this.nextClusterIp++ % 250) + 1}`;
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      }
      if (!current) obj.status = { loadBalancer: {} };
    }
    if (t.group === '' && t.kind === 'Namespace' && !current) obj.status = { phase: 'Active' };
    if (t.group === 'apiextensions.k8s.io' && t.kind === 'CustomResourceDefinition') {
      const spec = obj.spec as JsonObject;
      obj.status = {
        acceptedNames: clone(spec.names ?? {}),
        storedVersions: (spec.versions as JsonObject[]).filter((v) => v.storage).map((v) => v.name ?? ''),
        conditions: [
          {
            type: 'NamesAccepted',
            status: 'True',
            reason: 'NoConflicts',
            message: 'no conflicts found',
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          },
          {
            type: 'Established',
            status: 'True',
            reason: 'InitialNamesAccepted',
            message: 'the initial names have been accepted',
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          },
        ],
      };
    }
  }

  private registerCrd(crd: KubeObject): void {
    const spec = crd.spec as JsonObject;
    const names = spec.names as JsonObject;
    const kind = String(names.kind);
    const types: ResourceType[] = (spec.versions as JsonObject[])
      .filter((v) => v.served !== false)
      .map((v) => {
        const schemaHolder = isObject(v.schema) ? v.schema : {};
        const subs = isObject(v.subresources) ? v.subresources : {};
        return {
          group: String(spec.group),
          version: String(v.name),
          kind,
          listKind: String(names.listKind ?? `${kind}List`),
          plural: String(names.plural),
          singular: String(names.singular ?? kind.toLowerCase()),
          namespaced: spec.scope === 'Namespaced',
          shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : [],
          categories: Array.isArray(names.categories) ? names.categories.map(String) : [],
          statusSubresource: isObject(subs.status),
          schema: (schemaHolder.openAPIV3Schema as OpenApiSchema | undefined) ?? {
            type: 'object',
            'x-kubernetes-preserve-unknown-fields': true,
          },
        };
      });
    // Storage version first, so it is the preferred version in discovery.
    types.sort((a, b) => Number(isStorage(spec, b.version)) - Number(isStorage(spec, a.version)));
    this.crdTypes.set(String(crd.metadata.name), types);
  }
}

function isStorage(spec: JsonObject, version: string): boolean {
  return (spec.versions as JsonObject[]).some((v) => v.name === version && v.storage === true);
}

function checkCrd(obj: KubeObject): void {
  const errors: string[] = [];
  const spec = isObject(obj.spec) ? obj.spec : {};
  const names = isObject(spec.names) ? spec.names : {};
  if (typeof spec.group !== 'string' || spec.group === '') errors.push('spec.group: Required value');
  if (typeof names.plural !== 'string') errors.push('spec.names.plural: Required value');
  if (typeof names.kind !== 'string') errors.push('spec.names.kind: Required value');
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster')
    errors.push(
      `spec.scope: Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"`,
    );
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObject) : [];
  if (versions.length === 0) errors.push('spec.versions: Invalid value: must have at least one version');
  if (versions.filter((v) => v.storage === true).length !== 1)
    errors.push('spec.versions: Invalid value: must have exactly one version marked as storage version');
  for (const [i, v] of versions.entries()) {
    const s = isObject(v.schema) ? v.schema.openAPIV3Schema : undefined;
    if (!isObject(s))
      errors.push(`spec.versions[${i}].schema.openAPIV3Schema: Required value: schemas are required`);
    else if (s.type !== 'object')
      errors.push(
        `spec.versions[${i}].schema.openAPIV3Schema.type: Required value: must be object at the root`,
      );
  }
  if (`${String(names.plural)}.${String(spec.group)}` !== obj.metadata.name)
    errors.push(
      `metadata.name: Invalid value: ${JSON.stringify(obj.metadata.name)}: must be spec.names.plural+"."+spec.group`,
    );
  if (errors.length > 0)
    throw invalid(
      { kind: 'CustomResourceDefinition', group: 'apiextensions.k8s.io' },
      String(obj.metadata.name ?? ''),
      errors,
    );
}

function specOf(o: KubeObject): JsonObject {
  const c: JsonObject = clone(o);
  delete c.metadata;
  delete c.status;
  return c;
}

function selectors(q: URLSearchParams): {
  labels: ReturnType<typeof parseLabelSelector>;
  fields: ReturnType<typeof parseFieldSelector>;
} {
  try {
    return {
      labels: parseLabelSelector(q.get('labelSelector') ?? ''),
      fields: parseFieldSelector(q.get('fieldSelector') ?? ''),
    };
  } catch (e) {
    throw new ApiError(400, 'BadRequest', e instanceof Error ? e.message : String(e));
  }
}

function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${t.plural}${t.group ? `.${t.group}` : ''} "${name}" not found`, {
    name,
    group: t.group,
    kind: t.plural,
  });
}

function invalid(t: Pick<ResourceType, 'kind' | 'group'>, name: string, errors: string[]): ApiError {
  return new ApiError(
    422,
    'Invalid',
    `${t.kind}${t.group ? `.${t.group}` : ''} "${name}" is invalid: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`,
    {
      name,
      group: t.group,
      kind: t.kind,
      causes: errors.map((message) => ({
        reason: 'FieldValueInvalid',
        message,
        field: message.split(':')[0],
      })),
    },
  );
}

function statusBody(e: ApiError): JsonObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
    reason: e.reason,
    code: e.code,
    ...(e.details ? { details: e.details as JsonObject } : {}),
  };
}

function resourceList(group: string, version: string, types: ResourceType[]): JsonObject {
  const resources: JsonObject[] = [];
  for (const t of types) {
    resources.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories?.length ? { categories: t.categories } : {}),
    });
    if (t.statusSubresource)
      resources.push({
        name: `${t.plural}/status`,
        singularName: '',
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ['get', 'patch', 'update'],
      });
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(body: string, req: IncomingMessage): KubeObject {
  const ct = String(req.headers['content-type'] ?? 'application/json');
  if (ct.includes('protobuf') || ct.includes('cbor'))
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
    );
  let v: Json;
  try {
    v = (ct.includes('yaml') ? parseYaml(body) : JSON.parse(body)) as Json;
  } catch (e) {
    throw new ApiError(
      400,
      'BadRequest',
      `request body is not valid ${ct.includes('yaml') ? 'YAML' : 'JSON'}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (!isObject(v)) throw new ApiError(400, 'BadRequest', 'request body must be an object');
  return v as KubeObject;
}

function sendJson(res: ServerResponse, code: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

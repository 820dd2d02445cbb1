import type {
  ConnectionInjector,
  sendUnaryData,
  Server,
  ServerCredentials,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import type * as GrpcLib from '@grpc/grpc-js';
import { chmodSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { parseHostPort } from '../util/host-port.js';
import type { Message } from './service.js';
import { DEFAULT_API_SOCKET, STATUS_EVENT_KINDS, type StatusEventKind, type StatusSource } from './source.js';

type Grpc = typeof GrpcLib;

export interface StatusTls {
  certFile: string;
  keyFile: string;
  /** CA bundle; with it, clients must present a certificate signed by it (mTLS). */
  clientCaFile?: string;
}

export interface StatusServerOptions {
  /** Unix socket path (default /run/herald/speaker.sock); its directory is created. */
  socketPath?: string;
  /** Permission bits of the socket, set explicitly rather than from the umask (default 0o660). */
  socketMode?: number;
  /** Optional TCP listener; TLS is required unless the address is loopback. */
  tcp?: { address: string; tls?: StatusTls };
}

export interface RunningStatusServer {
  socketPath: string;
  tcpPort?: number;
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function unary(grpc: Grpc, produce: () => Promise<Message>) {
  return (_call: ServerUnaryCall<Message, Message>, callback: sendUnaryData<Message>) => {
    produce().then(
      (value) => callback(null, value),
      (error: unknown) =>
        callback({
          code: grpc.status.INTERNAL,
          details: error instanceof Error ? error.message : String(error),
        }),
    );
  };
}

export const DEFAULT_API_SOCKET_MODE = 0o660;

/** Whether something accepts connections on the unix socket at `path`. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Takes the socket path over from a dead process (a stale socket file), but never from a live one: a
 * second speaker on the host must fail instead of stealing the first one's status API.
 */
async function claimSocketPath(path: string): Promise<void> {
  try {
    if (!statSync(path).isSocket())
      throw new Error(`status API socket path ${path} exists and is not a socket`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (await socketInUse(path)) {
    throw new Error(
      `status API socket ${path} is served by a running process (another speaker on this host?); stop it or use another --api-socket`,
    );
  }
  removeStaleSocket(path);
}

function removeStaleSocket(path: string): void {
  try {
    if (statSync(path).isSocket()) unlinkSync(path);
    else throw new Error(`status API socket path ${path} exists and is not a socket`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function bind(server: Server, address: string, creds: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, creds, (error, port) =>
      error ? reject(new Error(`status API cannot listen on ${address}: ${error.message}`)) : resolve(port),
    ),
  );
}

function listen(listener: NetServer, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    listener.once('error', (error) =>
      reject(new Error(`status API cannot listen on unix:${socketPath}: ${error.message}`)),
    );
    listener.listen(socketPath, () => resolve());
  });
}

/** The gRPC server with herald.v1.Speaker for `source` (gRPC and node:http2 are loaded here). */
async function grpcServer(source: StatusSource): Promise<{ grpc: Grpc; server: Server }> {
  const grpc = await import('@grpc/grpc-js');
  const { speakerService } = await import('./service.js');
  const server = new grpc.Server();
  server.addService(speakerService, {
    ListVips: unary(grpc, async () => {
      const [vips, traffic] = await Promise.all([source.vips(), source.traffic?.()]);
      return { node: source.node(), vips, ...traffic };
    }),
    ListMembers: unary(grpc, async () => ({ node: source.node(), members: await source.members() })),
    ListBgpSessions: unary(grpc, async () => ({
      node: source.node(),
      sessions: await source.bgpSessions(),
    })),
    Watch: (call: ServerWritableStream<Message, Message>) => {
      const requested = Array.isArray(call.request.kinds) ? (call.request.kinds as string[]) : [];
      const unknown = requested.filter((k) => !STATUS_EVENT_KINDS.includes(k as StatusEventKind));
      if (unknown.length > 0) {
        call.emit('error', {
          code: grpc.status.INVALID_ARGUMENT,
          details: `unknown event kinds: ${unknown.join(', ')}`,
        });
        return;
      }
      const kinds = new Set(requested.length > 0 ? requested : STATUS_EVENT_KINDS);
      const unsubscribe = source.events.subscribe((event) => {
        if (kinds.has(event.kind)) call.write({ ...event });
      });
      // Headers go out once subscribed, so a client knows no later event can be missed (client `ready`).
      call.sendMetadata(new grpc.Metadata());
      const end = () => unsubscribe();
      call.on('cancelled', end);
      call.on('close', end);
      call.on('error', end);
    },
  });
  return { grpc, server };
}

/**
 * The unix socket is a plain listener; gRPC (grpc-js, node:http2: ~2 MB of heap and 30-40 ms of start-up)
 * is loaded at its first connection, which it then serves with every later one. A speaker nobody asks
 * never loads it.
 */
class LazyGrpc {
  private loading: Promise<{ grpc: Grpc; server: Server }> | undefined;
  private injector: Promise<ConnectionInjector> | undefined;
  private closed = false;

  constructor(private readonly source: StatusSource) {}

  server(): Promise<{ grpc: Grpc; server: Server }> {
    return (this.loading ??= grpcServer(this.source));
  }

  serve(socket: Socket): void {
    this.injector ??= this.server().then(({ grpc, server }) =>
      server.createConnectionInjector(grpc.ServerCredentials.createInsecure()),
    );
    this.injector.then(
      (injector) => {
        if (this.closed) socket.destroy();
        else injector.injectConnection(socket);
      },
      () => socket.destroy(),
    );
  }

  /** Stops serving: open calls get up to 2 s (as tryShutdown, then forceShutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.loading) return;
    const { server } = await this.loading;
    await new Promise<void>((resolve) => {
      server.tryShutdown(() => resolve());
      setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2000).unref();
    });
  }
}

/** Serves herald.v1.Speaker for `source` on a unix socket (and optionally TCP). */
export async function startStatusServer(
  source: StatusSource,
  opts: StatusServerOptions = {},
): Promise<RunningStatusServer> {
  const socketPath = opts.socketPath ?? DEFAULT_API_SOCKET;
  const socketMode = opts.socketMode ?? DEFAULT_API_SOCKET_MODE;
  if (!Number.isInteger(socketMode) || socketMode < 0 || socketMode > 0o777)
    throw new Error(`status API socket mode must be octal permission bits (e.g. 0660), got ${socketMode}`);
  mkdirSync(dirname(socketPath), { recursive: true });
  await claimSocketPath(socketPath);
  const grpc = new LazyGrpc(source);
  const sockets = new Set<Socket>();
  const listener = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    grpc.serve(socket);
  });
  const close = async () => {
    // The listener's close completes once its connections are gone: gRPC ends them (open Watch streams
    // included, forced after 2 s); whatever is left then is destroyed.
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    await grpc.close();
    for (const socket of sockets) socket.destroy();
    await closed;
    removeStaleSocket(socketPath);
  };
  try {
    await listen(listener, socketPath);
    chmodSync(socketPath, socketMode);
    let tcpPort: number | undefined;
    if (opts.tcp) {
      const { host, port } = parseHostPort(opts.tcp.address);
      const tls = opts.tcp.tls;
      if (!tls && !isLoopback(host)) {
        throw new Error(
          `status API on ${opts.tcp.address}: TCP outside loopback requires TLS (cert and key)`,
        );
      }
      const { grpc: lib, server } = await grpc.server();
      const creds = tls
        ? lib.ServerCredentials.createSsl(
            tls.clientCaFile ? readFileSync(tls.clientCaFile) : null,
            [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
            tls.clientCaFile !== undefined,
          )
        : lib.ServerCredentials.createInsecure();
      tcpPort = await bind(server, host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`, creds);
    }
    return { socketPath, tcpPort, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

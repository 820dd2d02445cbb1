/**
 * The BGP speaker: one session per configured peer, an optional listener for passive/inbound
 * connections, and the routes to advertise per peer. This is the face the Herald speaker uses.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { BgpRoute } from './advertisements.js';
import type { PeerConfig } from './peer-config.js';
import { type BfdState, BgpSession, type Dialer, type SessionInfo } from './session.js';
import { BfdEndpoint, BfdSession } from './bfd/session.js';
import { listenTcp, socketsNative } from './native-sockets.js';
import { defaultDial } from './transport.js';

export interface BgpSpeakerOptions {
  peers: PeerConfig[];
  /** Accept inbound BGP connections here (port 179 by default). Omit for active-only sessions. */
  listen?: { host?: string; port?: number };
  /** Announce the graceful-restart R bit (set by a speaker that restarted while peers kept its routes). */
  restarting?: boolean;
  /** Override how outbound connections are opened (tests, MD5/TTL through the native addon). */
  dial?: Dialer;
  log?: (level: 'info' | 'warn' | 'debug', msg: string) => void;
  /** BFD UDP port (3784; tests may use another). */
  bfdPort?: number;
}

export interface BgpSpeakerEvents {
  session: [SessionInfo];
  established: [SessionInfo];
  down: [{ peer: string; reason: string }];
}

const sameConfig = (a: PeerConfig, b: PeerConfig): boolean => JSON.stringify(a) === JSON.stringify(b);

export class BgpSpeaker extends EventEmitter<BgpSpeakerEvents> {
  private readonly sessionsByName = new Map<string, BgpSession>();
  private server?: Server;
  private routes = new Map<string, readonly BgpRoute[]>();
  private started = false;
  private listenFd?: number;
  private md5Peers = new Set<string>();
  private bfdEndpoint?: BfdEndpoint;
  private readonly bfdSessions = new Map<string, BfdSession>();

  constructor(private readonly opts: BgpSpeakerOptions) {
    super();
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.opts.listen) await this.listen(this.opts.listen);
    this.setPeers(this.opts.peers);
  }

  private async listen(l: { host?: string; port?: number }): Promise<void> {
    const server = createServer((socket) => this.onInbound(socket));
    const host = l.host ?? '0.0.0.0';
    const port = l.port ?? 179;
    // MD5 keys must be on the listening socket before a peer's SYN arrives: use a native listener then.
    const keyed = this.opts.peers.filter(
      (p) => p.password !== undefined && p.peerAddress.includes(':') === host.includes(':'),
    );
    const gtsm = this.opts.peers.find((p) => p.minTtl !== undefined)?.minTtl;
    if (keyed.length > 0 || gtsm !== undefined) {
      this.listenFd = listenTcp(host, port, {
        md5: keyed.map((p) => ({ peer: p.peerAddress, key: p.password ?? '' })),
        ...(gtsm !== undefined ? { minTtl: gtsm, ttl: 255 } : {}),
      });
      this.md5Peers = new Set(keyed.map((p) => p.peerAddress));
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      if (this.listenFd !== undefined) server.listen({ fd: this.listenFd }, done);
      else server.listen({ port, host }, done);
    });
    server.on('error', (e) => this.opts.log?.('warn', `bgp listener: ${e.message}`));
    this.server = server;
  }

  /** The port the listener is bound to (useful with port 0). */
  listenPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  private onInbound(socket: Socket): void {
    const remote = socket.remoteAddress?.replace(/^::ffff:/, '');
    const session = [...this.sessionsByName.values()].find((s) => s.cfg.peerAddress === remote);
    if (!session) {
      this.opts.log?.('info', `bgp: refusing connection from unconfigured ${remote}`);
      socket.destroy();
      return;
    }
    session.acceptInbound(socket);
  }

  /** Reconciles sessions with a new peer list: new peers start, removed ones stop, changed ones restart. */
  setPeers(peers: PeerConfig[]): void {
    this.opts.peers = peers;
    if (!this.started) return;
    const wanted = new Map(peers.map((p) => [p.name, p]));
    for (const [name, s] of this.sessionsByName) {
      const cfg = wanted.get(name);
      if (!cfg || !sameConfig(cfg, s.cfg)) {
        this.sessionsByName.delete(name);
        this.stopBfd(name);
        void s.stop({ graceful: false });
      }
    }
    for (const cfg of peers) {
      if (this.sessionsByName.has(cfg.name)) continue;
      if (this.listenFd !== undefined && cfg.password !== undefined && !this.md5Peers.has(cfg.peerAddress)) {
        try {
          socketsNative().tcpSetMd5(this.listenFd, cfg.peerAddress, cfg.password);
          this.md5Peers.add(cfg.peerAddress);
        } catch (e) {
          this.opts.log?.(
            'warn',
            `bgp: cannot set the MD5 key for ${cfg.peerAddress} on the listener: ${String(e)}`,
          );
        }
      }
      const s = new BgpSession(cfg, {
        dial: this.opts.dial ?? defaultDial,
        ...(this.opts.restarting ? { restarting: true } : {}),
        ...(this.opts.log ? { log: this.opts.log } : {}),
      });
      s.on('change', (info: SessionInfo) => this.emit('session', info));
      s.on('established', (info: SessionInfo) => {
        if (cfg.bfd && info.localAddress) this.startBfd(cfg, info.localAddress);
        this.emit('established', info);
      });
      s.on('down', (d: { peer: string; reason: string }) => this.emit('down', d));
      this.sessionsByName.set(cfg.name, s);
      s.setRoutes(this.routes.get(cfg.name) ?? []);
      s.start();
      if (cfg.bfd && cfg.sourceAddress) this.startBfd(cfg, cfg.sourceAddress);
    }
  }

  /** BFD for a peer, once we know our address towards it; its verdict drives the BGP session. */
  private startBfd(cfg: PeerConfig, local: string): void {
    if (!cfg.bfd || this.bfdSessions.has(cfg.name)) return;
    try {
      this.bfdEndpoint ??= new BfdEndpoint({
        ...(this.opts.bfdPort ? { port: this.opts.bfdPort } : {}),
        log: (m) => this.opts.log?.('warn', m),
      });
      const b = new BfdSession(cfg.peerAddress, local, cfg.bfd, this.bfdEndpoint, this.opts.bfdPort);
      b.on('state', ({ state, diag }) => {
        this.opts.log?.('info', `bfd peer ${cfg.name} (${cfg.peerAddress}): ${state} (diag ${diag})`);
        this.sessionsByName.get(cfg.name)?.setBfdState(state);
      });
      b.start();
      this.bfdSessions.set(cfg.name, b);
    } catch (e) {
      this.opts.log?.(
        'warn',
        `bfd peer ${cfg.name}: cannot start: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private stopBfd(name: string): void {
    this.bfdSessions.get(name)?.stop();
    this.bfdSessions.delete(name);
  }

  /** Routes per peer name (as `bgpAdvertisements(...).routes` returns them); peers not listed get none. */
  setRoutes(routes: ReadonlyMap<string, readonly BgpRoute[]>): void {
    this.routes = new Map(routes);
    for (const [name, s] of this.sessionsByName) s.setRoutes(this.routes.get(name) ?? []);
  }

  /** Feeds a BFD verdict to a peer's session (BFD down tears an Established session down). */
  setBfdState(peer: string, state: BfdState): void {
    this.sessionsByName.get(peer)?.setBfdState(state);
  }

  sessions(): SessionInfo[] {
    return [...this.sessionsByName.values()].map((s) => s.info());
  }

  /** graceful: drop TCP without NOTIFICATION so graceful-restart peers keep the routes (RFC 4724). */
  async stop(opts: { graceful: boolean } = { graceful: false }): Promise<void> {
    this.started = false;
    const all = [...this.sessionsByName.values()];
    this.sessionsByName.clear();
    await Promise.all(all.map((s) => s.stop(opts)));
    for (const name of [...this.bfdSessions.keys()]) this.stopBfd(name);
    this.bfdEndpoint?.close();
    this.bfdEndpoint = undefined;
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * One BGP peering: runs the pure FSM (`fsm.ts`) over node `net` sockets, one FSM per TCP connection
 * (outbound and inbound may coexist until collision resolution, RFC 4271 §6.8), keeps the peer's
 * Adj-RIB-Out and sends it on Established followed by End-of-RIB. Inbound routes are counted, never used.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { BgpRoute } from './advertisements.js';
import { type FsmAction, type FsmEvent, type FsmState, type Negotiated, step, type Timer } from './fsm.js';
import type { PeerConfig } from './peer-config.js';
import { type PeerRouteContext, RibOut } from './rib-out.js';
import { Afi, CeaseSubcode, ErrorCode, Safi } from './wire/constants.js';
import { BgpError } from './wire/errors.js';
import {
  type BgpMessage,
  type CodecContext,
  decodeMessage,
  encodeMessage,
  MessageFramer,
} from './wire/message.js';
import { makeOpen } from './wire/open.js';
import type { Family } from './wire/prefix.js';
import { endOfRib, endOfRibFamily } from './wire/update.js';

export type BfdState = 'disabled' | 'down' | 'init' | 'up' | 'admin-down';

export interface SessionInfo {
  peer: string;
  address: string;
  state: FsmState;
  /** Seconds since Established, 0 otherwise. */
  uptimeSec: number;
  prefixesSent: number;
  prefixesReceived: number;
  updatesSent: number;
  updatesReceived: number;
  bfd: BfdState;
  /** Our AS number. */
  localAsn: number;
  /** The peer's AS: negotiated once Established, else the configured one (absent: dynamicASN external). */
  peerAsn?: number;
  peerRouterId?: string;
  /** Our address on the Established connection. */
  localAddress?: string;
  lastError?: string;
}

/** Opens the outbound TCP connection (plain `net`, or the native addon for MD5/TTL); resolves once connected. */
export type Dialer = (cfg: PeerConfig) => Promise<Socket>;

export interface SessionOptions {
  dial: Dialer;
  /** Announce the graceful-restart R bit: this process restarted and the peer kept our routes. */
  restarting?: boolean;
  log?: (level: 'info' | 'warn' | 'debug', msg: string) => void;
}

const FAMILIES: Array<{ afi: number; safi: number; family: Family }> = [
  { afi: Afi.IPV4, safi: Safi.UNICAST, family: 'ipv4' },
  { afi: Afi.IPV6, safi: Safi.UNICAST, family: 'ipv6' },
];

const stripMapped = (a: string | undefined): string | undefined => a?.replace(/^::ffff:/, '');

/** The link-local address on the interface that holds `addr` (for the IPv6 next hop pair, RFC 2545). */
function linkLocalFor(addr: string): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    if (!list?.some((i) => i.address === addr)) continue;
    return list.find((i) => i.family === 'IPv6' && i.address.startsWith('fe80:'))?.address;
  }
  return undefined;
}

class Connection {
  state: FsmState;
  negotiated?: Negotiated;
  codec: CodecContext = { fourOctetAs: true };
  readonly framer = new MessageFramer();
  private readonly timers = new Map<Timer, NodeJS.Timeout>();
  closed = false;
  /** Counts connect attempts so a late result of an abandoned attempt is ignored. */
  attempt = 0;

  constructor(
    readonly direction: 'out' | 'in',
    public socket: Socket | undefined,
    state: FsmState,
  ) {
    this.state = state;
  }

  setTimer(timer: Timer, seconds: number, fire: () => void): void {
    this.clearTimer(timer);
    const t = setTimeout(fire, seconds * 1000);
    t.unref();
    this.timers.set(timer, t);
  }

  clearTimer(timer: Timer): void {
    const t = this.timers.get(timer);
    if (t) clearTimeout(t);
    this.timers.delete(timer);
  }

  clearAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

export class BgpSession extends EventEmitter {
  private readonly conns = new Set<Connection>();
  private outbound?: Connection;
  private established?: Connection;
  private establishedAt = 0;
  private running = false;
  private retryTimer?: NodeJS.Timeout;
  private routes: readonly BgpRoute[] = [];
  private readonly ribOut = new RibOut();
  private routeCtx?: PeerRouteContext;
  private stats = { prefixesReceived: 0, updatesSent: 0, updatesReceived: 0 };
  private lastError?: string;
  private bfd: BfdState = 'disabled';
  /** Both sides announced enhanced route refresh (RFC 7313). */
  private enhancedRefresh = false;

  constructor(
    readonly cfg: PeerConfig,
    private readonly opts: SessionOptions,
  ) {
    super();
    if (cfg.bfd) this.bfd = 'down';
  }

  private log(level: 'info' | 'warn' | 'debug', msg: string): void {
    this.opts.log?.(level, `bgp peer ${this.cfg.name} (${this.cfg.peerAddress}): ${msg}`);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startOutbound();
  }

  /**
   * Graceful: close TCP without a NOTIFICATION, so a graceful-restart peer keeps our routes as stale
   * (RFC 4724 §4.2). Otherwise send Cease/Administrative Shutdown and the peer withdraws at once.
   */
  async stop(opts: { graceful: boolean }): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const sockets: Socket[] = [];
    for (const c of [...this.conns]) {
      if (c.socket) sockets.push(c.socket);
      if (opts.graceful) {
        const sock = c.socket;
        c.socket = undefined;
        this.drop(c, 'graceful stop');
        sock?.destroy();
      } else {
        this.fire(c, { type: 'stop', subcode: CeaseSubcode.ADMIN_SHUTDOWN });
        this.drop(c, 'stopped');
      }
    }
    const closing = sockets
      .filter((s) => !s.destroyed)
      .map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 1000).unref())]);
  }

  /** A connection the speaker accepted from this peer's address. */
  acceptInbound(socket: Socket): void {
    if (!this.running) {
      socket.destroy();
      return;
    }
    // Its own FSM; collision resolution (or an Established session, which always wins) decides later.
    const c = new Connection('in', socket, 'active');
    this.attach(c);
    this.fire(c, { type: 'tcp-connected' });
  }

  setRoutes(routes: readonly BgpRoute[]): void {
    this.routes = routes;
    if (this.established && this.routeCtx)
      this.send(this.established, this.ribOut.diff(routes, this.routeCtx));
  }

  /** BFD verdict for this peer; down while Established tears the session down (Cease/BFD Down). */
  setBfdState(state: BfdState): void {
    const prev = this.bfd;
    this.bfd = state;
    if (prev !== state) this.emit('change', this.info());
    if (state === 'down' && prev === 'up' && this.established) {
      this.log('warn', 'BFD down: resetting the session');
      this.fire(this.established, { type: 'stop', subcode: CeaseSubcode.BFD_DOWN });
    }
  }

  info(): SessionInfo {
    const best = this.established ?? [...this.conns].sort((a, b) => rank(b.state) - rank(a.state))[0];
    const n = this.established?.negotiated;
    return {
      peer: this.cfg.name,
      address: this.cfg.peerAddress,
      state: best?.state ?? 'idle',
      uptimeSec: this.established ? Math.floor((Date.now() - this.establishedAt) / 1000) : 0,
      prefixesSent: this.established ? this.ribOut.size : 0,
      prefixesReceived: this.stats.prefixesReceived,
      updatesSent: this.stats.updatesSent,
      updatesReceived: this.stats.updatesReceived,
      bfd: this.bfd,
      localAsn: this.cfg.localAsn,
      ...(n ? { peerAsn: n.peerAsn, peerRouterId: n.peerOpen.routerId } : configuredPeerAsn(this.cfg)),
      ...(this.established?.socket?.localAddress
        ? { localAddress: stripMapped(this.established.socket.localAddress) }
        : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  // ------------------------------------------------------------------ connections

  private startOutbound(): void {
    if (!this.running || this.cfg.passive || this.established) return;
    if (this.outbound && !this.outbound.closed) return;
    const c = new Connection('out', undefined, 'idle');
    this.outbound = c;
    this.conns.add(c);
    this.fire(c, { type: 'start' });
  }

  private scheduleOutbound(): void {
    if (!this.running || this.cfg.passive || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.startOutbound();
    }, this.cfg.connectRetrySec * 1000);
    this.retryTimer.unref();
  }

  private attach(c: Connection): void {
    this.conns.add(c);
    const s = c.socket;
    if (!s) return;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => this.onData(c, chunk));
    s.on('error', (err) => {
      this.lastError = err.message;
      this.fire(c, { type: 'tcp-closed' });
    });
    s.on('close', () => this.fire(c, { type: 'tcp-closed' }));
  }

  private onData(c: Connection, chunk: Buffer): void {
    let raw: Buffer[];
    try {
      raw = c.framer.push(chunk);
    } catch (e) {
      this.fire(c, { type: 'decode-error', error: asBgpError(e) });
      return;
    }
    for (const buf of raw) {
      if (c.closed) return;
      let m: BgpMessage;
      try {
        m = decodeMessage(buf, c.codec);
      } catch (e) {
        this.fire(c, { type: 'decode-error', error: asBgpError(e) });
        return;
      }
      this.onMessage(c, m);
    }
  }

  private onMessage(c: Connection, m: BgpMessage): void {
    switch (m.type) {
      case 'open':
        this.fire(c, { type: 'open', open: m });
        if (c.state === 'openconfirm') this.resolveCollision(c);
        return;
      case 'keepalive':
        this.fire(c, { type: 'keepalive' });
        return;
      case 'notification':
        this.lastError = `peer sent NOTIFICATION ${m.code}/${m.subcode}${m.data.length ? ` (${m.data.toString('hex')})` : ''}`;
        this.fire(c, { type: 'notification', code: m.code, subcode: m.subcode });
        return;
      case 'update':
        this.stats.updatesReceived++;
        if (!endOfRibFamily(m))
          this.stats.prefixesReceived += m.nlri.length + (m.attributes.mpReach?.nlri.length ?? 0);
        if (m.problems.length)
          this.log('debug', `UPDATE problems: ${m.problems.map((p) => p.message).join('; ')}`);
        this.fire(c, { type: 'update' });
        this.emit('change', this.info());
        return;
      case 'route-refresh':
        this.fire(c, { type: 'route-refresh' });
        // Subtypes 1/2 (BoRR/EoRR, RFC 7313) frame the peer's own re-advertisement to us: nothing to do.
        if (m.subtype === 0 && c === this.established && this.routeCtx) {
          const fam = FAMILIES.find((f) => f.afi === m.afi && f.safi === m.safi);
          if (!fam || !this.routeCtx.families.has(fam.family)) return;
          const updates = this.ribOut.diff(this.routes, this.routeCtx, true);
          const marker = (subtype: number) => ({
            type: 'route-refresh' as const,
            afi: m.afi,
            subtype,
            safi: m.safi,
          });
          this.send(
            c,
            this.enhancedRefresh
              ? [marker(1), ...updates, marker(2)]
              : [...updates, endOfRib(fam.afi, fam.safi)],
          );
        }
        return;
    }
  }

  /** RFC 4271 §6.8: keep the connection opened by the speaker with the higher BGP identifier. */
  private resolveCollision(c: Connection): void {
    for (const other of this.conns) {
      if (other === c || other.closed) continue;
      if (other.state === 'established') {
        this.fire(c, { type: 'stop', subcode: CeaseSubcode.CONNECTION_COLLISION });
        return;
      }
      if (other.state !== 'openconfirm' || !c.negotiated) continue;
      const local = ipToU32(this.cfg.routerId);
      const remote = ipToU32(c.negotiated.peerOpen.routerId);
      // Close the connection initiated by the side with the lower identifier.
      const loserDirection = local < remote ? 'out' : 'in';
      const loser = c.direction === loserDirection ? c : other;
      this.log('info', `connection collision: closing the ${loserDirection}bound connection`);
      this.fire(loser, { type: 'stop', subcode: CeaseSubcode.CONNECTION_COLLISION });
      return;
    }
  }

  private fire(c: Connection, event: FsmEvent): void {
    if (c.closed) return;
    const prev = c.state;
    const r = step(c.state, event, this.fsmConfig(), c.negotiated);
    c.state = r.state;
    if (r.negotiated) c.negotiated = r.negotiated;
    for (const a of r.actions) this.perform(c, a);
    if (c.state === 'idle' && prev !== 'idle') this.drop(c, event.type);
    if (prev !== c.state) {
      this.log('debug', `${c.direction} ${prev} → ${c.state} on ${event.type}`);
      this.emit('change', this.info());
    }
  }

  private fsmConfig() {
    return {
      localAsn: this.cfg.localAsn,
      ...configuredPeerAsn(this.cfg),
      ...(this.cfg.dynamicAsn ? { dynamicAsn: this.cfg.dynamicAsn } : {}),
      holdTimeSec: this.cfg.holdTimeSec,
      connectRetrySec: this.cfg.connectRetrySec,
      passive: this.cfg.passive,
    };
  }

  private perform(c: Connection, a: FsmAction): void {
    switch (a.type) {
      case 'connect': {
        closeSocket(c);
        const attempt = ++c.attempt;
        this.opts.dial(this.cfg).then(
          (s) => {
            if (c.closed || attempt !== c.attempt || c.state !== 'connect') {
              s.destroy();
              return;
            }
            c.socket = s;
            this.attach(c);
            this.fire(c, { type: 'tcp-connected' });
          },
          (e: unknown) => {
            if (c.closed || attempt !== c.attempt) return;
            this.lastError = `connect: ${e instanceof Error ? e.message : String(e)}`;
            this.fire(c, { type: 'tcp-failed' });
          },
        );
        return;
      }
      case 'close':
        closeSocket(c);
        return;
      case 'send-open':
        this.write(c, encodeMessage(this.openMessage()));
        return;
      case 'send-keepalive':
        this.write(c, encodeMessage({ type: 'keepalive' }));
        return;
      case 'send-notification':
        this.lastError = `sent NOTIFICATION ${a.code}/${a.subcode}: ${a.reason}`;
        this.log('warn', this.lastError);
        this.write(
          c,
          encodeMessage({
            type: 'notification',
            code: a.code,
            subcode: a.subcode,
            data: a.data ?? Buffer.alloc(0),
          }),
        );
        return;
      case 'set-timer':
        c.setTimer(a.timer, a.seconds, () => this.fire(c, { type: 'timer', timer: a.timer }));
        return;
      case 'clear-timer':
        c.clearTimer(a.timer);
        return;
      case 'established':
        this.onEstablished(c, a.negotiated);
        return;
      case 'deliver':
        return;
      case 'down':
        this.log('info', `down: ${a.reason}`);
        return;
    }
  }

  private drop(c: Connection, reason: string): void {
    if (c.closed) return;
    c.closed = true;
    c.clearAll();
    this.conns.delete(c);
    if (this.outbound === c) this.outbound = undefined;
    if (this.established === c) {
      this.established = undefined;
      this.routeCtx = undefined;
      this.ribOut.clear();
      this.emit('down', { peer: this.cfg.name, reason: this.lastError ?? reason });
    }
    // An inbound connection the peer left half-open (Active/OpenSent, 240 s pre-OPEN hold) must not hold
    // back our own reconnect: collision resolution sorts the two out.
    if (!this.established && !this.outbound) this.scheduleOutbound();
    this.emit('change', this.info());
  }

  private openMessage() {
    return makeOpen({
      asn: this.cfg.localAsn,
      holdTime: this.cfg.holdTimeSec,
      routerId: this.cfg.routerId,
      enhancedRouteRefresh: true,
      ...(this.cfg.gracefulRestart
        ? {
            gracefulRestart: {
              restarting: this.opts.restarting ?? false,
              notification: false,
              restartTimeSec: this.cfg.restartTimeSec,
              families: FAMILIES.map((f) => ({ afi: f.afi, safi: f.safi, forwardingPreserved: true })),
            },
          }
        : {}),
    });
  }

  private onEstablished(c: Connection, n: Negotiated): void {
    // Close every other connection (collision losers still around).
    for (const other of [...this.conns])
      if (other !== c) this.fire(other, { type: 'stop', subcode: CeaseSubcode.CONNECTION_COLLISION });
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.established = c;
    this.establishedAt = Date.now();
    const caps = n.peerOpen.capabilities;
    this.enhancedRefresh = caps.enhancedRouteRefresh;
    const fourOctetAs = caps.fourOctetAsn !== undefined;
    const ibgp = n.peerAsn === this.cfg.localAsn;
    c.codec = { fourOctetAs, ibgp };
    const peerFamilies =
      caps.multiprotocol.length === 0 ? [{ afi: Afi.IPV4, safi: Safi.UNICAST }] : caps.multiprotocol;
    const families = new Set(
      FAMILIES.filter((f) => peerFamilies.some((p) => p.afi === f.afi && p.safi === f.safi)).map(
        (f) => f.family,
      ),
    );
    const local = stripMapped(c.socket?.localAddress);
    const nextHops: Partial<Record<Family, string[]>> = {};
    if (local && !local.includes(':')) nextHops.ipv4 = [local];
    if (local && local.includes(':')) {
      const ll = linkLocalFor(local);
      nextHops.ipv6 = ll && !local.startsWith('fe80:') ? [local, ll] : [local];
    }
    this.routeCtx = { localAsn: this.cfg.localAsn, ibgp, fourOctetAs, nextHops, families };
    this.log(
      'info',
      `established (peer AS ${n.peerAsn}, hold ${n.holdTimeSec}s, families ${[...families].join(',')})`,
    );
    this.ribOut.clear();
    const updates = this.ribOut.diff(this.routes, this.routeCtx, true);
    const eors = FAMILIES.filter((f) => families.has(f.family)).map((f) => endOfRib(f.afi, f.safi));
    this.send(c, [...updates, ...eors]);
    this.emit('established', this.info());
    this.emit('change', this.info());
  }

  private send(c: Connection, msgs: BgpMessage[]): void {
    if (msgs.length === 0) return;
    const bufs = msgs.map((m) => encodeMessage(m, c.codec));
    this.stats.updatesSent += msgs.filter((m) => m.type === 'update').length;
    this.write(c, Buffer.concat(bufs));
  }

  private write(c: Connection, buf: Buffer): void {
    const s = c.socket;
    if (s && !s.destroyed && s.writable) s.write(buf);
  }
}

/** Detaches the connection's socket and closes it after flushing what was written (a NOTIFICATION). */
function closeSocket(c: Connection): void {
  const s = c.socket;
  c.socket = undefined;
  if (!s) return;
  s.removeAllListeners('data');
  s.removeAllListeners('close');
  s.removeAllListeners('connect');
  s.on('error', () => undefined);
  s.end();
  setTimeout(() => s.destroy(), 500).unref();
}

function rank(s: FsmState): number {
  return ['idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'].indexOf(s);
}

function ipToU32(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function asBgpError(e: unknown): BgpError {
  if (e instanceof BgpError) return e;
  // The decoder only throws BgpError; anything else is our bug, reported as Cease/Out of resources-free "unspecific".
  return new BgpError(
    ErrorCode.CEASE,
    0,
    `internal decoder error: ${e instanceof Error ? e.message : String(e)}`,
  );
}

/** The peer AS a session expects before the OPEN says (`dynamicASN: internal` is ours; external: unknown). */
function configuredPeerAsn(cfg: PeerConfig): { peerAsn?: number } {
  const peerAsn = cfg.peerAsn ?? (cfg.dynamicAsn === 'internal' ? cfg.localAsn : undefined);
  return peerAsn !== undefined ? { peerAsn } : {};
}

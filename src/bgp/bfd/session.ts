/**
 * BFD single-hop sessions over the native UDP socket that reports received TTLs: one receive socket per
 * address family on port 3784 shared by all sessions (demultiplexed by discriminator, else by source
 * address), one send socket per session from a port in 49152–65535 with TTL 255 (RFC 5881 §4–§5).
 */
import { EventEmitter } from 'node:events';
import { socketsNative, type UdpTtlSocketHandle } from '../native-sockets.js';
import type { BfdSettings } from '../peer-config.js';
import {
  type BfdMachineConfig,
  type BfdMachineState,
  detectionExpired,
  detectionTimeUs,
  initialState,
  jitter,
  packetFor,
  receive,
  sent,
  txIntervalUs,
} from './machine.js';
import { BFD_PORT, type BfdSessionState, decodeBfd, encodeBfd } from './packet.js';

// Not `import ... from 'node:crypto'`: see the no-restricted-syntax rule in eslint.config.js.
const { randomInt } = process.getBuiltinModule('node:crypto');

export interface BfdCounters {
  received: number;
  sent: number;
  droppedTtl: number;
  droppedInvalid: number;
  droppedUnknown: number;
}

/** The shared receive side: sockets on port 3784 and the table of sessions. */
export class BfdEndpoint {
  private readonly sockets = new Map<4 | 6, UdpTtlSocketHandle>();
  private readonly byDisc = new Map<number, BfdSession>();
  readonly counters: BfdCounters = {
    received: 0,
    sent: 0,
    droppedTtl: 0,
    droppedInvalid: 0,
    droppedUnknown: 0,
  };

  constructor(private readonly opts: { port?: number; log?: (msg: string) => void } = {}) {}

  /** Opens the receive socket of a family on first use. */
  ensure(family: 4 | 6): void {
    if (this.sockets.has(family)) return;
    const n = socketsNative();
    const sock = new n.UdpTtlSocket(
      family,
      family === 4 ? '0.0.0.0' : '::',
      this.opts.port ?? BFD_PORT,
      255,
      (data, address, _port, ttl) => this.onPacket(data, address, ttl),
    );
    this.sockets.set(family, sock);
  }

  register(s: BfdSession): void {
    this.byDisc.set(s.localDisc, s);
  }

  unregister(s: BfdSession): void {
    this.byDisc.delete(s.localDisc);
  }

  newDiscriminator(): number {
    for (;;) {
      const d = randomInt(1, 0xffffffff);
      if (!this.byDisc.has(d)) return d;
    }
  }

  private onPacket(data: Buffer, address: string, ttl: number): void {
    // RFC 5881 §5: single-hop packets must arrive with TTL/hop limit 255 (GTSM).
    if (ttl !== 255) {
      this.counters.droppedTtl++;
      return;
    }
    const p = decodeBfd(data);
    if (typeof p === 'string') {
      this.counters.droppedInvalid++;
      return;
    }
    const from = address.replace(/^::ffff:/, '');
    const session =
      p.yourDiscriminator !== 0
        ? this.byDisc.get(p.yourDiscriminator)
        : [...this.byDisc.values()].find((s) => s.peer === from);
    if (!session || session.peer !== from) {
      this.counters.droppedUnknown++;
      return;
    }
    this.counters.received++;
    try {
      session.onPacket(p);
    } catch (e) {
      this.opts.log?.(`bfd: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }
}

export interface BfdSessionEvents {
  state: [{ peer: string; state: BfdSessionState; diag: number }];
}

export class BfdSession extends EventEmitter<BfdSessionEvents> {
  readonly localDisc: number;
  private m: BfdMachineState;
  private readonly cfg: BfdMachineConfig;
  private tx?: UdpTtlSocketHandle;
  private txTimer?: NodeJS.Timeout;
  private detectTimer?: NodeJS.Timeout;
  private running = false;

  constructor(
    readonly peer: string,
    readonly local: string,
    settings: BfdSettings,
    private readonly endpoint: BfdEndpoint,
    private readonly dstPort = BFD_PORT,
  ) {
    super();
    this.localDisc = endpoint.newDiscriminator();
    this.m = initialState(this.localDisc);
    this.cfg = {
      desiredMinTxUs: settings.transmitIntervalMs * 1000,
      requiredMinRxUs: settings.receiveIntervalMs * 1000,
      detectMult: settings.detectMultiplier,
      passive: settings.passive,
    };
  }

  get state(): BfdSessionState {
    return this.m.state;
  }

  start(): void {
    if (this.running) return;
    const family = this.peer.includes(':') ? 6 : 4;
    this.endpoint.ensure(family);
    this.tx = openSender(family, this.local);
    this.running = true;
    this.endpoint.register(this);
    this.scheduleTx(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.txTimer);
    clearTimeout(this.detectTimer);
    this.endpoint.unregister(this);
    this.tx?.close();
    this.tx = undefined;
  }

  onPacket(p: Parameters<typeof receive>[1]): void {
    if (!this.running) return;
    const r = receive(this.m, p, this.cfg);
    this.m = r.state;
    this.armDetection();
    if (r.changed) this.emit('state', { peer: this.peer, state: this.m.state, diag: this.m.diag });
    if (r.sendNow) {
      this.sendPacket();
      // The interval may have shrunk (Up: from 1 s to the configured rate): restart the periodic timer.
      this.scheduleNext();
    }
  }

  private armDetection(): void {
    clearTimeout(this.detectTimer);
    if (this.m.state !== 'up' && this.m.state !== 'init') return;
    const us = detectionTimeUs(this.m, this.cfg);
    if (us <= 0) return;
    this.detectTimer = setTimeout(
      () => {
        const r = detectionExpired(this.m);
        this.m = r.state;
        if (r.changed) this.emit('state', { peer: this.peer, state: this.m.state, diag: this.m.diag });
        if (r.sendNow) this.sendPacket();
      },
      Math.ceil(us / 1000),
    );
    this.detectTimer.unref();
  }

  private scheduleTx(delayMs: number): void {
    clearTimeout(this.txTimer);
    if (!this.running) return;
    this.txTimer = setTimeout(() => {
      this.sendPacket();
      this.scheduleNext();
    }, delayMs);
    this.txTimer.unref();
  }

  private scheduleNext(): void {
    const iv = txIntervalUs(this.m, this.cfg);
    // Not sending (passive, or peer asked for silence): check back at the slow rate.
    const us = iv === 0 ? 1_000_000 : jitter(iv, this.cfg.detectMult, Math.random());
    this.scheduleTx(Math.max(1, Math.round(us / 1000)));
  }

  private sendPacket(): void {
    if (!this.tx || txIntervalUs(this.m, this.cfg) === 0) return;
    try {
      this.tx.send(encodeBfd(packetFor(this.m, this.cfg)), this.peer, this.dstPort);
      this.endpoint.counters.sent++;
      this.m = sent(this.m);
    } catch {
      // Unreachable peer (no route/neighbor yet): BFD keeps trying at its interval.
    }
  }
}

/** A send socket bound to `local` with a source port in 49152–65535 (RFC 5881 §4), TTL 255. */
function openSender(family: 4 | 6, local: string): UdpTtlSocketHandle {
  const n = socketsNative();
  let last: unknown;
  for (let i = 0; i < 16; i++) {
    try {
      return new n.UdpTtlSocket(family, local, randomInt(49152, 65536), 255);
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

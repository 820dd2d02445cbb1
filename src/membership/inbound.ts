/**
 * Inbound handling: every UDP packet and TCP stream is opened (dropped and counted when it must be),
 * and each message is handed to the part it concerns (probing, state changes, user messages, sync).
 */
import type { RemoteInfo } from 'node:dgram';
import type { Socket } from 'node:net';
import { type Ping, type WireMessage, encodeMessage } from './codec.js';
import type { MemberlistConfig } from './config.js';
import type { MemberTable } from './member-table.js';
import type { Prober } from './probe.js';
import type { StateChanges } from './state.js';
import type { Stats } from './stats.js';
import type { StateSync } from './sync.js';
import { StreamError, readFrame, writeFrame } from './transport.js';
import type { UserMessages } from './user-messages.js';
import type { Wire } from './wire.js';

/** Concurrent inbound TCP streams (push-pull, TCP ping); more are refused and counted as busy. */
const MAX_INBOUND_STREAMS = 64;

export interface InboundParts {
  table: MemberTable;
  wire: Wire;
  prober: Prober;
  state: StateChanges;
  users: UserMessages;
  sync: StateSync;
  stats: Stats;
}

export class Inbound {
  private streams = 0;

  constructor(
    private readonly config: MemberlistConfig,
    private readonly p: InboundParts,
  ) {}

  packet(buf: Buffer, from: RemoteInfo): void {
    if (this.p.table.stopped) return;
    this.p.stats.counters.udpPacketsIn++;
    try {
      const env = this.p.wire.open(buf, endpoint(from.address, from.port));
      if (!env) return;
      for (const m of env.messages) this.message(m, from);
    } catch {
      // Bad input never takes the process down.
      this.p.stats.drop('malformed');
    }
  }

  stream(sock: Socket): void {
    const { stats, wire } = this.p;
    stats.counters.tcpStreamsIn++;
    const source = endpoint(sock.remoteAddress ?? '?', sock.remotePort ?? 0);
    sock.on('error', () => undefined);
    if (this.streams >= MAX_INBOUND_STREAMS) {
      stats.drop('busy', 1, source);
      sock.destroy();
      return;
    }
    this.streams++;
    sock.once('close', () => this.streams--);
    void (async () => {
      try {
        // Twice the joiner's deadline: a joiner starved of CPU writes its frame late, and a seed closing on
        // it first would read as a refusal (the joiner's own deadline makes it 'busy' and it retries).
        const env = wire.open(await readFrame(sock, 2 * this.config.tcpTimeoutMs), source);
        if (!env) return;
        if (env.pushPull) {
          this.p.sync.merge(env.pushPull);
          writeFrame(sock, wire.frame([], this.p.sync.localState(false)));
          return;
        }
        const ping = env.messages.find((m): m is Ping => m.kind === 'ping');
        if (!ping) return;
        if (!this.forUs(ping, source)) return;
        const ack = encodeMessage({ kind: 'ack', seqNo: ping.seqNo, payload: Buffer.alloc(0) });
        writeFrame(sock, wire.frame([ack]));
      } catch (error) {
        if (error instanceof StreamError) {
          if (error.reason === 'truncated' || error.reason === 'oversize')
            stats.drop(error.reason, 1, source);
        } else stats.drop('malformed', 1, source);
      } finally {
        sock.end();
        setTimeout(() => sock.destroy(), 1000).unref();
      }
    })();
  }

  private message(m: WireMessage, from: RemoteInfo): void {
    switch (m.kind) {
      case 'ping':
        if (!this.forUs(m, endpoint(from.address, from.port))) return;
        return this.p.wire.send(from.address, from.port, {
          kind: 'ack',
          seqNo: m.seqNo,
          payload: Buffer.alloc(0),
        });
      case 'indirectPing':
        return this.p.prober.relay(m);
      case 'ack':
        return this.p.prober.ack(m.seqNo);
      case 'nack':
        return this.p.prober.nack(m.seqNo);
      case 'alive':
        return void this.p.state.onAlive(m);
      case 'suspect':
        return this.p.state.onSuspect(m);
      case 'dead':
        return this.p.state.onDead(m);
      case 'user':
        return this.p.users.onUser(m);
    }
  }

  /** A ping names its target; one meant for a previous holder of our address is dropped. */
  private forUs(ping: Ping, source: string): boolean {
    if (ping.target === '' || ping.target === this.p.table.self.name) return true;
    this.p.stats.drop('misdirected', 1, source);
    return false;
  }
}

function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

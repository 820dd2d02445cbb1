/**
 * Sockets: one UDP socket (probes, gossip) and one TCP listener (push-pull, join, TCP fallback ping) on
 * the same address and port. TCP frames are [u32 big-endian length][frame]. No protocol logic here.
 */
import { type RemoteInfo, type SocketOptions, type Socket as UdpSocket, createSocket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { afterDrain } from '../util/wait.js';

export const MAX_TCP_FRAME = 4 * 1024 * 1024;

export class StreamError extends Error {
  constructor(
    readonly reason: 'truncated' | 'oversize' | 'timeout' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

export interface TransportHandlers {
  packet(buf: Buffer, from: RemoteInfo): void;
  stream(sock: Socket): void;
}

export class Transport {
  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    readonly address: string,
    readonly port: number,
  ) {}

  /** Binds UDP and TCP on addr:port (port 0: a free port usable for both). */
  static async bind(addr: string, port: number, h: TransportHandlers): Promise<Transport> {
    let lastError: unknown;
    for (let attempt = 0; attempt < (port === 0 ? 20 : 1); attempt++) {
      const udp = createSocket({
        type: isIPv6(addr) ? 'udp6' : 'udp4',
        reuseAddr: false,
        lookup: literalLookup,
      });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind(port, addr, () => {
            udp.off('error', reject);
            resolve();
          });
        });
        const bound = udp.address().port;
        const tcp = createServer({ noDelay: true }, (s) => h.stream(s));
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(bound, addr, 128, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
        udp.on('message', (msg, rinfo) => h.packet(msg, rinfo));
        udp.on('error', () => undefined);
        tcp.on('error', () => undefined);
        try {
          udp.setRecvBufferSize(4 * 1024 * 1024);
        } catch {
          // best effort (rmem_max may be lower)
        }
        return new Transport(udp, tcp, addr, bound);
      } catch (error) {
        lastError = error;
        udp.close();
      }
    }
    throw new Error(`membership: cannot bind ${addr}:${port} (UDP+TCP): ${(lastError as Error).message}`);
  }

  /** Errors (an unreachable network) go to the socket's 'error' listener, which ignores them. */
  sendUdp(buf: Buffer, addr: string, port: number): void {
    this.udp.send(buf, port, addr);
  }

  /** Connects with a deadline; rejects with StreamError('timeout') or the socket error. */
  connect(addr: string, port: number, timeoutMs: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ host: addr, port, noDelay: true });
      // A starved process reads the connect completion before it gives up on it.
      const timer = afterDrain(timeoutMs, () => {
        if (s.connecting) {
          s.destroy();
          reject(new StreamError('timeout', `connect ${addr}:${port} timed out`));
        }
      });
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        s.on('error', () => undefined);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        s.destroy();
        reject(e);
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.udp.close(() => r()));
    await new Promise<void>((r) => this.tcp.close(() => r()));
  }
}

/**
 * dgram resolves every destination, an IP literal too, through dns.lookup, which answers on the next tick:
 * one deferred callback per packet sent. Members' addresses are literals: answered at once; names (never
 * expected) still go to dns.lookup.
 */
const literalLookup: NonNullable<SocketOptions['lookup']> = (hostname, options, callback) => {
  const family = isIP(hostname);
  if (family === 0) return dnsLookup(hostname, options, callback);
  callback(null, hostname, family);
};

export function writeFrame(s: Socket, frame: Buffer): void {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(frame.length);
  s.write(Buffer.concat([len, frame]));
}

/** Reads exactly one length-prefixed frame, with a size cap and a deadline. */
export function readFrame(s: Socket, timeoutMs: number, max = MAX_TCP_FRAME): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    let want = -1;
    let done = false;
    const finish = (err?: StreamError, frame?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('close', onEnd);
      s.off('error', onEnd);
      if (err) reject(err);
      else if (frame) resolve(frame);
    };
    const onData = (d: Buffer): void => {
      chunks.push(d);
      have += d.length;
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (want < 0 && have >= 4) {
        want = all.readUInt32BE(0);
        if (want > max)
          return finish(new StreamError('oversize', `TCP frame of ${want} bytes exceeds ${max}`));
      }
      if (want >= 0 && have >= 4 + want) finish(undefined, all.subarray(4, 4 + want));
    };
    const onEnd = (): void =>
      finish(new StreamError(have === 0 ? 'closed' : 'truncated', `stream ended after ${have} bytes`));
    // Drained first: a starved process reads the frame waiting in its socket before it gives up on it.
    const timer = afterDrain(timeoutMs, () =>
      finish(new StreamError(have === 0 ? 'timeout' : 'truncated', 'TCP read timed out')),
    );
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.once('error', onEnd);
  });
}

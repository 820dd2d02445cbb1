import { callNative } from './errors.js';
import { datapathNative } from './native.js';
import { interfaceIndex } from './netdev.js';

/** Ethertype that makes a receiving socket see every frame of its interface. */
export const ETH_P_ALL = 0x0003;

/**
 * A long-lived, non-blocking AF_PACKET socket bound to one interface. Opening and closing one per frame
 * costs a synchronize_net() on every close (10-20 ms here), so senders keep this open and hand it
 * batches. protocol 0 only sends; an ethertype (ETH_P_ALL) also receives the interface's inbound frames.
 */
export class PacketSocket {
  private fd: number | undefined;

  private constructor(
    readonly ifname: string,
    readonly ifindex: number,
    fd: number,
  ) {
    this.fd = fd;
  }

  static open(ifname: string, protocol = 0): PacketSocket {
    const ifindex = interfaceIndex(ifname);
    const fd = callNative(`interface ${ifname}`, () => datapathNative().packetOpen(ifindex, protocol));
    return new PacketSocket(ifname, ifindex, fd);
  }

  /**
   * Sends frames[start..] in one sendmmsg (at most 1,024); returns how many went out. Fewer (maybe 0)
   * means the socket's queue is full: retry the rest later. Throws when the first frame is refused.
   */
  sendBatch(frames: readonly Buffer[], start = 0): number {
    const fd = this.liveFd();
    return callNative(`interface ${this.ifname}`, () =>
      datapathNative().packetSendBatch(fd, this.ifindex, frames, start),
    );
  }

  /** Inbound frames queued on a receiving socket (up to max), without waiting. */
  receive(max = 4096): Buffer[] {
    const fd = this.liveFd();
    return callNative(`interface ${this.ifname}`, () => datapathNative().packetRecv(fd, max));
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    datapathNative().closeFd(fd);
  }

  private liveFd(): number {
    if (this.fd === undefined) throw new Error(`packet socket on ${this.ifname} is closed`);
    return this.fd;
  }
}

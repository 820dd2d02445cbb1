import { join } from 'node:path';
import { BpfMap } from '../datapath/bpf.js';
import { PacketSocket } from '../datapath/packet-socket.js';
import { FLOW_MAP_NAMES, memberAsOwner } from '../datapath/flow-layout.js';
import { addrKey, encodeVip, MAP_NAMES } from '../datapath/xdp-layout.js';
import { ALL_BUCKETS } from '../l2/buckets.js';
import { announcementFrames } from '../l2/frames.js';
import type { ArmedTakeovers } from '../l2/watch/takeover.js';

/** What the pulse thread's takeover writes to: the XDP VIP and flow maps and the announcing interfaces. */
export interface TakeoverIo {
  /** Opens what the next writes and sends need (at arming time, not at the takeover). */
  prepare(interfaces: ReadonlyArray<readonly [ifname: string, ifindex: number]>, flows: boolean): void;
  /** A flow-mode VIP's entry in the flow map (undefined: none). */
  readFlow(key: Buffer): Buffer | undefined;
  writeFlows(entries: ReadonlyArray<readonly [Buffer, Buffer]>): void;
  writeEntries(entries: ReadonlyArray<readonly [Buffer, Buffer]>): void;
  sendFrames(ifname: string, ifindex: number, frames: readonly Buffer[]): void;
  close(): void;
}

interface Prepared {
  ip: string;
  ifname: string;
  ifindex: number;
  entry: [Buffer, Buffer];
  frames: Buffer[];
  flows: boolean;
}

/**
 * The owner watch's own takeover, on the pulse thread (watch-worker.ts): the VIPs armed for an owner
 * (l2/watch/takeover.ts) get their answer entries, then their gratuitous ARP / unsolicited NA, the
 * moment the watch declares that owner down, without waiting for the control loop (on a loaded host its
 * decision round came 40-200 ms after the verdict). Entries first, frames after: a client pulled here
 * finds the answer in place. The watch marks the owner holding from its down verdict until the control
 * loop has read it, and the control loop marks it while these entries are not rewritten by a round
 * (speaker.ts): a returning owner keeps its gate shut while they may still answer.
 *
 * A flow-mode VIP's member entry (the slot table every node of the flow set holds) turns into the
 * owner's before its answer entry is written: the first frames pulled here are steered where the old
 * owner steered them, not held back. Without a member entry (no own MAC known yet) it is answered only,
 * its flows go up this node's stack, until the round writes the table.
 */
export class WatchTakeover {
  private armed = new Map<string, Prepared[]>();

  constructor(
    private readonly io: TakeoverIo,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  arm(byOwner: ArmedTakeovers): void {
    const next = new Map<string, Prepared[]>();
    for (const [owner, vips] of byOwner) {
      const prepared: Prepared[] = [];
      for (const v of vips) {
        const mac = Buffer.from(v.mac, 'hex');
        const value = encodeVip({ action: 'answer', mac, ifindex: v.ifindex, vlan: 0, buckets: ALL_BUCKETS });
        prepared.push({
          ip: v.ip,
          ifname: v.ifname,
          ifindex: v.ifindex,
          entry: [addrKey(v.ip), value],
          frames: announcementFrames(v.ip, mac),
          flows: v.flows === true,
        });
      }
      if (prepared.length > 0) next.set(owner, prepared);
    }
    this.armed = next;
    const interfaces = new Map<string, number>();
    for (const vips of next.values()) for (const v of vips) interfaces.set(v.ifname, v.ifindex);
    if (interfaces.size === 0) return;
    const flows = [...next.values()].some((vips) => vips.some((v) => v.flows));
    try {
      this.io.prepare([...interfaces], flows);
    } catch (error) {
      // fire() tries again, and reports what fails then.
      this.onError(`owner watch takeover: ${message(error)}`);
    }
  }

  /** The watch declared `owner` down: its armed VIPs answer here now. Undefined when none were armed. */
  fire(owner: string): { ips: string[] } | undefined {
    const vips = this.armed.get(owner);
    if (!vips) return undefined;
    this.armed.delete(owner);
    this.steer(owner, vips);
    try {
      this.io.writeEntries(vips.map((v) => v.entry));
    } catch (error) {
      this.onError(`owner watch takeover from ${owner}: ${message(error)}`);
      return undefined;
    }
    const byIf = new Map<string, { ifindex: number; frames: Buffer[] }>();
    for (const v of vips) {
      const lane = byIf.get(v.ifname) ?? { ifindex: v.ifindex, frames: [] };
      lane.frames.push(...v.frames);
      byIf.set(v.ifname, lane);
    }
    for (const [ifname, { ifindex, frames }] of byIf) {
      try {
        this.io.sendFrames(ifname, ifindex, frames);
      } catch (error) {
        // The entries answer; the control loop's takeover burst follows.
        this.onError(`owner watch takeover announcement on ${ifname}: ${message(error)}`);
      }
    }
    return { ips: vips.map((v) => v.ip) };
  }

  /** The flow VIPs' member entries become the owner's; a failure leaves them answered but not steered. */
  private steer(owner: string, vips: readonly Prepared[]): void {
    try {
      const owned: Array<[Buffer, Buffer]> = [];
      for (const v of vips) {
        if (!v.flows) continue;
        const raw = this.io.readFlow(v.entry[0]);
        const value = raw === undefined ? undefined : memberAsOwner(raw);
        if (value) owned.push([v.entry[0], value]);
      }
      if (owned.length > 0) this.io.writeFlows(owned);
    } catch (error) {
      // Answered anyway: the own slots' flows are served here, the round writes the table.
      this.onError(`owner watch takeover of flow steering from ${owner}: ${message(error)}`);
    }
  }

  close(): void {
    this.io.close();
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The real io: the pinned VIP map of `pinDir` and one packet socket per interface, opened on first use. */
export function pinnedTakeoverIo(pinDir: string): TakeoverIo {
  let map: BpfMap | undefined;
  let flowMap: BpfMap | undefined;
  const openFlows = () => (flowMap ??= BpfMap.openPinned(join(pinDir, FLOW_MAP_NAMES.flows)));
  const sockets = new Map<string, PacketSocket>();
  // A packet socket stays bound to the ifindex it was opened on: a recreated interface needs a new one.
  const socketFor = (ifname: string, ifindex: number): PacketSocket => {
    let socket = sockets.get(ifname);
    if (socket?.ifindex !== ifindex) {
      socket?.close();
      sockets.delete(ifname);
      socket = PacketSocket.open(ifname);
      sockets.set(ifname, socket);
    }
    return socket;
  };
  return {
    prepare(interfaces, flows) {
      map ??= BpfMap.openPinned(join(pinDir, MAP_NAMES.vips));
      if (flows) openFlows();
      for (const [ifname, ifindex] of interfaces) socketFor(ifname, ifindex);
    },
    readFlow(key) {
      return openFlows().lookup(key);
    },
    writeFlows(entries) {
      openFlows().updateMany(entries, 'any');
    },
    writeEntries(entries) {
      map ??= BpfMap.openPinned(join(pinDir, MAP_NAMES.vips));
      map.updateMany(entries, 'any');
    },
    sendFrames(ifname, ifindex, frames) {
      socketFor(ifname, ifindex).sendBatch(frames, 0);
    },
    close() {
      map?.close();
      flowMap?.close();
      for (const s of sockets.values()) s.close();
      sockets.clear();
    },
  };
}

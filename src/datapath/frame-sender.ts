import { PacketSocket } from './packet-socket.js';

/** What the sender needs of a socket (PacketSocket; a fake in unit tests). */
export interface FrameSocket {
  sendBatch(frames: readonly Buffer[], start: number): number;
  close(): void;
}

/** `urgent`: first frames after a takeover; `bulk`: burst repeats and periodic refreshes. */
export type FramePriority = 'urgent' | 'bulk';

export interface FrameSenderOptions {
  /** Frames per second across all interfaces (token bucket). */
  ratePerSec?: number;
  /** Pacing tick; at most ratePerSec × tickMs / 1000 frames go out per tick. */
  tickMs?: number;
  open?: (ifname: string) => FrameSocket;
  onError?: (ifname: string, error: unknown) => void;
}

export const DEFAULT_FRAME_RATE = 20_000;
/** 400 frames a tick at the default rate: a refresh second of 10,000 VIPs (666 frames) in two ticks. */
const DEFAULT_TICK_MS = 20;

/**
 * Whole milliseconds until the next window: the event loop's timers run at 1 ms resolution, and a
 * timer asked for 4.2 ms wakes the loop at 4 ms only to find itself not due and sleep 1 ms more (two
 * wake-ups per window instead of one).
 */
export function nextWindowWaitMs(windowStart: number, tickMs: number, now: number): number {
  return Math.max(0, Math.ceil(windowStart + tickMs - now));
}

/** Frames of one interface and priority, first in first out. */
interface Lane {
  items: Buffer[][];
  head: number;
  /** Next frame of items[head]. */
  offset: number;
  frames: number;
}

/**
 * Sends gratuitous frames without ever holding the event loop: one long-lived packet socket per
 * interface, frames queued by priority and sent in paced sendmmsg batches (a tick sends at most its
 * share of ratePerSec), so the heartbeat and gossip timers run between ticks whatever the number of VIPs.
 * A socket whose queue is full (EAGAIN) is retried on the next tick.
 */
export class FrameSender {
  private readonly sockets = new Map<string, FrameSocket>();
  private readonly lanes: Record<FramePriority, Map<string, Lane>> = { urgent: new Map(), bulk: new Map() };
  private readonly ratePerSec: number;
  private readonly tickMs: number;
  private readonly open: (ifname: string) => FrameSocket;
  private timer: NodeJS.Timeout | undefined;
  private queued = 0;
  private sentTotal = 0;
  private closed = false;
  private windowStart = Number.NEGATIVE_INFINITY;
  private windowLeft = 0;

  constructor(private readonly options: FrameSenderOptions = {}) {
    this.ratePerSec = options.ratePerSec ?? DEFAULT_FRAME_RATE;
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.open = options.open ?? ((ifname) => PacketSocket.open(ifname));
    if (!(this.ratePerSec > 0) || !(this.tickMs > 0)) throw new Error('frame rate and tick must be positive');
  }

  /**
   * Queues frames for `ifname`; they go out on the next ticks, urgent ones first. Urgent frames go out at
   * once, inside this call, as long as the current tick's share of the rate is not used up.
   */
  send(ifname: string, frames: readonly Buffer[], priority: FramePriority = 'bulk'): void {
    if (this.closed || frames.length === 0) return;
    const lanes = this.lanes[priority];
    let lane = lanes.get(ifname);
    if (!lane) {
      lane = { items: [], head: 0, offset: 0, frames: 0 };
      lanes.set(ifname, lane);
    }
    lane.items.push([...frames]);
    lane.frames += frames.length;
    this.queued += frames.length;
    // The first frames of a takeover leave at once: waiting for the event loop to come round again puts
    // the rest of the decision round (a stalled loop, on a busy host) between the takeover and the clients
    // hearing of it. Every VIP of the round, not only the first: their clients wait alike.
    if (priority === 'urgent' && this.windowBudget() > 0) this.run();
    else if (!this.timer) this.timer = setTimeout(() => this.tick(), 0);
  }

  /**
   * Drops the socket and queue of an interface that went away or was recreated (a packet socket stays
   * bound to the old ifindex); the next frames for the name open a new socket.
   */
  forget(ifname: string): void {
    for (const lanes of Object.values(this.lanes)) {
      const lane = lanes.get(ifname);
      if (lane) this.queued -= lane.frames;
      lanes.delete(ifname);
    }
    this.sockets.get(ifname)?.close();
    this.sockets.delete(ifname);
  }

  /** Frames waiting. */
  pending(): number {
    return this.queued;
  }

  /** Frames sent since start. */
  sent(): number {
    return this.sentTotal;
  }

  /** Drops what is queued and closes the sockets. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lanes.urgent.clear();
    this.lanes.bulk.clear();
    this.queued = 0;
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
  }

  /** Frames the current tick window may still send (a new window every tickMs). */
  private windowBudget(): number {
    const now = performance.now();
    if (now - this.windowStart >= this.tickMs) {
      this.windowStart = now;
      this.windowLeft = Math.max(1, Math.floor((this.ratePerSec * this.tickMs) / 1000));
    }
    return this.windowLeft;
  }

  private tick(): void {
    this.timer = undefined;
    this.run();
  }

  /** Sends what the current window allows, urgent frames first; the rest waits for the next window. */
  private run(): void {
    let budget = this.windowBudget();
    const full = new Set<string>();
    for (const priority of ['urgent', 'bulk'] as const) {
      for (const [ifname, lane] of this.lanes[priority]) {
        if (budget <= 0) break;
        if (full.has(ifname)) continue;
        const sent = this.drain(ifname, lane, budget);
        budget -= sent;
        if (lane.frames === 0) this.lanes[priority].delete(ifname);
        else if (budget > 0) full.add(ifname); // the socket took less than offered: its queue is full
      }
    }
    this.windowLeft = budget;
    if (this.queued > 0 && !this.closed && !this.timer) {
      const wait = nextWindowWaitMs(this.windowStart, this.tickMs, performance.now());
      this.timer = setTimeout(() => this.tick(), wait);
    }
  }

  /** Sends up to `budget` frames of a lane in sendmmsg batches; returns how many went out. */
  private drain(ifname: string, lane: Lane, budget: number): number {
    const batch: Buffer[] = [];
    for (let i = lane.head, offset = lane.offset; i < lane.items.length && batch.length < budget; i++) {
      const item = lane.items[i]!;
      for (let k = offset; k < item.length && batch.length < budget; k++) batch.push(item[k]!);
      offset = 0;
    }
    let sent = 0;
    try {
      const socket = this.socket(ifname);
      while (sent < batch.length) {
        const n = socket.sendBatch(batch, sent);
        if (n === 0) break;
        sent += n;
      }
    } catch (error) {
      // The interface is gone or refuses frames: drop its queue, report once, reopen on the next send.
      this.options.onError?.(ifname, error);
      this.sockets.get(ifname)?.close();
      this.sockets.delete(ifname);
      this.queued -= lane.frames;
      lane.frames = 0;
      return sent;
    }
    this.consume(lane, sent);
    this.sentTotal += sent;
    this.queued -= sent;
    return sent;
  }

  private consume(lane: Lane, count: number): void {
    lane.frames -= count;
    let left = count;
    while (left > 0) {
      const item = lane.items[lane.head]!;
      const take = Math.min(left, item.length - lane.offset);
      lane.offset += take;
      left -= take;
      if (lane.offset === item.length) {
        lane.head++;
        lane.offset = 0;
      }
    }
    if (lane.head > 1024 && lane.head * 2 > lane.items.length) {
      lane.items = lane.items.slice(lane.head);
      lane.head = 0;
    }
  }

  private socket(ifname: string): FrameSocket {
    let socket = this.sockets.get(ifname);
    if (!socket) {
      socket = this.open(ifname);
      this.sockets.set(ifname, socket);
    }
    return socket;
  }
}

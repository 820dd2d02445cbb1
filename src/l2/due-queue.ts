import { lowerBound } from '../util/sorted.js';

/**
 * Items due at given times, taken out in time order: times are rounded up to `slotMs`, so the thousands of
 * VIPs announced in one reconcile share a few slots and one timer, instead of a timer each.
 */
export class DueQueue<T> {
  private readonly slots = new Map<number, T[]>();
  /** Slot times, ascending. */
  private readonly order: number[] = [];
  private size = 0;

  constructor(private readonly slotMs = 10) {}

  add(at: number, item: T): void {
    const slot = Math.ceil(at / this.slotMs) * this.slotMs;
    let items = this.slots.get(slot);
    if (!items) {
      items = [];
      this.slots.set(slot, items);
      this.order.splice(lowerBound(this.order, slot), 0, slot);
    }
    items.push(item);
    this.size++;
  }

  /** Time of the earliest slot, if any. */
  nextAt(): number | undefined {
    return this.order[0];
  }

  /** Up to `max` items due at or before `now`, earliest first. */
  takeDue(now: number, max: number): T[] {
    const out: T[] = [];
    while (out.length < max && this.order.length > 0) {
      const slot = this.order[0]!;
      if (slot > now) break;
      const items = this.slots.get(slot)!;
      const take = items.splice(0, max - out.length);
      out.push(...take);
      this.size -= take.length;
      if (items.length === 0) {
        this.slots.delete(slot);
        this.order.shift();
      }
    }
    return out;
  }

  clear(): void {
    this.slots.clear();
    this.order.length = 0;
    this.size = 0;
  }

  get length(): number {
    return this.size;
  }
}

/**
 * Frames the kernel dropped after this node's XDP program returned a verdict (an XDP_TX it could not
 * transmit), per interface and action, read from the transmit-error counter at scrape time.
 */
import { Counter, type Registry } from 'prom-client';
import { totalsCounter } from './totals.js';

export interface TransmitErrorSample {
  interface: string;
  /** The verdict the kernel could not carry out: 'tx', 'aborted', ... */
  action: string;
  frames: bigint;
}

export function registerTransmitErrors(registry: Registry, read: () => readonly TransmitErrorSample[]): void {
  const seen = new Map<string, number>();
  const errors: Counter<'interface' | 'action'> = new Counter({
    name: 'herald_xdp_transmit_errors_total',
    help: "Frames the kernel dropped after Herald's XDP program returned its verdict on the interface (action tx: an ARP/NDP reply or a steered frame the driver could not transmit, e.g. a veth peer without an XDP program in native mode, a full TX ring). Should stay flat.",
    labelNames: ['interface', 'action'],
    registers: [registry],
    collect() {
      for (const e of read())
        totalsCounter(errors, seen, { interface: e.interface, action: e.action }, Number(e.frames));
    },
  });
}

/** The nonzero ones, for `herald status`. */
export function nonzeroTransmitErrors(
  samples: readonly TransmitErrorSample[],
): Array<{ interface: string; action: string; frames: number }> {
  return samples
    .filter((e) => e.frames > 0n)
    .map((e) => ({ interface: e.interface, action: e.action, frames: Number(e.frames) }))
    .sort((a, b) => a.interface.localeCompare(b.interface) || a.action.localeCompare(b.action));
}

/**
 * Gossip health in /metrics: whether gossip is encrypted, every dropped packet/stream by reason, and
 * name conflicts. Read from the membership's counters at scrape time.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { totalsCounter } from './totals.js';

export interface GossipHealth {
  encrypted: boolean;
  dropped: Readonly<Record<string, number>>;
  nameConflicts: number;
}

export function registerGossipHealth(registry: Registry, read: () => GossipHealth | undefined): void {
  const registers = [registry];
  const seen = new Map<string, number>();
  new Gauge({
    name: 'herald_gossip_encrypted',
    help: 'Gossip is encrypted and authenticated with a key (1) or plaintext (0: anyone on the LAN can take part).',
    registers,
    collect() {
      const h = read();
      if (h) this.set(h.encrypted ? 1 : 0);
    },
  });
  const dropped: Counter<'reason'> = new Counter({
    name: 'herald_gossip_dropped_total',
    help: 'Gossip packets, streams and messages dropped, by reason (unauthenticated = wrong key, plaintext = no key, replayed, malformed, ...).',
    labelNames: ['reason'],
    registers,
    collect() {
      const h = read();
      if (h) for (const [reason, n] of Object.entries(h.dropped)) totalsCounter(dropped, seen, { reason }, n);
    },
  });
  const conflicts: Counter = new Counter({
    name: 'herald_gossip_name_conflicts_total',
    help: 'Gossip that claimed a member name alive at another address (ignored; a duplicate --node).',
    registers,
    collect() {
      const h = read();
      if (h) totalsCounter(conflicts, seen, {}, h.nameConflicts);
    },
  });
}

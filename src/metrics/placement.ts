import { Counter, Gauge, type Registry } from 'prom-client';

export interface PlacementMetrics {
  moves: Counter<'reason'>;
  mapVersion: Gauge;
  placedVips: Gauge;
}

/** Bandwidth placement: moves decided by this node as coordinator, and the map every node applies. */
export function createPlacementMetrics(registry: Registry): PlacementMetrics {
  const registers = [registry];
  return {
    moves: new Counter({
      name: 'herald_placement_moves_total',
      help: 'VIPs moved by bandwidth placement while this node coordinated, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    mapVersion: new Gauge({
      name: 'herald_placement_map_version',
      help: 'Version of the bandwidth placement map this node applies (0: none yet).',
      registers,
    }),
    placedVips: new Gauge({
      name: 'herald_placement_placed_vips',
      help: 'VIPs whose owner comes from the placement map instead of the rendezvous hash.',
      registers,
    }),
  };
}

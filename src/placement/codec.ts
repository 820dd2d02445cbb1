import { z } from 'zod';
import type { PlacementEntry } from './decide.js';
import type { PlacementMap } from './map.js';

/** Frame prefix of a placement map inside a memberlist user broadcast: "HP" then a version byte. */
const MAGIC = Buffer.from('HP', 'latin1');
const VERSION = 1;
/** Broadcast key: a newer map replaces an older one still queued for retransmission. */
export const PLACEMENT_GOSSIP_KEY = 'herald.placement';
/** Entries beyond this are left out (oldest moves first): a map must fit one gossip packet. */
export const PLACEMENT_MAX_BYTES = 1200;

const WireSchema = z.strictObject({
  v: z.int().min(0),
  c: z.string().min(1).max(253),
  e: z.array(z.tuple([z.string().min(2).max(45), z.string().min(1).max(253), z.number().finite()])),
});

export function isPlacementMessage(buf: Uint8Array): boolean {
  return buf.length >= 3 && buf[0] === MAGIC[0] && buf[1] === MAGIC[1];
}

/**
 * "HP" + version + JSON. Keeps the newest moves when the map would not fit the size bound; VIPs left out
 * return to their rendezvous owner, which is always a valid owner.
 */
export function encodePlacement(map: PlacementMap, maxBytes = PLACEMENT_MAX_BYTES): Buffer {
  const entries = [...map.entries].sort((a, b) => b[1].movedAtMs - a[1].movedAtMs || (a[0] < b[0] ? -1 : 1));
  for (let keep = entries.length; keep >= 0; keep--) {
    const body = JSON.stringify({
      v: map.version,
      c: map.coordinator,
      e: entries.slice(0, keep).map(([ip, e]) => [ip, e.node, e.movedAtMs]),
    });
    const buf = Buffer.concat([MAGIC, Buffer.from([VERSION]), Buffer.from(body)]);
    if (buf.length <= maxBytes) return buf;
  }
  throw new Error(`placement map of ${map.coordinator} does not fit ${maxBytes} bytes even without entries`);
}

/** Decodes a placement message; throws an Error saying what is wrong with foreign or corrupt input. */
export function decodePlacement(buf: Uint8Array): PlacementMap {
  if (!isPlacementMessage(buf)) throw new Error('not a placement map (missing "HP" prefix)');
  if (buf[2] !== VERSION) throw new Error(`placement map version ${buf[2]} not supported (reads ${VERSION})`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(buf.subarray(3)).toString('utf8'));
  } catch (error) {
    throw new Error(`corrupt placement map: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = WireSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`corrupt placement map: ${parsed.error.issues[0]?.message ?? 'bad shape'}`);
  const entries = new Map<string, PlacementEntry>();
  for (const [ip, node, movedAtMs] of parsed.data.e) entries.set(ip, { node, movedAtMs });
  return { version: parsed.data.v, coordinator: parsed.data.c, entries };
}

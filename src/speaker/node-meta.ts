import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { encodeFailing } from '../health/gossip.js';
import type { NodeInterface } from '../l2/interfaces.js';

/**
 * What a speaker tells the others about itself through gossip metadata. Every speaker needs every node's
 * announcing interfaces to compute the same owner for a VIP. Versioned: a newer speaker may add optional
 * fields; an older one ignores them.
 */
export const NODE_META_VERSION = 1;
/** memberlist's limit for node metadata; keep well inside it. */
export const NODE_META_MAX_BYTES = 512;

const NodeMetaSchema = z.looseObject({
  v: z.int().min(1),
  ifs: z.array(z.looseObject({ n: z.string().min(1), a: z.array(z.string()), m: z.string().optional() })),
  labels: z.record(z.string(), z.string()).optional(),
  pv: z.int().min(0).optional(),
  hc: z.record(z.string(), z.string()).optional(),
});

export interface NodeMeta {
  interfaces: NodeInterface[];
  /** Node labels (standalone mode: from the speaker's flags; Kubernetes mode: from the Node object). */
  labels: Record<string, string>;
  /** Version of the bandwidth placement map this node applied last (0 or absent: none). */
  placementVersion?: number;
  /** Services whose health check fails on this node, with a short reason (health/gossip.ts). */
  failing?: Record<string, string>;
}

export function encodeNodeMeta(meta: NodeMeta): Buffer {
  const body = {
    v: NODE_META_VERSION,
    ifs: meta.interfaces.map((i) => ({ n: i.name, a: [...i.cidrs], ...(i.mac ? { m: i.mac } : {}) })),
    ...(Object.keys(meta.labels).length > 0 ? { labels: meta.labels } : {}),
    ...(meta.placementVersion ? { pv: meta.placementVersion } : {}),
  };
  const failing = meta.failing ?? {};
  if (Object.keys(failing).length > 0) {
    // Health results share the limit with the rest; they shrink to fit (health/gossip.ts).
    const rest = Buffer.byteLength(JSON.stringify(body)) + ',"hc":'.length;
    Object.assign(body, { hc: encodeFailing(new Map(Object.entries(failing)), NODE_META_MAX_BYTES - rest) });
  }
  const buf = Buffer.from(JSON.stringify(body));
  if (buf.length > NODE_META_MAX_BYTES) {
    throw new Error(
      `node metadata is ${buf.length} bytes, over the ${NODE_META_MAX_BYTES}-byte gossip limit: announce on fewer interfaces or drop labels`,
    );
  }
  return buf;
}

/** Decodes a peer's metadata; undefined when it is empty or unreadable (the peer is then not eligible). */
export function decodeNodeMeta(buf: Buffer): NodeMeta | undefined {
  if (buf.length === 0) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = NodeMetaSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  return {
    // Prefixes that do not parse are dropped here, so one bad peer cannot break every decision.
    interfaces: parsed.data.ifs.map((i) => ({
      name: i.n,
      cidrs: i.a.filter(isCidr),
      ...(i.m !== undefined && /^[0-9a-f]{12}$/.test(i.m) ? { mac: i.m } : {}),
    })),
    labels: parsed.data.labels ?? {},
    ...(parsed.data.pv !== undefined ? { placementVersion: parsed.data.pv } : {}),
    ...(parsed.data.hc ? { failing: parsed.data.hc } : {}),
  };
}

function isCidr(text: string): boolean {
  try {
    ipaddr.parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}

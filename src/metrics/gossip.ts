import ipaddr from 'ipaddr.js';
import { statusType, toObjectOptions } from '../util/proto.js';
import { type Concentration, clusterConcentration, type NodeRate } from './cluster.js';
import type { VipRate } from './traffic.js';

/** Frame prefix of a rate report inside a memberlist user broadcast: "HR" then a version byte. */
export const RATE_REPORT_MAGIC = Buffer.from('HR', 'latin1');
export const RATE_REPORT_VERSION = 1;
/** Memberlist broadcast key: a newer report from a node replaces its older one still in flight. */
export const RATE_REPORT_GOSSIP_KEY = 'herald.vip-rates';
/** Default bound on an encoded report: fits a memberlist UDP packet next to its own messages. */
export const DEFAULT_RATE_REPORT_MAX_BYTES = 1024;

export interface RateReport {
  node: string;
  seq: number;
  epochUnixMs: number;
  atUnixMs: number;
  windowMs: number;
  totalBitsPerSecond: number;
  totalPacketsPerSecond: number;
  capacityBits: number;
  /** Busiest VIPs first; only as many as fit the size bound. */
  vips: Array<{ ip: string } & VipRate>;
  omittedVips: number;
}

export class RateReportError extends Error {
  override readonly name = 'RateReportError';
}

/** True when a gossip payload is a rate report (of any version); other payloads share the channel. */
export function isRateReport(buf: Uint8Array): boolean {
  return buf.length >= 3 && buf[0] === RATE_REPORT_MAGIC[0] && buf[1] === RATE_REPORT_MAGIC[1];
}

/**
 * Encodes a report as "HR" + version + protobuf `herald.v1.VipRateReport`, never longer than `maxBytes`:
 * totals are always exact; VIPs are kept busiest first while they fit, the rest counted in
 * `omittedVips`. Throws when even a report without VIPs does not fit.
 */
export function encodeRateReport(report: RateReport, maxBytes = DEFAULT_RATE_REPORT_MAX_BYTES): Buffer {
  const Report = statusType('VipRateReport');
  const Rate = statusType('VipRate');
  const base = {
    node: report.node,
    seq: report.seq,
    epochUnixMs: report.epochUnixMs,
    atUnixMs: report.atUnixMs,
    windowMs: report.windowMs,
    totalRxBitsPerSecond: report.totalBitsPerSecond,
    totalRxPacketsPerSecond: report.totalPacketsPerSecond,
    capacityBits: report.capacityBits,
  };
  const sorted = [...report.vips].sort((a, b) => b.bitsPerSecond - a.bitsPerSecond || (a.ip < b.ip ? -1 : 1));
  // omitted_vips is a varint of at most 5 bytes + 1 tag byte; reserve it up front.
  let budget = maxBytes - 3 - Report.encode(Report.fromObject(base)).finish().length - 6;
  if (budget < 0) throw new RateReportError(`rate report of node ${report.node} exceeds ${maxBytes} bytes`);
  const vips: Array<{ ip: Buffer; rxBitsPerSecond: number; rxPacketsPerSecond: number }> = [];
  for (const v of sorted) {
    const entry = {
      ip: Buffer.from(ipaddr.parse(v.ip).toByteArray()),
      rxBitsPerSecond: v.bitsPerSecond,
      rxPacketsPerSecond: v.packetsPerSecond,
    };
    const len = Rate.encode(Rate.fromObject(entry)).finish().length;
    const size = 1 + (len < 128 ? 1 : 2) + len;
    if (size > budget) break;
    budget -= size;
    vips.push(entry);
  }
  const omittedVips = report.omittedVips + sorted.length - vips.length;
  const body = Report.encode(Report.fromObject({ ...base, vips, omittedVips })).finish();
  return Buffer.concat([RATE_REPORT_MAGIC, Buffer.from([RATE_REPORT_VERSION]), body]);
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Decodes a report; throws RateReportError saying what is wrong for foreign, future or corrupt input. */
export function decodeRateReport(buf: Uint8Array): RateReport {
  if (!isRateReport(buf)) throw new RateReportError('not a rate report (missing "HR" prefix)');
  if (buf[2] !== RATE_REPORT_VERSION) {
    throw new RateReportError(
      `rate report version ${buf[2]} not supported (this speaker reads ${RATE_REPORT_VERSION})`,
    );
  }
  const Report = statusType('VipRateReport');
  let obj: Record<string, unknown>;
  try {
    obj = Report.toObject(Report.decode(buf.subarray(3)), toObjectOptions);
  } catch (error) {
    throw new RateReportError(
      `corrupt rate report: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const node = typeof obj.node === 'string' ? obj.node : '';
  if (!node) throw new RateReportError('rate report without node name');
  const vips: RateReport['vips'] = [];
  for (const raw of Array.isArray(obj.vips) ? (obj.vips as Array<Record<string, unknown>>) : []) {
    const bytes = raw.ip;
    if (!(bytes instanceof Uint8Array) || (bytes.length !== 4 && bytes.length !== 16)) {
      throw new RateReportError(
        `rate report of ${node}: VIP address of ${String((bytes as Uint8Array)?.length)} bytes`,
      );
    }
    vips.push({
      ip: ipaddr.fromByteArray([...bytes]).toString(),
      bitsPerSecond: num(raw.rxBitsPerSecond),
      packetsPerSecond: num(raw.rxPacketsPerSecond),
    });
  }
  return {
    node,
    seq: num(obj.seq),
    epochUnixMs: num(obj.epochUnixMs),
    atUnixMs: num(obj.atUnixMs),
    windowMs: num(obj.windowMs),
    totalBitsPerSecond: num(obj.totalRxBitsPerSecond),
    totalPacketsPerSecond: num(obj.totalRxPacketsPerSecond),
    capacityBits: num(obj.capacityBits),
    vips,
    omittedVips: num(obj.omittedVips),
  };
}

/**
 * Produces this node's report at most once per `minIntervalMs` (call it on every sampling tick; hand a
 * returned buffer to `Memberlist.broadcast`).
 */
export class RateReportPublisher {
  private seq = 0;
  private lastMs: number | undefined;
  readonly epochUnixMs = Date.now();

  constructor(
    readonly node: string,
    readonly opts: { minIntervalMs?: number; maxBytes?: number; windowMs: number },
  ) {}

  next(
    nowMs: number,
    rates: ReadonlyMap<string, VipRate>,
    capacityBits: number,
    atUnixMs = Date.now(),
  ): Buffer | undefined {
    if (this.lastMs !== undefined && nowMs - this.lastMs < (this.opts.minIntervalMs ?? 5000))
      return undefined;
    this.lastMs = nowMs;
    let totalBitsPerSecond = 0;
    let totalPacketsPerSecond = 0;
    const vips: RateReport['vips'] = [];
    for (const [ip, r] of rates) {
      totalBitsPerSecond += r.bitsPerSecond;
      totalPacketsPerSecond += r.packetsPerSecond;
      if (r.bitsPerSecond > 0) vips.push({ ip, ...r });
    }
    return encodeRateReport(
      {
        node: this.node,
        seq: ++this.seq,
        epochUnixMs: this.epochUnixMs,
        atUnixMs,
        windowMs: this.opts.windowMs,
        totalBitsPerSecond,
        totalPacketsPerSecond,
        capacityBits,
        vips,
        omittedVips: 0,
      },
      this.opts.maxBytes,
    );
  }
}

/** The latest report per node, fed from gossip; answers the cluster concentration. */
export class ClusterRateView {
  private readonly reports = new Map<string, { report: RateReport; receivedAtMs: number }>();

  /** Stores a decoded report unless an equal or newer one from the same process is already held. */
  accept(report: RateReport, receivedAtMs: number): boolean {
    const held = this.reports.get(report.node)?.report;
    if (held && held.epochUnixMs === report.epochUnixMs && held.seq >= report.seq) return false;
    if (held && report.epochUnixMs < held.epochUnixMs) return false;
    this.reports.set(report.node, { report, receivedAtMs });
    return true;
  }

  /** Decodes and stores a gossip payload; throws RateReportError for a bad one (the caller logs it). */
  ingest(buf: Uint8Array, receivedAtMs: number): RateReport {
    const report = decodeRateReport(buf);
    this.accept(report, receivedAtMs);
    return report;
  }

  /** Every report received within `maxAgeMs` of `nowMs` (same clock as the ingest times). */
  fresh(nowMs: number, maxAgeMs: number): Array<{ node: string; report: RateReport; receivedAtMs: number }> {
    return [...this.reports.values()]
      .filter((r) => nowMs - r.receivedAtMs <= maxAgeMs)
      .map(({ report, receivedAtMs }) => ({ node: report.node, report, receivedAtMs }));
  }

  forget(node: string): void {
    this.reports.delete(node);
  }

  get(node: string): RateReport | undefined {
    return this.reports.get(node)?.report;
  }

  nodeRates(): NodeRate[] {
    return [...this.reports.values()].map(({ report, receivedAtMs }) => ({
      node: report.node,
      bitsPerSecond: report.totalBitsPerSecond,
      receivedAtMs,
    }));
  }

  concentration(nowMs: number, maxAgeMs: number, members?: Iterable<string>): Concentration {
    return clusterConcentration(this.nodeRates(), { nowMs, maxAgeMs, members });
  }
}

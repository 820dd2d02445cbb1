import type { CounterSample, VipRate } from './traffic.js';

/** One `herald_announced` series: this node announces `ip` for `service` over `protocol`. */
export interface Announcement {
  service: string;
  protocol: 'layer2' | 'bgp';
  node: string;
  ip: string;
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** Escapes a label value for the Prometheus text format. */
export function escapeLabelValue(value: string): string {
  return NEEDS_ESCAPE.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : value;
}

/** A number in the text format (NaN / ±Inf spelled the Prometheus way). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const HELP = {
  packets: 'Packets received for the VIP on this node, counted by XDP.',
  bytes: 'Bytes (whole frames) received for the VIP on this node, counted by XDP.',
  bytesRate: 'VIP ingress on this node over the rate window, bytes/s (whole frames, rounded).',
  requests: 'ARP requests and IPv6 neighbor solicitations received for the VIP on this node.',
  responses: 'ARP replies and neighbor advertisements sent for the VIP by this node (XDP responder).',
  gratuitous: 'Gratuitous ARP / unsolicited NA sent for the VIP by this node.',
  announced: 'The service is announced from this node for the IP (1).',
};

function header(name: string, type: 'counter' | 'gauge', help: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

/**
 * Renders the per-VIP families directly in the text format. With 10,000 VIPs these are ~70,000 series;
 * prom-client's generic labels/hash path costs ~100 ms for that, this a fraction (see bench/metrics):
 * one pass over the counters, label strings cached per IP, and the announced / gratuitous families
 * re-rendered only when they change. Families are always emitted with HELP/TYPE, even when empty.
 */
export class VipFamilyRenderer {
  private labelCache = new Map<string, string>();
  private readonly gratuitous = new Map<string, number>();
  private gratuitousText: string | undefined;
  private announced: readonly Announcement[] = [];
  private announcedText: string | undefined;

  gratuitousSent(ip: string, count: number): void {
    this.gratuitous.set(ip, (this.gratuitous.get(ip) ?? 0) + count);
    this.gratuitousText = undefined;
  }

  setAnnounced(announcements: readonly Announcement[]): void {
    this.announced = [...announcements];
    this.announcedText = undefined;
  }

  render(sample: CounterSample | undefined, rates: ReadonlyMap<string, VipRate>): string {
    const packets: string[] = [header('herald_vip_rx_packets_total', 'counter', HELP.packets)];
    const bytes: string[] = [header('herald_vip_rx_bytes_total', 'counter', HELP.bytes)];
    const rate: string[] = [header('herald_vip_rx_bytes_per_second', 'gauge', HELP.bytesRate)];
    const requests: string[] = [header('herald_layer2_requests_received_total', 'counter', HELP.requests)];
    const responses: string[] = [header('herald_layer2_responses_sent_total', 'counter', HELP.responses)];
    const labels = new Map<string, string>();
    for (const [ip, c] of sample?.counters ?? []) {
      const label = this.labelCache.get(ip) ?? `{ip="${escapeLabelValue(ip)}"} `;
      labels.set(ip, label);
      const r = rates.get(ip);
      packets.push(`herald_vip_rx_packets_total${label}${c.rxPackets}\n`);
      bytes.push(`herald_vip_rx_bytes_total${label}${c.rxBytes}\n`);
      rate.push(
        `herald_vip_rx_bytes_per_second${label}${r ? formatValue(Math.round(r.bitsPerSecond / 8)) : '0'}\n`,
      );
      requests.push(`herald_layer2_requests_received_total${label}${c.arpRequests + c.ndpRequests}\n`);
      responses.push(`herald_layer2_responses_sent_total${label}${c.replies}\n`);
    }
    this.labelCache = labels; // keeps only current VIPs
    this.gratuitousText ??= this.renderGratuitous();
    this.announcedText ??= this.renderAnnounced();
    return (
      packets.join('') +
      bytes.join('') +
      rate.join('') +
      requests.join('') +
      responses.join('') +
      this.gratuitousText +
      this.announcedText
    );
  }

  private renderGratuitous(): string {
    const out = [header('herald_layer2_gratuitous_sent_total', 'counter', HELP.gratuitous)];
    for (const [ip, n] of this.gratuitous) {
      out.push(`herald_layer2_gratuitous_sent_total{ip="${escapeLabelValue(ip)}"} ${n}\n`);
    }
    return out.join('');
  }

  private renderAnnounced(): string {
    const out = [header('herald_announced', 'gauge', HELP.announced)];
    for (const a of this.announced) {
      out.push(
        `herald_announced{service="${escapeLabelValue(a.service)}",protocol="${a.protocol}",` +
          `node="${escapeLabelValue(a.node)}",ip="${escapeLabelValue(a.ip)}"} 1\n`,
      );
    }
    return out.join('');
  }
}

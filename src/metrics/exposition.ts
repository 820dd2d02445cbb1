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

function header(out: string[], name: string, type: 'counter' | 'gauge', help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

/**
 * Renders the per-VIP families directly in the text format. With 10,000 VIPs these are ~70,000 series;
 * prom-client's generic labels/hash path costs ~100 ms for that, this costs a few ms (see
 * bench/metrics). Families are always emitted with HELP/TYPE, even when empty.
 */
export function renderVipFamilies(
  sample: CounterSample | undefined,
  rates: ReadonlyMap<string, VipRate>,
  gratuitous: ReadonlyMap<string, number>,
  announced: readonly Announcement[],
): string {
  const out: string[] = [];
  const entries = sample ? [...sample.counters] : [];
  const labels = entries.map(([ip]) => `{ip="${escapeLabelValue(ip)}"} `);
  const counterFamily = (name: string, help: string, pick: (i: number) => string) => {
    header(out, name, 'counter', help);
    for (let i = 0; i < entries.length; i++) out.push(name + labels[i] + pick(i));
  };
  counterFamily(
    'herald_vip_rx_packets_total',
    'Packets received for the VIP on this node, counted by XDP.',
    (i) => String(entries[i]![1].rxPackets),
  );
  counterFamily(
    'herald_vip_rx_bytes_total',
    'Bytes (whole frames) received for the VIP on this node, counted by XDP.',
    (i) => String(entries[i]![1].rxBytes),
  );
  header(
    out,
    'herald_vip_rx_bits_per_second',
    'gauge',
    'VIP ingress on this node over the rate window, bits/s.',
  );
  for (let i = 0; i < entries.length; i++) {
    const rate = rates.get(entries[i]![0]);
    out.push('herald_vip_rx_bits_per_second' + labels[i] + formatValue(rate ? rate.bitsPerSecond : 0));
  }
  counterFamily(
    'herald_layer2_requests_received_total',
    'ARP requests and IPv6 neighbor solicitations received for the VIP on this node.',
    (i) => String(entries[i]![1].arpRequests + entries[i]![1].ndpRequests),
  );
  counterFamily(
    'herald_layer2_responses_sent_total',
    'ARP replies and neighbor advertisements sent for the VIP by this node (XDP responder).',
    (i) => String(entries[i]![1].replies),
  );
  header(
    out,
    'herald_layer2_gratuitous_sent_total',
    'counter',
    'Gratuitous ARP / unsolicited NA sent for the VIP by this node.',
  );
  for (const [ip, n] of gratuitous)
    out.push(`herald_layer2_gratuitous_sent_total{ip="${escapeLabelValue(ip)}"} ${n}`);
  header(out, 'herald_announced', 'gauge', 'The service is announced from this node for the IP (1).');
  for (const a of announced) {
    out.push(
      `herald_announced{service="${escapeLabelValue(a.service)}",protocol="${a.protocol}",node="${escapeLabelValue(a.node)}",ip="${escapeLabelValue(a.ip)}"} 1`,
    );
  }
  out.push('');
  return out.join('\n');
}

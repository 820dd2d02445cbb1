import type { ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LabCluster, LabHost } from './cluster.js';

/**
 * Paced ingress traffic for the lab, run inside a client namespace; bounded in rate and time:
 *
 *   node udp-load.js MAX_MS SIZE IP=BITS_PER_SECOND[,IP=BITS_PER_SECOND...]
 *
 * sends SIZE-byte UDP datagrams to port 9 (discard) of each IP at its rate, counted as the Ethernet frames
 * carry them (payload + UDP/IP/Ethernet headers), from several source ports per IP (several flows), until
 * MAX_MS or SIGTERM; then prints {"ms":..,"sent":{"IP":datagrams}}.
 */
export const UDP_LOAD_PORT = 9;
const SOURCES_PER_IP = 16;
const MAX_RATE_BITS = 200e6;
const MAX_DURATION_MS = 900_000;

/** Wire size of a datagram with `size` bytes of payload: Ethernet 14 + IP 20/40 + UDP 8. */
export function frameBytes(ip: string, size: number): number {
  return size + 14 + (ip.includes(':') ? 40 : 20) + 8;
}

async function run(maxMs: number, size: number, rates: Map<string, number>): Promise<void> {
  const t0 = Date.now();
  const payload = Buffer.alloc(size);
  const sent = new Map([...rates.keys()].map((ip) => [ip, 0]));
  const sockets = new Map<string, Socket[]>();
  for (const ip of rates.keys()) {
    sockets.set(
      ip,
      Array.from({ length: SOURCES_PER_IP }, () => createSocket(ip.includes(':') ? 'udp6' : 'udp4')),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  const finish = () => {
    clearTimeout(timer);
    for (const list of sockets.values()) for (const s of list) s.close();
    process.stdout.write(`${JSON.stringify({ ms: Date.now() - t0, sent: Object.fromEntries(sent) })}\n`);
  };
  process.once('SIGTERM', finish);
  const tick = () => {
    const elapsed = Date.now() - t0;
    if (elapsed >= maxMs) return finish();
    for (const [ip, bits] of rates) {
      const due = Math.floor((elapsed / 1000) * (bits / 8 / frameBytes(ip, size)));
      const list = sockets.get(ip) ?? [];
      for (let n = sent.get(ip) ?? 0; n < due; n++) {
        list[n % list.length]?.send(payload, UDP_LOAD_PORT, ip);
        sent.set(ip, n + 1);
      }
    }
    timer = setTimeout(tick, 5);
  };
  tick();
}

/** Parses `IP=RATE,...` (rates in bits per second). */
export function parseRates(text: string): Map<string, number> {
  const rates = new Map<string, number>();
  for (const part of text.split(',').filter(Boolean)) {
    const [ip = '', rate = ''] = part.split('=');
    const bits = Number(rate);
    if (!ip || rate === '' || !(bits >= 0))
      throw new Error(`udp-load: expected IP=BITS_PER_SECOND, got "${part}"`);
    rates.set(ip, Math.min(bits, MAX_RATE_BITS));
  }
  return rates;
}

/** Starts paced UDP load from a lab host to VIPs (bits per second each); stop it with SIGTERM. */
export function startUdpLoad(
  cluster: LabCluster,
  from: LabHost,
  rates: ReadonlyMap<string, number>,
  maxMs: number,
  size = 1200,
): ChildProcess {
  const script = fileURLToPath(import.meta.url);
  const spec = [...rates].map(([ip, bits]) => `${ip}=${Math.round(bits)}`).join(',');
  return cluster.lan.spawn(from.ns, process.execPath, [script, String(maxMs), String(size), spec], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [maxMs = '0', size = '1200', spec = ''] = process.argv.slice(2);
  await run(Math.min(Number(maxMs), MAX_DURATION_MS), Math.min(Number(size), 1400), parseRates(spec));
}

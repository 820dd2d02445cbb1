/**
 * Bounded ARP request stream for the replacement test, run inside the client namespace:
 *   datapath-stream <ifname> <senderIp> <targetIp> <count> <durationMs>
 * Sends exactly <count> broadcast ARP requests through AF_PACKET, paced evenly over <durationMs>.
 */
import { interfaceMac, sendRawFrame } from '../../src/datapath/netdev.js';
import { arpFrame } from '../bpf/xdp-frames.js';

const [ifname = '', spa = '', tpa = '', countText = '0', durationText = '0'] = process.argv.slice(2);
const count = Number(countText);
const durationMs = Number(durationText);
const frame = arpFrame({ spa, tpa, sha: interfaceMac(ifname), padTo: 60 });
const tickMs = 2;
const perTick = Math.max(1, Math.ceil(count / Math.max(1, durationMs / tickMs)));

let sent = 0;
while (sent < count) {
  for (let i = 0; i < perTick && sent < count; i++, sent++) sendRawFrame(ifname, frame);
  await new Promise((res) => setTimeout(res, tickMs));
}
console.log(JSON.stringify({ sent }));

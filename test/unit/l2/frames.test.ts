import t from 'tap';
import { formatMac, parseMac } from '../../../src/datapath/xdp-layout.js';
import {
  announcementFrames,
  clientRedirectFrame,
  gratuitousArp,
  neighborAdvertisement,
} from '../../../src/l2/frames.js';

const mac = parseMac('02:00:00:00:00:0a');

/** One's-complement sum over pseudo-header + ICMPv6 message including its checksum must be 0xffff. */
function verifyIcmpv6(frame: Buffer): boolean {
  const ip6 = frame.subarray(14, 54);
  const icmp = frame.subarray(54);
  let sum = 0;
  const words = (b: Buffer) => {
    for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
    if (b.length % 2) sum += (b[b.length - 1] ?? 0) << 8;
  };
  words(ip6.subarray(8, 40));
  sum += icmp.length;
  sum += 58;
  words(icmp);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum === 0xffff;
}

t.test('gratuitous ARP: request and reply, broadcast, sender = target = VIP', async (t) => {
  const [req, rep] = gratuitousArp('10.0.0.200', mac);
  for (const [frame, op] of [
    [req, 1],
    [rep, 2],
  ] as const) {
    t.equal(frame?.length, 42);
    t.equal(frame?.subarray(0, 6).toString('hex'), 'ffffffffffff');
    t.equal(frame?.subarray(6, 12).toString('hex'), '02000000000a');
    t.equal(frame?.readUInt16BE(12), 0x0806);
    t.equal(frame?.readUInt16BE(20), op);
    t.equal(frame?.subarray(22, 28).toString('hex'), '02000000000a', 'sender MAC');
    t.equal(frame?.subarray(28, 32).toString('hex'), '0a0000c8', 'sender IP');
    t.equal(frame?.subarray(38, 42).toString('hex'), '0a0000c8', 'target IP');
  }
});

t.test('unsolicited NA to all-nodes with Override and target link-layer option', async (t) => {
  const frame = neighborAdvertisement('fd00::200', mac);
  t.equal(frame.subarray(0, 6).toString('hex'), '333300000001');
  t.equal(frame.readUInt16BE(12), 0x86dd);
  t.equal(frame[14 + 7], 255, 'hop limit 255');
  t.equal(frame[54], 136, 'type NA');
  t.equal(frame[58], 0x20, 'Override only');
  t.equal(frame.subarray(62, 78).toString('hex'), 'fd000000000000000000000000000200', 'target');
  t.same([frame[78], frame[79]], [2, 1], 'TLLA option');
  t.equal(frame.subarray(80, 86).toString('hex'), '02000000000a');
  t.ok(verifyIcmpv6(frame), 'checksum verifies');
  const corrupted = Buffer.from(frame);
  corrupted.writeUInt8((corrupted[70] ?? 0) ^ 1, 70);
  t.notOk(verifyIcmpv6(corrupted), 'a flipped bit fails verification');
});

t.test('client redirects are unicast', async (t) => {
  const client = parseMac('02:00:00:00:00:99');
  const arp = clientRedirectFrame('10.0.0.200', mac, '10.0.0.50', client);
  t.equal(arp.subarray(0, 6).toString('hex'), '020000000099');
  t.equal(arp.readUInt16BE(20), 2, 'ARP reply');
  t.equal(arp.subarray(38, 42).toString('hex'), '0a000032');
  const na = clientRedirectFrame('fd00::200', mac, 'fd00::50', client);
  t.equal(na.subarray(0, 6).toString('hex'), '020000000099');
  t.ok(verifyIcmpv6(na));
  t.equal(announcementFrames('fd00::1', mac).length, 1);
  t.equal(announcementFrames('10.0.0.1', mac).length, 2);
});

t.test('MAC parsing', async (t) => {
  t.equal(formatMac(parseMac('02-00-00-AB-cd-0a')), '02:00:00:ab:cd:0a');
  t.throws(() => parseMac('02:00'), /malformed MAC address/);
  t.throws(() => gratuitousArp('fd00::1', mac), /not an IPv4/);
});

/**
 * The XDP responder on real veth links between namespaces, checked with real tools (arping, ndisc6,
 * UDP). Layout (tag h2):   c --veth-- x (owner: answers VIP4/VIP6)   c --veth-- s (suppress).
 */
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { XdpResponder } from '../../src/datapath/responder.js';
import { parseMac } from '../../src/datapath/xdp-layout.js';
import { TestLan } from '../helpers/netns.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['arping', 'ndisc6', 'nsenter', 'tcpdump'] });
const agent = fileURLToPath(new URL('./datapath-agent.js', import.meta.url));
const streamer = fileURLToPath(new URL('./datapath-stream.js', import.meta.url));

const VIP4 = '10.77.0.100';
const VIP6 = 'fd00:77::100';
const SUP4 = '10.78.0.100';
const SUP6 = 'fd00:78::100';
const VIP_MAC = parseMac('02:00:00:00:77:01');

/** Sends COUNT UDP datagrams of SIZE bytes to IP:9 (discard), one at a time, then exits. */
const udpSender = `
const dgram = require('node:dgram');
const [ip, count, size] = process.argv.slice(1);
const sock = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
let left = Number(count);
const next = () => (left-- > 0 ? sock.send(Buffer.alloc(Number(size)), 9, ip, next) : sock.close());
next();
`;

/** Replies arping printed, as MACs (lowercase). */
function arpingReplies(stdout: string, ip: string): string[] {
  const re = new RegExp(`reply from ${ip.replace(/\./g, '\\.')} \\[([0-9a-fA-F:]+)\\]`, 'g');
  return [...stdout.matchAll(re)].map((m) => (m[1] ?? '').toLowerCase());
}

/** Target link-layer addresses ndisc6 printed (one per NA received). */
function ndiscReplies(stdout: string): string[] {
  return [...stdout.matchAll(/Target link-layer address: ([0-9A-Fa-f:]+)/g)].map((m) =>
    (m[1] ?? '').toLowerCase(),
  );
}

t.test('XDP ARP/NDP responder between namespaces', async (t) => {
  const lan = new TestLan('h2');
  const pinOwner = `/sys/fs/bpf/hrl-h2-${process.pid}-owner`;
  const pinSup = `/sys/fs/bpf/hrl-h2-${process.pid}-sup`;
  const opened: XdpResponder[] = [];
  const removePins = () => {
    XdpResponder.cleanup(pinOwner);
    XdpResponder.cleanup(pinSup);
  };
  process.once('exit', removePins); // also when the test dies before its teardown
  t.teardown(async () => {
    process.removeListener('exit', removePins);
    for (const r of opened) r.close();
    await lan.destroy(); // deleting the namespaces removes the veths and their XDP attachments
    XdpResponder.cleanup(pinOwner);
    XdpResponder.cleanup(pinSup);
  });
  const c = await lan.createNamespace('c');
  const x = await lan.createNamespace('x');
  const s = await lan.createNamespace('s');
  await lan.link(
    { ns: c, ifname: 'c0', addrs: ['10.77.0.1/24', 'fd00:77::1/64'] },
    { ns: x, ifname: 'x0', addrs: ['10.77.0.2/24', 'fd00:77::2/64'] },
  );
  await lan.link(
    { ns: c, ifname: 'c1', addrs: ['10.78.0.1/24', 'fd00:78::1/64'] },
    { ns: s, ifname: 's0', addrs: ['10.78.0.2/24', 'fd00:78::2/64'] },
  );
  // The VIPs are also local addresses, so the kernel would answer too: exactly one reply proves
  // that XDP consumed the request. (Linux answers ARP for addresses on any interface, NS only for
  // addresses on the receiving one.)
  await lan.ip(x, 'addr', 'add', `${VIP4}/32`, 'dev', 'lo');
  await lan.ip(x, 'addr', 'add', `${VIP6}/128`, 'dev', 'x0', 'nodad');
  await lan.ip(s, 'addr', 'add', `${SUP4}/32`, 'dev', 'lo');
  await lan.ip(s, 'addr', 'add', `${SUP6}/128`, 'dev', 's0', 'nodad');

  const owner = XdpResponder.open({ pinDir: pinOwner });
  opened.push(owner);
  owner.setVip(VIP4, { action: 'answer', mac: VIP_MAC });
  owner.setVip(VIP6, { action: 'answer', mac: VIP_MAC });
  owner.setLivenessBoundMs(120_000);
  owner.heartbeat();

  const runAgent = async (ns: string, ...args: string[]): Promise<Record<string, unknown>> => {
    const { stdout } = await lan.exec(ns, process.execPath, [agent, ...args]);
    return JSON.parse(stdout) as Record<string, unknown>;
  };
  // iputils arping paces at 1 request/s (no sub-second -i) and listens 1 s after the last one, so
  // a duplicate reply would be seen.
  const arping = async (ns: string, dev: string, ip: string, count: number) =>
    (await lan.run(ns, 'arping', ['-b', '-c', String(count), '-I', dev, ip], 10_000)).stdout;
  const ndisc = async (ns: string, dev: string, ip: string) =>
    (await lan.run(ns, 'ndisc6', ['-m', '-n', '-r', '1', '-w', '400', ip, dev], 10_000)).stdout;

  for (const mode of ['generic', 'native'] as const) {
    t.test(`owner answers exactly once with the VIP MAC (${mode})`, async (t) => {
      // Native XDP_TX on veth needs an XDP program on the peer too; generic mode works without.
      if (mode === 'native') t.match(await runAgent(c, 'pass', 'c0'), { mode: 'native' });
      t.match(await runAgent(x, 'attach', pinOwner, 'x0', mode), { mode });
      t.match(
        await lan.ip(x, 'maddr', 'show', 'dev', 'x0'),
        /33:33:ff:00:01:00/,
        'joined the VIP6 solicited-node group',
      );
      const before = owner.counters();
      const replies = arpingReplies(await arping(c, 'c0', VIP4, 2), VIP4);
      t.same(replies, Array<string>(2).fill('02:00:00:00:77:01'), 'arping: 2 requests, 2 replies from XDP');
      const na = ndiscReplies(await ndisc(c, 'c0', VIP6));
      t.same(na, ['02:00:00:00:77:01'], 'ndisc6: exactly one NA, with the VIP MAC');
      const after = owner.counters();
      t.equal((after.get(VIP4)?.arpRequests ?? 0n) - (before.get(VIP4)?.arpRequests ?? 0n), 2n);
      t.equal((after.get(VIP4)?.replies ?? 0n) - (before.get(VIP4)?.replies ?? 0n), 2n);
      t.equal((after.get(VIP6)?.ndpRequests ?? 0n) - (before.get(VIP6)?.ndpRequests ?? 0n), 1n);
      t.equal((after.get(VIP6)?.replies ?? 0n) - (before.get(VIP6)?.replies ?? 0n), 1n);
      t.ok(
        owner.learnedClients().some((cl) => cl.ip === '10.77.0.1'),
        'the arping client was learned',
      );
    });
  }

  t.test('counters match the IPv4/IPv6 traffic sent to the VIPs', async (t) => {
    // Static neighbours on the client: no ARP/NS is mixed into the counted traffic.
    await lan.ip(c, 'neigh', 'replace', VIP4, 'lladdr', '02:00:00:00:77:01', 'dev', 'c0', 'nud', 'permanent');
    const xmac = (await lan.ip(x, '-j', 'link', 'show', 'x0')).match(/"address":"([0-9a-f:]+)"/)?.[1] ?? '';
    await lan.ip(c, 'neigh', 'replace', VIP6, 'lladdr', xmac, 'dev', 'c0', 'nud', 'permanent');
    // ...and on the owner, whose ICMP errors would otherwise trigger NS sourced from the VIP, answered
    // by the client with an NA addressed to the VIP (a frame to the VIP the sender did not send).
    const cmac = (await lan.ip(c, '-j', 'link', 'show', 'c0')).match(/"address":"([0-9a-f:]+)"/)?.[1] ?? '';
    await lan.ip(x, 'neigh', 'replace', '10.77.0.1', 'lladdr', cmac, 'dev', 'x0', 'nud', 'permanent');
    await lan.ip(x, 'neigh', 'replace', 'fd00:77::1', 'lladdr', cmac, 'dev', 'x0', 'nud', 'permanent');
    const before = owner.counters();
    await lan.exec(c, process.execPath, ['-e', udpSender, VIP4, '20', '56']);
    await lan.exec(c, process.execPath, ['-e', udpSender, VIP6, '12', '100']);
    const after = owner.counters();
    const d = (ip: string, k: 'rxPackets' | 'rxBytes') =>
      (after.get(ip)?.[k] ?? 0n) - (before.get(ip)?.[k] ?? 0n);
    t.equal(d(VIP4, 'rxPackets'), 20n);
    t.equal(d(VIP4, 'rxBytes'), 20n * BigInt(14 + 20 + 8 + 56));
    t.equal(d(VIP6, 'rxPackets'), 12n);
    t.equal(d(VIP6, 'rxBytes'), 12n * BigInt(14 + 40 + 8 + 100));
  });

  t.test('a non-owner with a suppress entry gives no reply although its kernel would', async (t) => {
    t.equal(arpingReplies(await arping(c, 'c1', SUP4, 1), SUP4).length, 1, 'kernel answers without XDP');
    t.equal(ndiscReplies(await ndisc(c, 'c1', SUP6)).length, 1, 'kernel answers NS without XDP');
    const sup = XdpResponder.open({ pinDir: pinSup });
    opened.push(sup);
    sup.setVip(SUP4, { action: 'suppress' });
    sup.setVip(SUP6, { action: 'suppress' });
    t.match(await runAgent(s, 'attach', pinSup, 's0', 'generic'), { mode: 'generic' });
    t.same(arpingReplies(await arping(c, 'c1', SUP4, 2), SUP4), [], 'no ARP reply');
    t.same(ndiscReplies(await ndisc(c, 'c1', SUP6)), [], 'no NA');
    const ctr = sup.counters();
    t.equal(ctr.get(SUP4)?.arpRequests, 2n);
    t.equal(ctr.get(SUP4)?.replies, 0n);
    t.equal(ctr.get(SUP6)?.ndpRequests, 1n);
  });

  t.test('atomic program replacement under a stream of ARP requests loses none', async (t) => {
    // The addon's sendRawFrame opens one AF_PACKET socket per frame (~4 ms each when repeated), so the
    // stream is a few hundred requests spread over the replacements.
    const count = 300;
    const dump = lan.spawn(c, 'tcpdump', ['-i', 'c0', '-n', '-l', '-U', '-c', String(count), 'arp[6:2] = 2']);
    let replies = 0;
    let pending = '';
    dump.stdout?.on('data', (b: Buffer) => {
      const lines = (pending + b.toString()).split('\n');
      pending = lines.pop() ?? '';
      replies += lines.filter((l) => l.includes(`Reply ${VIP4} is-at 02:00:00:00:77:01`)).length;
    });
    const dumpExit = new Promise<void>((res) => dump.on('exit', () => res()));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('tcpdump did not start')), 5000);
      dump.stderr?.on('data', (b: Buffer) => {
        if (b.toString().includes('listening on')) {
          clearTimeout(timer);
          res();
        }
      });
    });
    const before = owner.counters().get(VIP4);
    const ids = new Set<unknown>();
    const [sender] = await Promise.all([
      lan.exec(c, process.execPath, [streamer, 'c0', '10.77.0.1', VIP4, String(count), '1500']),
      (async () => {
        for (let i = 0; i < 5; i++) ids.add((await runAgent(x, 'attach', pinOwner, 'x0', 'native')).progId);
      })(),
    ]);
    await Promise.race([dumpExit, new Promise((res) => setTimeout(res, 3000))]);
    const after = owner.counters().get(VIP4);
    t.same(JSON.parse(sender.stdout), { sent: count });
    t.equal(ids.size, 5, 'five different programs were attached in turn');
    t.equal(
      (after?.arpRequests ?? 0n) - (before?.arpRequests ?? 0n),
      BigInt(count),
      'every request seen by XDP',
    );
    t.equal((after?.replies ?? 0n) - (before?.replies ?? 0n), BigInt(count), 'every request answered');
    t.equal(replies, count, `${replies}/${count} replies captured on the client`);
  });
});

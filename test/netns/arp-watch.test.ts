/**
 * The ARP/NDP watcher (test/helpers/arp-watch.ts) against two XDP responders on one bridge, programmed
 * directly through their pinned maps: it must report single answers as clean, two maps answering one VIP
 * as dual rounds, and an entry removed as silent rounds.
 */
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { XdpResponder } from '../../src/datapath/responder.js';
import { formatMac, parseMac } from '../../src/datapath/xdp-layout.js';
import { ArpWatch, macText, sampleEvenly, summarize } from '../helpers/arp-watch.js';
import { TestLan } from '../helpers/netns.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['nsenter'] });
const agent = fileURLToPath(new URL('./datapath-agent.js', import.meta.url));

const MAC_A = parseMac('02:00:00:00:aa:01');
const MAC_B = parseMac('02:00:00:00:bb:01');
const V4 = ['10.79.0.200', '10.79.0.201', '10.79.0.202', '10.79.0.203'];
const V6 = 'fd79::200';

t.test('summarize and sampleEvenly (pure)', async (t) => {
  t.same(sampleEvenly([1, 2, 3, 4, 5], 3), [1, 3, 5]);
  t.same(sampleEvenly([1, 2], 5), [1, 2]);
  const s = summarize(
    [
      { r: 0, t: 100, silent: [0, 1], dual: [], moved: [] },
      { r: 1, t: 120, silent: [1], dual: [], moved: [[0, 'aa']] },
      { r: 2, t: 140, silent: [1], dual: [[0, ['aa', 'bb']]], moved: [] },
      { r: 3, t: 160, silent: [], dual: [], moved: [[1, 'aa']], hb: [30, -1] },
      { r: 4, t: 180, silent: [], dual: [], moved: [], hb: [10, -1] },
    ],
    ['v0', 'v1'],
    20,
  );
  t.equal(s.dualRounds, 1);
  t.same(s.dualSamples, [{ at: 140, ip: 'v0', macs: ['aa', 'bb'] }]);
  t.equal(s.silentRounds, 4);
  t.equal(s.longestSilentMs, 60, 'v1 silent for 3 rounds');
  t.equal(s.silentMsByVip.get('v0'), 20);
  t.equal(s.firstAllAnsweredAt, 160);
  t.same(s.maxHeartbeatAgeMs, [30, -1], 'highest heartbeat age per speaker');
});

t.test('the watcher sees single, dual and missing answers', async (t) => {
  const lan = new TestLan('aw');
  const pins = [`/sys/fs/bpf/${lan.nsName('pa')}`, `/sys/fs/bpf/${lan.nsName('pb')}`];
  const opened: XdpResponder[] = [];
  let watch: ArpWatch | undefined;
  const removePins = () => pins.forEach((p) => XdpResponder.cleanup(p));
  process.once('exit', removePins);
  t.teardown(async () => {
    process.removeListener('exit', removePins);
    await watch?.stop().catch(() => undefined);
    for (const r of opened) r.close();
    await lan.destroy();
    removePins();
  });
  const hub = await lan.createNamespace('hub');
  const c = await lan.createNamespace('c');
  const a = await lan.createNamespace('a');
  const b = await lan.createNamespace('b');
  await lan.bridge(hub, [
    { ns: c, ifname: 'eth0', addrs: ['10.79.0.1/24', 'fd79::1/64'] },
    { ns: a, ifname: 'eth0', addrs: ['10.79.0.2/24', 'fd79::2/64'] },
    { ns: b, ifname: 'eth0', addrs: ['10.79.0.3/24', 'fd79::3/64'] },
  ]);
  const [ra, rb] = pins.map((pinDir) => XdpResponder.open({ pinDir }));
  opened.push(ra!, rb!);
  for (const [ns, pin] of [
    [a, pins[0]!],
    [b, pins[1]!],
  ] as const) {
    const { stdout } = await lan.exec(ns, process.execPath, [agent, 'attach', pin, 'eth0', 'generic']);
    t.match(JSON.parse(stdout), { mode: 'generic' });
  }
  for (const r of [ra!, rb!]) {
    r.setLivenessBoundMs(120_000);
    r.heartbeat();
  }
  for (const ip of [...V4, V6]) {
    ra!.setVip(ip, { action: 'answer', mac: MAC_A });
    rb!.setVip(ip, { action: 'suppress' });
  }

  watch = await ArpWatch.start(lan, c, {
    source4: '10.79.0.1',
    source6: 'fd79::1',
    vips: [...V4, V6],
    maxDurationMs: 20_000,
    heartbeatPins: pins,
  });
  // A reply the agent reads after it sent the next round counts for that round (ARP carries no round
  // id): on a loaded host the answers to the last round before a change land in the first round after
  // it. A phase therefore starts a few rounds after the change it observes.
  const phase = async (ms: number, settleMs = 60) => {
    await new Promise((r) => setTimeout(r, settleMs));
    const from = Date.now();
    await new Promise((r) => setTimeout(r, ms));
    return watch!.summary(from, Date.now() - 60);
  };

  const clean = await phase(600);
  t.ok(clean.rounds >= 10, `${clean.rounds} rounds in 600 ms`);
  t.equal(clean.dualRounds, 0, 'no dual round while one node answers');
  t.equal(clean.silentRounds, 0, 'no silent round while one node answers');
  for (const ip of [...V4, V6]) t.equal(watch.ownerOf(ip), formatMac(MAC_A).replace(/:/g, ''), `${ip} → A`);

  rb!.setVip(V4[1]!, { action: 'answer', mac: MAC_B });
  rb!.setVip(V6, { action: 'answer', mac: MAC_B });
  const dual = await phase(400);
  t.ok(dual.dualRounds >= 2 * (dual.rounds - 2), `${dual.dualRounds} dual VIP-rounds in ${dual.rounds}`);
  t.same(
    new Set(dual.dualSamples.map((d) => d.ip)),
    new Set([V4[1], V6]),
    'only the VIPs both maps answer are dual',
  );
  t.same(new Set(dual.dualSamples[0]?.macs.map(macText)), new Set([formatMac(MAC_A), formatMac(MAC_B)]));
  rb!.setVip(V4[1]!, { action: 'suppress' });
  rb!.setVip(V6, { action: 'suppress' });

  ra!.deleteVip(V4[2]!);
  const silent = await phase(400);
  t.equal(silent.dualRounds, 0, 'dual answers stopped with the suppress entry');
  t.ok(silent.longestSilentMs >= 300, `${V4[2]} silent for ${silent.longestSilentMs} ms`);
  t.same([...silent.silentMsByVip.keys()], [V4[2]], 'only the removed VIP is silent');

  const stale = watch.summary().maxHeartbeatAgeMs;
  t.ok(
    stale.length === 2 && stale.every((age) => age >= 1000),
    `heartbeat ages sampled: ${stale.join(', ')} ms`,
  );
  ra!.heartbeat();
  const fresh = await phase(200);
  t.ok((fresh.maxHeartbeatAgeMs[0] ?? -1) < 300, `a fresh heartbeat: ${fresh.maxHeartbeatAgeMs[0]} ms`);

  const all = await watch.stop();
  watch = undefined;
  t.ok(all.rounds >= 60, `${all.rounds} rounds in total`);
});

/**
 * 1,000 L2 VIPs on 3 standalone speakers, watched from a client by the 20 ms ARP watcher (100 sampled
 * VIPs): every sampled VIP answered by exactly one node, with no dual round from start-up through the
 * 30 s refresh; then the owner of one VIP is killed, and once its gate has closed it is restarted: the
 * client's neighbor entry must follow it back within 1 s of it answering again (the restart burst).
 * Timings are printed as comments (with the load), never asserted beyond the functional bounds.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import t, { type Test } from 'tap';
import { LabCluster } from '../../src/lab/cluster.js';
import { labAllocations } from '../../src/lab/scenario.js';
import { ArpWatch, macText } from '../helpers/arp-watch.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { interfaceMacIn, neighborMac, waitUntil } from '../helpers/probes.js';
import { SCALE_NET4, scaleConfig } from '../helpers/scale.js';

requirePrerequisites({ root: true, commands: ['nsenter', 'ping'] });

const VIPS = 1000;
/** Until this long after the start, so the window holds the first 30 s refresh (3 s burst + 30 s). */
const WINDOW_MS = 36_000;

t.test(`${VIPS} VIPs on 3 speakers: one answer each, continuously, and the restart burst`, async (t) => {
  const config = scaleConfig(VIPS);
  const vips = [...labAllocations(config).values()].flat();
  t.equal(vips.length, VIPS, `${VIPS} VIPs allocated`);
  const cluster = await LabCluster.create({ tag: 'sc', nodes: 3, clients: 1, config, vips: [] });
  const holder: { watch?: ArpWatch } = {};
  t.teardown(async () => {
    if (!t.passing()) diagnose(t, cluster, holder.watch);
    await holder.watch?.stop().catch(() => undefined);
    await cluster.destroy();
  });
  const client = cluster.clients[0]!;
  await cluster.lan.ip(client.ns, 'route', 'add', `${SCALE_NET4}.0.0/16`, 'dev', 'eth0');
  const nodeOfMac = new Map<string, (typeof cluster.nodes)[number]>();
  for (const n of cluster.nodes) nodeOfMac.set(await interfaceMacIn(cluster.lan, n.ns), n);

  const w = await ArpWatch.start(cluster.lan, client.ns, {
    source4: client.ip4,
    vips,
    sample: 100,
    maxDurationMs: 240_000,
    heartbeatPins: cluster.nodes.map((n) => n.pinDir),
  });
  holder.watch = w;
  const startedAt = Date.now();
  await cluster.startAll();
  await waitUntil(
    'every sampled VIP answered',
    120_000,
    () => w.summary(startedAt).firstAllAnsweredAt !== undefined,
    200,
  );
  const allAt = w.summary(startedAt).firstAllAnsweredAt!;
  t.comment(
    `start → all 100 sampled VIPs answered: ${allAt - startedAt} ms (load ${loadavg()[0]?.toFixed(1)})`,
  );
  const remaining = startedAt + WINDOW_MS - Date.now();
  if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
  const steady = w.summary(startedAt, Date.now());
  t.equal(steady.dualRounds, 0, `no dual round from start-up through the refresh (${steady.rounds} rounds)`);
  t.same(steady.dualSamples, [], 'no VIP answered by two nodes');
  const after = w.summary(allAt + 1, Date.now());
  t.comment(
    `after all answered: ${after.silentRounds} silent VIP-rounds (longest ${after.longestSilentMs} ms); ` +
      `heartbeat age max ${after.maxHeartbeatAgeMs.join(' / ')} ms; load ${loadavg()[0]?.toFixed(1)}`,
  );
  t.ok(
    after.maxHeartbeatAgeMs.every((age) => age >= 0 && age < 2000),
    'every gate stayed open (heartbeat age below the 2 s bound)',
  );

  // Restart: the owner of one VIP dies, someone else answers, the owner comes back after its gate closed.
  const ip = w.vips[0]!;
  const ownerMac = macText(w.ownerOf(ip) ?? '');
  const owner = nodeOfMac.get(ownerMac);
  if (!owner) throw new Error(`no node has the MAC ${ownerMac} that answers ${ip}`);
  await cluster.lan.run(client.ns, 'ping', ['-c', '1', '-W', '1', ip]);
  t.equal(
    await neighborMac(cluster.lan, client.ns, ip),
    ownerMac,
    `the client resolved ${ip} to ${owner.name}`,
  );
  const killedAt = Date.now();
  await cluster.killSpeaker(owner, 'SIGKILL');
  await waitUntil(`another node answering ${ip}`, 20_000, () => {
    const mac = w.ownerOf(ip);
    return mac !== undefined && macText(mac) !== ownerMac;
  });
  const otherMac = macText(w.ownerOf(ip)!);
  await waitUntil('the client to follow the takeover', 10_000, async () => {
    return (await neighborMac(cluster.lan, client.ns, ip)) === otherMac;
  });
  const gateClosed = killedAt + 2500 - Date.now();
  if (gateClosed > 0) await new Promise((r) => setTimeout(r, gateClosed));
  const restartAt = Date.now();
  cluster.startSpeaker(owner);
  await waitUntil(
    `${owner.name} answering ${ip} again`,
    60_000,
    () => macText(w.ownerOf(ip) ?? '') === ownerMac,
    20,
  );
  const backAt = Date.now();
  const switchMs = await waitUntil(
    'the client to switch back',
    5_000,
    async () => (await neighborMac(cluster.lan, client.ns, ip)) === ownerMac,
    20,
  );
  t.ok(
    switchMs <= 1000,
    `the client's neighbor entry switched back ${switchMs} ms after ${owner.name} answered again`,
  );
  const restart = w.summary(restartAt, Date.now());
  t.comment(
    `restart: answering again ${backAt - restartAt} ms after the restart; during it ${restart.dualRounds} dual / ` +
      `${restart.silentRounds} silent VIP-rounds (load ${loadavg()[0]?.toFixed(1)})`,
  );
  t.equal(restart.dualRounds, 0, 'the restarted speaker (gate closed) never answered next to the new owner');
});

/** On failure: what the watcher saw last and the tail of every speaker's log. */
function diagnose(t: Test, cluster: LabCluster, watch: ArpWatch | undefined): void {
  const last = watch?.rounds.at(-1);
  if (last)
    t.comment(
      `last round: ${last.silent.length} silent, ${last.dual.length} dual; hb ${last.hb?.join(' / ')}`,
    );
  for (const n of cluster.nodes) {
    const lines = readFileSync(n.logFile, 'utf8').trimEnd().split('\n');
    t.comment(`${n.name} log (last 15 of ${lines.length} lines):\n${lines.slice(-15).join('\n')}`);
  }
}

/**
 * Issue 14's gossip rails in namespaces, under the ARP watcher (one request per VIP every 20 ms): next to
 * a running two-node cluster, a speaker with another gossip key, one without a key and one reusing a live
 * node's name are refused and answer nothing, and a flood of garbage, forged, expired and replayed gossip
 * at a member is counted and changes nothing. No VIP ever has two answerers, none loses its answer.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { LabCluster, type LabNode, type SpeakerOverrides } from '../../src/lab/cluster.js';
import { readDataplane } from '../../src/lab/observe.js';
import { LAB_BGP_NET4, labAllocations, labConfig } from '../../src/lab/scenario.js';
import { projectRoot } from '../../src/util/paths.js';
import { ArpWatch } from '../helpers/arp-watch.js';
import type { FloodConfig } from '../helpers/gossip-flood-agent.js';
import { answering } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { waitUntil } from '../helpers/probes.js';

requirePrerequisites({ root: true, commands: ['ip', 'nsenter'] });

const METRICS_PORT = 9464;
/** One gate closure of a starved speaker (bound past a late pulse, then the watchers' hold). */
const MAX_GATE_CLOSURE_SILENCE_MS = 500;

t.test('gossip rails next to a running cluster', async (t) => {
  const config = labConfig(3);
  const allocations = labAllocations(config);
  const vips = [...new Set([...allocations.values()].flat())].filter(
    (ip) => !ip.startsWith(`${LAB_BGP_NET4}.`),
  );
  const cluster = await LabCluster.create({
    tag: 'gr',
    nodes: 3,
    clients: 1,
    config,
    vips,
    extraSpeakerArgs: ['--metrics', `127.0.0.1:${METRICS_PORT}`],
  });
  t.teardown(() => cluster.destroy());
  const [n1, n2, n3] = cluster.nodes as [LabNode, LabNode, LabNode];
  const client = cluster.clients[0]!;
  cluster.startSpeaker(n1);
  cluster.startSpeaker(n2);
  // local-app's only endpoint is on n3: nobody of the running pair may answer it. (A spread VIP has an
  // entry on every node, each answering its share of the clients; the watcher sees one MAC per client.)
  const localApp = allocations.get('lab/local-app')?.[0] ?? '';
  const served = vips.filter((ip) => ip !== localApp);
  await waitUntil('n1 and n2 to answer every VIP they can', 60_000, () =>
    served.every((ip) => answering(cluster, ip).size > 0),
  );
  const watch = await ArpWatch.start(cluster.lan, client.ns, {
    source4: client.ip4,
    source6: client.ip6,
    vips,
    maxDurationMs: 240_000,
  });
  t.teardown(() => watch.stop().catch(() => undefined));

  /** Runs n3's speaker with overrides until `refused` shows in its log, then checks it holds nothing. */
  const refusedStart = async (what: string, overrides: SpeakerOverrides, refused: RegExp) => {
    const mark = logLength(n3);
    cluster.startSpeaker(n3, overrides);
    try {
      await checkRefused(what, mark, refused);
    } finally {
      await cluster.killSpeaker(n3, 'SIGTERM');
    }
  };
  const checkRefused = async (what: string, mark: number, refused: RegExp) => {
    await waitUntil(`${what}: n3 refused`, 30_000, () => refused.test(logSince(n3, mark))).catch(
      (err: unknown) => {
        t.comment(`n3's log:\n${logSince(n3, mark)}`);
        throw err;
      },
    );
    await waitUntil(`${what}: n3 gives up waiting for a join`, 30_000, () =>
      /answering no VIP until this node joins/.test(logSince(n3, mark)),
    );
    // Past the startup grace (2 s) a lone speaker would have taken every VIP.
    await new Promise((r) => setTimeout(r, 3_000));
    const held = [...readDataplane(n3).vips.entries()].filter(([, e]) => e.action === 'answer');
    t.same(held, [], `${what}: n3 holds no answer entry`);
    t.match(logSince(n3, mark), /seed refused this node/, `${what}: n3 says why`);
  };

  await t.test('a speaker with another gossip key answers nothing', async (t) => {
    const other = join(cluster.workDir, 'other.key');
    writeFileSync(other, `${randomBytes(32).toString('hex')}\n`);
    const mark = logLength(n1);
    await refusedStart('wrong key', { keyFile: other }, /took the connection but sent no state \(closed\)/);
    t.match(logSince(n1, mark), /dropped \d+ gossip input\(s\): unauthenticated \(from 10\.77\.0\.13:/);
    t.ok((await dropped(cluster, n1)).unauthenticated! > 0, 'n1 counts unauthenticated drops');
  });

  await t.test('a speaker without a key (--insecure-gossip) answers nothing', async (t) => {
    const mark = logLength(n1);
    await refusedStart('no key', { keyFile: null }, /took the connection but sent no state \(closed\)/);
    t.match(logSince(n1, mark), /dropped \d+ gossip input\(s\): plaintext \(from 10\.77\.0\.13:/);
    t.match(logSince(n3, 0), /gossip is NOT encrypted \(--insecure-gossip\)/, 'n3 warns it runs plaintext');
  });

  await t.test("a speaker reusing n1's name is refused; n1 keeps its VIPs", async (t) => {
    const marks: [number, number] = [logLength(n1), logLength(n2)];
    await refusedStart(
      'name n1',
      { name: 'n1' },
      /the name \\?"n1\\?" is alive at 10\.77\.0\.11:7946 .*--node/,
    );
    t.match(logSince(n1, marks[0]), /another process claims this node's name n1 from 10\.77\.0\.13/);
    t.match(logSince(n2, marks[1]), /member n1 is alive at 10\.77\.0\.11:7946; ignored a second claim/);
    t.ok((await metric(cluster, n1, 'herald_gossip_name_conflicts_total')) >= 1, 'n1 counts the conflict');
  });

  await t.test('a flood of garbage, forged, expired and replayed gossip changes nothing', async (t) => {
    const ownersNow = () => new Map(served.map((ip) => [ip, [...answering(cluster, ip).keys()].join()]));
    const owners = ownersNow();
    const before = await dropped(cluster, n1);
    const marks: [number, number] = [logLength(n1), logLength(n2)];
    const flood: FloodConfig = {
      target: n1.ip4,
      port: 7946,
      key: readFileSync(cluster.keyFile, 'utf8').trim(),
      cluster: 'herald',
      victim: 'n2',
      pps: 5_000,
      durationMs: 8_000,
    };
    const script = join(projectRoot(), 'dist', 'test', 'helpers', 'gossip-flood-agent.js');
    const r = await cluster.lan.run(client.ns, process.execPath, [script, JSON.stringify(flood)], 60_000);
    t.equal(r.code, 0, `flood agent ran ${r.stderr}`);
    const sent = (JSON.parse(r.stdout) as { sent: Record<string, number> }).sent;
    t.comment(`sent ${JSON.stringify(sent)}`);
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await dropped(cluster, n1);
    const grew = (reason: string) => (after[reason] ?? 0) - (before[reason] ?? 0);
    t.comment(
      `n1 dropped ${JSON.stringify(Object.fromEntries(Object.keys(after).map((k) => [k, grew(k)])))}`,
    );
    t.ok(grew('malformed') + grew('truncated') > 0, 'garbage counted (malformed/truncated)');
    t.ok(grew('unauthenticated') > 0, 'frames no key opens counted');
    // (counted, not equal to what was sent: the kernel may drop datagrams when the socket buffer is full)
    t.ok(grew('plaintext') > 0, 'plaintext frames counted');
    t.ok(grew('expired') > 0, 'expired captures counted (the accusation they carry changed nothing)');
    t.ok(grew('replayed') > 0, 'copies of an authentic frame counted as replayed');
    for (const [node, mark] of [
      [n1, marks[0]],
      [n2, marks[1]],
    ] as const)
      t.notMatch(logSince(node, mark), /took over VIP|released VIP/, `${node.name}: no VIP moved`);
    t.same(ownersNow(), owners, 'every VIP has the owner(s) it had before');
    t.equal(await metric(cluster, n1, 'herald_members', 'state="alive"'), 2, 'n1 sees two members alive');
  });

  const summary = await watch.stop();
  t.equal(summary.dualRounds, 0, `no VIP answered twice in ${summary.rounds} rounds`, {
    samples: summary.dualSamples,
  });
  // The flood competes for the two cores with three speakers: a speaker's pulse thread scheduled later
  // than the liveness bound shuts its own gate (silence, by design) until its watchers report it up again
  // (60-120 ms of silence seen at load 4-5). Anything that moved or lost an owner would be seconds.
  const silentMs = Object.fromEntries([...summary.silentMsByVip].filter(([ip]) => ip !== localApp));
  t.ok(
    Object.values(silentMs).every((ms) => ms <= MAX_GATE_CLOSURE_SILENCE_MS),
    `no served VIP silent longer than ${MAX_GATE_CLOSURE_SILENCE_MS} ms`,
    { silentMs },
  );
  t.ok(summary.silentMsByVip.has(localApp), 'local-app (its endpoint only on n3) stays unanswered');

  await t.test('n3 with the right key and its own name joins and serves', async (t) => {
    cluster.startSpeaker(n3);
    await waitUntil('n3 to answer local-app', 30_000, () => answering(cluster, localApp).has('n3'));
    t.pass('joined: the gate opened');
  });
});

function logLength(node: LabNode): number {
  return logSince(node, 0).length;
}

function logSince(node: LabNode, mark: number): string {
  return existsSync(node.logFile) ? readFileSync(node.logFile, 'utf8').slice(mark) : '';
}

/** One sample of a metric from a node's /metrics (summed over the series matching `labels`). */
async function metric(cluster: LabCluster, node: LabNode, name: string, labels = ''): Promise<number> {
  const text = await scrape(cluster, node);
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] === name && (m[2] ?? '').includes(labels)) sum += Number(m[3]);
  }
  return sum;
}

async function dropped(cluster: LabCluster, node: LabNode): Promise<Record<string, number>> {
  const text = await scrape(cluster, node);
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^herald_gossip_dropped_total\{reason="(\w+)"\} (\S+)$/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

async function scrape(cluster: LabCluster, node: LabNode): Promise<string> {
  const code = `fetch('http://127.0.0.1:${METRICS_PORT}/metrics').then((r) => r.text()).then((s) => process.stdout.write(s))`;
  const r = await cluster.lan.run(node.ns, process.execPath, ['-e', code], 30_000);
  if (r.code !== 0) throw new Error(`scrape of ${node.name} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * The safety soak, as root: 3 standalone speakers with --vips L2 VIPs (default 100) in namespaces, a
 * client's 20 ms ARP watcher on every VIP and a 20/s ping to one VIP of each node; every
 * --interval-seconds one fault at random (seeded): a crash (SIGKILL, restart 2 s later), a freeze
 * (SIGSTOP 0.3/0.8/1.5/3 s), a partition (the node's bridge port dropped by nftables both ways for
 * 2-5 s: cut off from the nodes and the client alike) or a bad config (the shared file emptied, 2 MB of
 * junk keys, no pools, or truncated mid-document; the good one back after 3 s). Counts dual rounds (two
 * MACs: the invariant, must be 0), silent rounds and ping loss, per fault.
 *
 * Runs in parts of at most 5 minutes (one heavy-lock hold each); every part is kept in
 * bench/results/safety.json and the markdown sums them:
 *
 *   node_modules/.bin/node dist/bench/safety/run.js --part 1 --minutes 5 [--seed N] [--reset] [--note TEXT]...
 *   node_modules/.bin/node dist/bench/safety/run.js --notes-only --note TEXT   (adds a note, measures nothing)
 */
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LabCluster, type LabNode } from '../../src/lab/cluster.js';
import { labAllocations } from '../../src/lab/scenario.js';
import { projectRoot } from '../../src/util/paths.js';
import { sleep } from '../../src/util/wait.js';
import { ArpWatch, macText } from '../../test/helpers/arp-watch.js';
import { interfaceMacIn } from '../../test/helpers/probes.js';
import { SCALE_NET4, scaleConfig } from '../../test/helpers/scale.js';
import {
  byKind,
  type Fault,
  FAULT_KINDS,
  faultKinds,
  faultResult,
  type FaultResult,
  faultSchedule,
  pingCounts,
} from './events.js';

const { values: args } = parseArgs({
  options: {
    part: { type: 'string', default: '1' },
    minutes: { type: 'string', default: '5' },
    'interval-seconds': { type: 'string', default: '20' },
    vips: { type: 'string', default: '100' },
    seed: { type: 'string' },
    /** Only these fault kinds (comma-separated), e.g. `partition`; all by default. */
    kinds: { type: 'string' },
    reset: { type: 'boolean', default: false },
    out: { type: 'string', default: join(projectRoot(), 'bench', 'results') },
    /** Where the speakers' logs and every watcher round are kept for the diagnosis of a part. */
    logs: { type: 'string' },
    /** Added to the result's notes (kept across parts); with --notes-only nothing is measured. */
    note: { type: 'string', multiple: true, default: [] },
    'notes-only': { type: 'boolean', default: false },
  },
});
const MINUTES = Math.min(Number(args.minutes), 5);
const INTERVAL_MS = Number(args['interval-seconds']) * 1000;
const VIPS = Number(args.vips);
const SEED = args.seed === undefined ? Date.now() % 1_000_000 : Number(args.seed);
const PING_INTERVAL_S = 0.05;
const KINDS = args.kinds === undefined ? FAULT_KINDS : faultKinds(args.kinds);
const LOGS = args.logs ?? join(tmpdir(), `herald-safety-part${args.part}`);

interface Part {
  part: string;
  started: string;
  node: string;
  cpus: string;
  seed: number;
  minutes: number;
  vips: number;
  load: { start: number; end: number; max: number };
  startToAllAnsweredMs: number;
  faults: FaultResult[];
  dualRounds: number;
  silentRounds: number;
  rounds: number;
  ping: Array<{ ip: string; node: string; sent: number; received: number }>;
}

const load1 = () => Math.round((loadavg()[0] ?? 0) * 100) / 100;

function badConfig(kind: Fault['config'], good: string): string {
  switch (kind) {
    case 'empty':
      return '';
    case 'junk-2MB': {
      // Counted as it grows: measuring the joined text on every line took the bench's own loop minutes.
      const lines: string[] = [];
      for (let i = 0, size = 0; size < 2_000_000; i++) {
        const line = `k${i}: ${'x'.repeat(20)}\n`;
        lines.push(line);
        size += line.length;
      }
      return lines.join('');
    }
    case 'no-pools':
      return good
        .split('\n---\n')
        .filter((d) => !d.includes('kind: IPAddressPool'))
        .join('\n---\n');
    case 'truncated':
    default:
      return good.slice(0, Math.floor(good.length / 3));
  }
}

async function inject(cluster: LabCluster, fault: Fault, good: string): Promise<void> {
  const node = cluster.nodes[fault.node] as LabNode;
  switch (fault.kind) {
    case 'crash':
      await cluster.killSpeaker(node, 'SIGKILL');
      await sleep(fault.ms);
      cluster.startSpeaker(node);
      return;
    case 'freeze':
      node.speaker?.kill('SIGSTOP');
      await sleep(fault.ms);
      node.speaker?.kill('SIGCONT');
      return;
    case 'partition': {
      // Nodes are the bridge's first ports (p0 = n1): the node's frames are dropped both ways. (The
      // chain must not be called fwd: a keyword of nft, the rule set then failed to load unnoticed.)
      const port = `p${fault.node}`;
      const hub = cluster.lan.nsName('hub');
      const file = join(cluster.workDir, 'partition.nft');
      writeFileSync(
        file,
        `table bridge hrl_part {\n  chain cut { type filter hook forward priority -300; policy accept; iifname "${port}" drop; oifname "${port}" drop; }\n}\n`,
      );
      await cluster.lan.exec(hub, 'nft', ['-f', file]);
      try {
        await sleep(fault.ms);
      } finally {
        await cluster.lan.exec(hub, 'nft', ['delete', 'table', 'bridge', 'hrl_part']);
      }
      return;
    }
    case 'bad-config':
      writeFileSync(cluster.configPath, badConfig(fault.config, good));
      await sleep(fault.ms);
      writeFileSync(cluster.configPath, good);
      return;
  }
}

async function main(): Promise<void> {
  if (args['notes-only']) {
    mkdirSync(args.out, { recursive: true });
    writeResult(join(args.out, 'safety.json'), readResult(join(args.out, 'safety.json')));
    return;
  }
  const started = new Date().toISOString();
  const loadStart = load1();
  let loadMax = loadStart;
  const config = scaleConfig(VIPS);
  const vips = [...labAllocations(config).values()].flat();
  const cluster = await LabCluster.create({ tag: 'sf', nodes: 3, clients: 1, config, vips: [] });
  let watch: ArpWatch | undefined;
  try {
    const client = cluster.clients[0]!;
    await cluster.lan.ip(client.ns, 'route', 'add', `${SCALE_NET4}.0.0/16`, 'dev', 'eth0');
    const runMs = MINUTES * 60_000;
    watch = await ArpWatch.start(cluster.lan, client.ns, {
      source4: client.ip4,
      vips,
      sample: Math.min(VIPS, 100),
      maxDurationMs: runMs + 120_000,
      heartbeatPins: cluster.nodes.map((n) => n.pinDir),
    });
    const w = watch;
    await holdVipsLocally(cluster, vips);
    const nodeOfMac = new Map<string, LabNode>();
    for (const n of cluster.nodes) nodeOfMac.set(await interfaceMacIn(cluster.lan, n.ns), n);
    const startedAt = Date.now();
    await cluster.startAll();
    while (w.summary(startedAt).firstAllAnsweredAt === undefined) {
      if (Date.now() - startedAt > 90_000) throw new Error('not every VIP answered within 90 s');
      await sleep(100);
    }
    const allAt = w.summary(startedAt).firstAllAnsweredAt!;
    await sleep(3000);
    // One pinged VIP per node (its owner at the start): the first node up may hold every VIP for a
    // while, so wait (up to 30 s) until each node answers some.
    const targets = new Map<string, string>();
    const spreadBy = Date.now() + 30_000;
    do {
      targets.clear();
      for (const ip of w.vips) {
        const owner = nodeOfMac.get(macText(w.ownerOf(ip) ?? ''));
        if (owner && !targets.has(owner.name)) targets.set(owner.name, ip);
      }
      if (targets.size < cluster.nodes.length) await sleep(500);
    } while (targets.size < cluster.nodes.length && Date.now() < spreadBy);
    const pingSeconds = Math.ceil(runMs / 1000);
    const pings = [...targets].map(([node, ip]) => {
      const child = cluster.lan.spawn(client.ns, 'ping', [
        '-n',
        '-q',
        '-i',
        String(PING_INTERVAL_S),
        '-w',
        String(pingSeconds),
        ip,
      ]);
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      const done = new Promise<string>((resolve) => child.once('exit', () => resolve(out)));
      return { node, ip, done };
    });
    const t0 = Date.now();
    const schedule = faultSchedule(SEED, Math.floor(runMs / INTERVAL_MS), cluster.nodes.length, KINDS);
    const at: number[] = [];
    for (const [k, fault] of schedule.entries()) {
      await sleep(Math.max(0, t0 + k * INTERVAL_MS + 2000 - Date.now()));
      at.push(Date.now());
      process.stdout.write(
        `${new Date().toISOString()} ${fault.kind} ${cluster.nodes[fault.node]?.name} ${fault.config ?? `${fault.ms} ms`} (load ${load1()})\n`,
      );
      await inject(cluster, fault, config);
      loadMax = Math.max(loadMax, load1());
    }
    await sleep(Math.max(0, t0 + runMs - Date.now()));
    const ping = await Promise.all(
      pings.map(async (p) => {
        const out = await p.done;
        const counts = pingCounts(out);
        if (!counts) process.stderr.write(`ping ${p.ip}: no summary: ${out.slice(-500)}\n`);
        return { ip: p.ip, node: p.node, ...(counts ?? { sent: 0, received: 0 }) };
      }),
    );
    const end = Date.now();
    await w.stop();
    const faults = schedule.map((f, k) =>
      faultResult(
        f,
        cluster.nodes[f.node]?.name ?? '?',
        (at[k] ?? 0) - t0,
        w.summary(at[k] ?? 0, at[k + 1] ?? end),
        (mac) => nodeOfMac.get(macText(mac))?.name ?? macText(mac),
      ),
    );
    const whole = w.summary(t0, end);
    const part: Part = {
      part: args.part,
      started,
      node: process.version,
      cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
      seed: SEED,
      minutes: MINUTES,
      vips: VIPS,
      load: { start: loadStart, end: load1(), max: loadMax },
      startToAllAnsweredMs: allAt - startedAt,
      faults,
      dualRounds: whole.dualRounds,
      silentRounds: whole.silentRounds,
      rounds: whole.rounds,
      ping,
    };
    mkdirSync(args.out, { recursive: true });
    const jsonFile = join(args.out, 'safety.json');
    const previous = args.reset ? { parts: [], notes: [] } : readResult(jsonFile);
    const parts = previous.parts.filter((p) => p.part !== part.part);
    parts.push(part);
    writeResult(jsonFile, { parts, notes: previous.notes });
  } finally {
    await watch?.stop().catch(() => undefined);
    keepLogs(cluster, watch);
    await cluster.destroy();
  }
}

/** The speakers' logs and the watcher's rounds (t relative to nothing: epoch ms) into LOGS. */
function keepLogs(cluster: LabCluster, watch: ArpWatch | undefined): void {
  cluster.copyLogs(LOGS);
  if (watch) {
    const lines = watch.rounds.map((r) => JSON.stringify(r));
    writeFileSync(
      join(LOGS, 'rounds.jsonl'),
      `${JSON.stringify({ vips: watch.vips })}\n${lines.join('\n')}\n`,
    );
  }
  process.stdout.write(`logs and watcher rounds kept in ${LOGS}\n`);
}

/**
 * Every VIP on each node's lo with the kernel silent for it on the LAN, as kube-proxy in IPVS mode does
 * (so the ping has a host that answers it, whichever node the VIP's answer leads to).
 */
async function holdVipsLocally(cluster: LabCluster, vips: readonly string[]): Promise<void> {
  const batch = join(cluster.workDir, 'vips.batch');
  writeFileSync(batch, vips.map((ip) => `addr add ${ip}/32 dev lo\n`).join(''));
  for (const n of cluster.nodes) {
    for (const key of ['net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2'])
      await cluster.lan.exec(n.ns, 'sysctl', ['-qw', key]);
    await cluster.lan.exec(n.ns, 'ip', ['-batch', batch]);
  }
}

interface SafetyResult {
  parts: Part[];
  notes: string[];
}

function readResult(file: string): SafetyResult {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<SafetyResult>;
    return { parts: data.parts ?? [], notes: data.notes ?? [] };
  } catch {
    return { parts: [], notes: [] };
  }
}

/** Writes the JSON and the markdown (with this run's --note lines added to the notes). */
function writeResult(jsonFile: string, result: SafetyResult): void {
  const notes = [...result.notes, ...(args.note ?? []).filter((n) => !result.notes.includes(n))];
  writeFileSync(jsonFile, `${JSON.stringify({ parts: result.parts, notes }, null, 2)}\n`);
  const md = report(result.parts, notes);
  writeFileSync(join(args.out, 'safety.md'), md);
  process.stdout.write(md);
}

function report(parts: readonly Part[], notes: readonly string[]): string {
  const faults = parts.flatMap((p) => p.faults);
  const kinds = byKind(faults);
  const ping = parts.flatMap((p) => p.ping);
  const sent = ping.reduce((a, p) => a + p.sent, 0);
  const received = ping.reduce((a, p) => a + p.received, 0);
  const minutes = parts.reduce((a, p) => a + p.minutes, 0);
  const rows = [...kinds]
    .map(
      ([kind, k]) => `| ${kind} | ${k.faults} | ${k.dualRounds} | ${k.silentRounds} | ${k.longestSilentMs} |`,
    )
    .join('\n');
  const long = faults
    .filter((f) => f.longestSilentMs > 1000)
    .map(
      (f) => `${f.kind} ${f.nodeName}${f.config ? ` ${f.config}` : ` ${f.ms} ms`}: ${f.longestSilentMs} ms`,
    );
  return `# Safety soak

${minutes} minutes in ${parts.length} part(s) of at most 5 (one heavy-lock hold each), 3 standalone speakers,
${parts[0]?.vips ?? 0} L2 VIPs (generic XDP), one fault every ${INTERVAL_MS / 1000} s at random: crash (SIGKILL, restart after 2 s),
freeze (SIGSTOP 0.3/0.8/1.5/3 s), partition (the node's bridge port dropped both ways by nftables for 2-5 s:
cut off from the other nodes and the client alike), bad config (the shared file emptied, 2 MB of junk keys,
no pools, truncated; the good file back after 3 s). A client's ARP watcher asks for every VIP every 20 ms;
a dual round is a VIP answered by two MACs, a silent one a VIP nobody answered. Ping: 20/s to one VIP of
each node for the whole part.

Rerun: \`node_modules/.bin/node dist/bench/safety/run.js --part N --minutes 5 [--seed S]\` (root), one part per lock hold.

| part | started | Node | load start / max / end | seed | faults | dual rounds | silent VIP-rounds | ping lost |
|---|---|---|---|---|---|---|---|---|
${parts
  .map(
    (p) =>
      `| ${p.part} | ${p.started} | ${p.node} | ${p.load.start} / ${p.load.max} / ${p.load.end} | ${p.seed} | ${p.faults.length} | ${p.dualRounds} | ${p.silentRounds} | ${p.ping.reduce((a, x) => a + x.sent - x.received, 0)} of ${p.ping.reduce((a, x) => a + x.sent, 0)} |`,
  )
  .join('\n')}

| fault | count | dual rounds | silent VIP-rounds | longest silence of a VIP (ms) |
|---|---|---|---|---|
${rows}

- **${faults.reduce((a, f) => a + f.dualRounds, 0)} dual rounds** over all faults (target 0).
- Ping: ${sent - received} of ${sent} lost (${sent ? ((100 * (sent - received)) / sent).toFixed(2) : '-'} %).
- Faults with dual rounds (first samples: ms after the fault, VIP, answering nodes): ${
    faults
      .filter((f) => f.dualRounds > 0)
      .map(
        (f) =>
          `${f.kind} ${f.nodeName}${f.config ? ` ${f.config}` : ` ${f.ms} ms`} at ${f.atMs} ms: ${f.dualRounds} (${(
            f.duals ?? []
          )
            .slice(0, 3)
            .map((d) => `+${d.afterMs} ${d.ip} ${d.nodes.join('+')}`)
            .join(', ')})`,
      )
      .join('; ') || 'none'
  }.
- Faults with a VIP silent longer than 1 s (a failover is ~0.3-0.6 s here): ${long.length ? long.join('; ') : 'none'}.
${notes.length ? `\n## Notes\n\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`;
}

await main();

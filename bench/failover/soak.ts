/**
 * The flapping soak: a Herald cluster and a keepalived cluster side by side, idle (no kills), first under
 * random loss on every node's input (nftables), then under full CPU stress. Counts takeovers (each one is
 * false: nothing failed) and, from a 20 ms ARP/NDP watcher per cluster, dual and silent rounds.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { ArpWatch, type WatchSummary } from '../../test/helpers/arp-watch.js';
import { LabCluster } from '../../src/lab/cluster.js';
import { labAllocations } from '../../src/lab/scenario.js';
import { pollUntil, sleep } from '../../src/util/wait.js';
import { KeepalivedCluster } from './keepalived.js';
import { labVips, waitForOwners } from './series.js';
import { type HeraldWatch, load1, lossRuleset } from './stats.js';

export interface SoakPhase {
  what: string;
  seconds: number;
  load: [number, number];
  herald: {
    takeovers: number;
    dualRounds: number;
    silentRounds: number;
    longestSilentMs: number;
    rounds: number;
  };
  keepalived: {
    masterEntries: number;
    dualRounds: number;
    silentRounds: number;
    longestSilentMs: number;
    rounds: number;
  };
}

export interface SoakResult {
  /** When the soak started (ISO). */
  at?: string;
  nodes: number;
  vrrpAdvertInt: number;
  phases: SoakPhase[];
}

export interface SoakOptions {
  nodes: number;
  lossSeconds: number;
  lossPercent: number;
  stressSeconds: number;
  vrrpAdvertInt: number;
  stress: (seconds: number) => ChildProcess;
  /** Copy the Herald speakers' logs here before the cluster is removed. */
  keepLogs?: string;
  /** Herald's watch setting, when not the default (named in the phases). */
  watch?: HeraldWatch;
}

const TAKEOVER = '"msg":"took over VIP"';

function heraldTakeovers(cluster: LabCluster): number {
  let n = 0;
  for (const node of cluster.nodes) {
    try {
      n += readFileSync(node.logFile, 'utf8').split(TAKEOVER).length - 1;
    } catch {
      // no log yet
    }
  }
  return n;
}

function counts(s: WatchSummary) {
  return {
    dualRounds: s.dualRounds,
    silentRounds: s.silentRounds,
    longestSilentMs: s.longestSilentMs,
    rounds: s.rounds,
  };
}

async function setLoss(clusters: LabCluster[], percent: number | undefined): Promise<void> {
  for (const c of clusters)
    for (const node of c.nodes) {
      await c.lan.exec(node.ns, 'nft', ['delete', 'table', 'inet', 'hrl_loss']).catch(() => undefined);
      if (percent !== undefined) {
        const file = `${c.workDir}/loss.nft`;
        writeFileSync(file, lossRuleset(percent));
        await c.lan.exec(node.ns, 'nft', ['-f', file]);
      }
    }
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const at = new Date().toISOString();
  const { config, v4, v6 } = labVips(o.nodes);
  const allVips = [...new Set([...labAllocations(config).values()].flat())];
  const herald = await LabCluster.create({
    tag: `sh${o.nodes}`,
    nodes: o.nodes,
    clients: 1,
    config,
    vips: allVips,
    ...(o.watch ? { extraSpeakerArgs: o.watch.args } : {}),
  });
  const named = (what: string) => (o.watch ? `${what}, Herald ${o.watch.label}` : what);
  let kaCluster: LabCluster | undefined;
  let ka: KeepalivedCluster | undefined;
  const watches: ArpWatch[] = [];
  const phases: SoakPhase[] = [];
  try {
    kaCluster = await LabCluster.create({
      tag: `sk${o.nodes}`,
      nodes: o.nodes,
      clients: 1,
      config,
      vips: [v4, v6],
    });
    ka = new KeepalivedCluster(kaCluster, { v4, v6 }, { advertInt: o.vrrpAdvertInt });
    await herald.startAll();
    ka.startAll();
    await waitForOwners(herald, [v4, v6]);
    for (const vip of [v4, v6]) {
      const k = ka;
      if ((await pollUntil(20_000, async () => (await k.holders(vip)).length === 1)) === undefined)
        throw new Error(`soak: keepalived ${vip} never got a master`);
    }
    await sleep(3000);
    const total = o.lossSeconds + o.stressSeconds + 60;
    for (const c of [herald, kaCluster]) {
      const client = c.clients[0];
      if (!client) throw new Error('soak: no client');
      watches.push(
        await ArpWatch.start(c.lan, client.ns, {
          source4: client.ip4,
          source6: client.ip6,
          vips: [v4, v6],
          maxDurationMs: total * 1000,
        }),
      );
    }
    const phase = async (what: string, seconds: number, during: () => Promise<() => Promise<void>>) => {
      if (seconds <= 0) return;
      const load = load1();
      const h0 = heraldTakeovers(herald);
      const k0 = ka?.totalMasterEntries() ?? 0;
      const from = Date.now();
      const end = await during();
      await sleep(seconds * 1000);
      await end();
      const to = Date.now();
      // Let whatever moved settle back before the next phase, inside this phase's accounting.
      await sleep(3000);
      const [hw, kw] = watches;
      phases.push({
        what: named(what),
        seconds,
        load: [load, load1()],
        herald: { takeovers: heraldTakeovers(herald) - h0, ...counts(hw!.summary(from, to + 3000)) },
        keepalived: {
          masterEntries: (ka?.totalMasterEntries() ?? 0) - k0,
          ...counts(kw!.summary(from, to + 3000)),
        },
      });
      process.stderr.write(`soak ${what}: ${JSON.stringify(phases.at(-1))}\n`);
    };
    const clusters = [herald, kaCluster];
    await phase(`${o.lossPercent} % random loss on every node's input`, o.lossSeconds, async () => {
      await setLoss(clusters, o.lossPercent);
      return () => setLoss(clusters, undefined);
    });
    await phase('full CPU stress (stress-ng --cpu 0)', o.stressSeconds, async () => {
      const child = o.stress(o.stressSeconds);
      return async () => {
        if (child.exitCode === null) child.kill('SIGKILL');
      };
    });
  } finally {
    for (const w of watches) await w.stop().catch(() => undefined);
    ka?.stopAll();
    if (o.keepLogs) herald.copyLogs(o.keepLogs);
    await herald.destroy();
    await kaCluster?.destroy();
  }
  return { at, nodes: o.nodes, vrrpAdvertInt: o.vrrpAdvertInt, phases };
}

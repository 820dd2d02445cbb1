import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../util/paths.js';
import { pollUntil } from '../util/wait.js';
import { ECHO_PORT, type LabCluster, type LabNode } from './cluster.js';

export interface FailoverMeasurement {
  ip: string;
  killed: string;
  newOwner: string | undefined;
  /** Kill → first HTTP answer through another node, as the client saw it. */
  failoverMs: number | undefined;
  /** Probe requests that timed out or failed after the kill. */
  failedRequests: number;
  /**
   * Epoch ms: fail() started (the clock of failoverMs), the owner unreachable (its link down: requests
   * sent from then on count), fail() done (processes killed too).
   */
  killedAt: number;
  cutAt: number;
  failedAt: number;
  /** Epoch ms: the first answer through another node arrived, and when its request was sent. */
  answeredAt: number | undefined;
  answerSentAt: number | undefined;
  /** Requests each node's backend answered in the warm-up right before the kill (warmBackends). */
  warmed: Record<string, number>;
}

/**
 * Each node's backend answers `perNode` requests sent from the client to the node's own address (of the
 * VIP's family): run right before a kill, the node that takes the VIP over then serves it with a backend
 * as warm as the old owner's, which had been serving the probe. Without it the first answers through
 * the new owner waited for its idle backend (a Node HTTP server that had not served for seconds, or a
 * fresh one restarted by the previous trial): 40-290 ms after the TCP handshake had completed, on the
 * loaded 2-vCPU machine, counted as failover although the VIP already answered. Flow mode never showed
 * it (every node's backend serves steered flows), keepalived's backup did too. Returns node → answers.
 */
export async function warmBackends(
  cluster: LabCluster,
  family: 4 | 6,
  perNode = 3,
): Promise<Record<string, number>> {
  const client = cluster.clients[0];
  if (!client) throw new Error('the lab has no client namespace');
  const ips = cluster.nodes.map((n) => (family === 6 ? n.ip6 : n.ip4));
  const script = join(projectRoot(), 'dist', 'src', 'lab', 'http-probe.js');
  // A node that is down answers nothing: the count reports it failed, the warm-up goes on.
  const { stdout } = await cluster.lan.run(client.ns, process.execPath, [
    script,
    'count',
    ips.join(','),
    String(ECHO_PORT),
    String(perNode),
  ]);
  const warmed: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const { nodes } = JSON.parse(line) as { nodes: Record<string, number> };
    for (const [node, n] of Object.entries(nodes)) warmed[node] = (warmed[node] ?? 0) + n;
  }
  return warmed;
}

interface ProbeAnswer {
  t: number;
  /** When the request was sent. */
  s: number;
  node?: string;
  error?: string;
}

/**
 * Times a failover the way a client lives it: an HTTP probe every 10 ms from the first client namespace
 * against `ip`; once it reaches `owner`, `fail()` runs; the result is the time until the first answer
 * from any other node. Used by `herald lab` and bench/failover.
 */
export async function measureFailover(
  cluster: LabCluster,
  ip: string,
  owner: LabNode,
  fail: (cut: () => void) => Promise<void>,
): Promise<FailoverMeasurement> {
  const client = cluster.clients[0];
  if (!client) throw new Error('the lab has no client namespace');
  const script = join(projectRoot(), 'dist', 'src', 'lab', 'http-probe.js');
  const probe: ChildProcess = cluster.lan.spawn(
    client.ns,
    process.execPath,
    [script, 'watch', ip, String(ECHO_PORT), '10', '20000'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const answers: ProbeAnswer[] = [];
  let buffered = '';
  probe.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line) answers.push(JSON.parse(line) as ProbeAnswer);
  });
  try {
    if ((await pollUntil(15_000, () => answers.some((a) => a.node === owner.name), 20)) === undefined) {
      const by = new Map<string, number>();
      for (const a of answers) by.set(a.node ?? a.error ?? '?', (by.get(a.node ?? a.error ?? '?') ?? 0) + 1);
      const seen = [...by].map(([k, n]) => `${k} ×${n}`).join(', ') || 'nothing';
      throw new Error(`the probe never reached ${owner.name} through ${ip} in 15 s (it got: ${seen})`);
    }
    const warmed = await warmBackends(cluster, ip.includes(':') ? 6 : 4);
    const killedAt = Date.now();
    let cutAt: number | undefined;
    await fail(() => (cutAt ??= Date.now()));
    // Requests sent before the owner was cut off may still reach it, and in flow mode it steers them to
    // another node: only requests sent once it is unreachable count (link down; the kill of its processes
    // that follows took 0.1-0.7 s at load 16 and is no part of the failover), timed from the start.
    const failedAt = Date.now();
    const from = cutAt ?? failedAt;
    let first: ProbeAnswer | undefined;
    await pollUntil(
      15_000,
      () => {
        first = answers.find((a) => a.s > from && a.node !== undefined && a.node !== owner.name);
        return first !== undefined;
      },
      20,
    );
    return {
      ip,
      killed: owner.name,
      newOwner: first?.node,
      failoverMs: first ? first.t - killedAt : undefined,
      failedRequests: answers.filter((a) => a.t > killedAt && a.error !== undefined).length,
      killedAt,
      cutAt: from,
      failedAt,
      answeredAt: first?.t,
      answerSentAt: first?.s,
      warmed,
    };
  } finally {
    probe.kill('SIGKILL');
  }
}

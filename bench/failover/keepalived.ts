/**
 * keepalived (VRRPv3) on the same namespaces as Herald: one instance for the IPv4 VIP and one for the
 * IPv6 VIP, priorities by node index, timers as given. The master holds the VIP on eth0 and the kernel
 * answers ARP/NDP for it (the other nodes hold it on lo only, with arp_ignore=1).
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabCluster, LabNode } from '../../src/lab/cluster.js';
import { pollUntil } from '../../src/util/wait.js';

export interface VrrpTimers {
  /** Advertisement interval in seconds (VRRPv3 allows centiseconds). */
  advertInt: number;
}

export function keepalivedConf(
  node: LabNode,
  index: number,
  vips: { v4: string; v6: string },
  t: VrrpTimers,
) {
  const instance = (name: string, vrid: number, vip: string, prefix: number) => `vrrp_instance ${name} {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority ${200 - index}
  advert_int ${t.advertInt}
  virtual_ipaddress {
    ${vip}/${prefix} dev eth0
  }
}
`;
  return `global_defs {
  router_id ${node.name}
  vrrp_version 3
  vrrp_garp_master_delay 5
}
${instance('lab4', 77, vips.v4, 24)}${instance('lab6', 78, vips.v6, 64)}`;
}

/** Runs one keepalived per node; counts "Entering MASTER STATE" lines per node (takeovers). */
export class KeepalivedCluster {
  private readonly procs = new Map<string, ChildProcess>();
  readonly masterEntries = new Map<string, number>();
  /** VRRP child pids killed and not yet seen gone, by node. */
  private readonly killed = new Map<string, number>();
  /** Every keepalived's console log, each line prefixed with the epoch ms and the node. */
  readonly logFile: string;

  constructor(
    private readonly cluster: LabCluster,
    private readonly vips: { v4: string; v6: string },
    private readonly timers: VrrpTimers,
  ) {
    this.logFile = join(cluster.workDir, 'keepalived.log');
  }

  private pidFile(node: LabNode, which: 'main' | 'vrrp' | 'chk'): string {
    return join(this.cluster.workDir, `${node.name}-${which}.pid`);
  }

  start(node: LabNode): void {
    const index = this.cluster.nodes.indexOf(node);
    const dir = this.cluster.workDir;
    const conf = join(dir, `${node.name}-keepalived.conf`);
    writeFileSync(conf, keepalivedConf(node, index, this.vips, this.timers));
    const pid = (s: 'main' | 'vrrp' | 'chk') => this.pidFile(node, s);
    const child = this.cluster.lan.spawn(
      node.ns,
      'keepalived',
      ['-n', '-l', '-P', '-f', conf, '-p', pid('main'), '-r', pid('vrrp'), '-c', pid('chk')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const count = (chunk: Buffer) => {
      const text = chunk.toString();
      const now = Date.now();
      appendFileSync(
        this.logFile,
        text
          .split('\n')
          .filter(Boolean)
          .map((line) => `${now} ${node.name} ${line}\n`)
          .join(''),
      );
      const n = text.split('Entering MASTER STATE').length - 1;
      if (n > 0) this.masterEntries.set(node.name, (this.masterEntries.get(node.name) ?? 0) + n);
    };
    child.stdout?.on('data', count);
    child.stderr?.on('data', count);
    this.procs.set(node.name, child);
  }

  startAll(): void {
    for (const n of this.cluster.nodes) this.start(n);
  }

  /**
   * A crash: SIGKILL to keepalived and to its VRRP child (killed alone, the parent's death only sends the
   * child SIGTERM, and the child's graceful stop can outlive the restart: the new keepalived then finds
   * the old child's pid file and exits, and the node never takes its VIPs back). waitGone awaits both.
   */
  kill(node: LabNode): void {
    const vrrp = this.childPid(node);
    this.procs.get(node.name)?.kill('SIGKILL');
    if (vrrp !== undefined) {
      signal(vrrp, 'SIGKILL');
      this.killed.set(node.name, vrrp);
    }
  }

  /** Resolves once the keepalived killed on `node` and its VRRP child are gone. */
  async waitGone(node: LabNode): Promise<void> {
    const child = this.procs.get(node.name);
    const vrrp = this.killed.get(node.name);
    const gone = await pollUntil(
      5000,
      () =>
        (!child || child.exitCode !== null || child.signalCode !== null) &&
        (vrrp === undefined || !alive(vrrp)),
      10,
    );
    if (gone === undefined) throw new Error(`keepalived on ${node.name} outlived SIGKILL`);
    this.killed.delete(node.name);
    // A new keepalived takes a pid file whose process still exists, even as an unreaped zombie, for a
    // running daemon and exits; a rebooted node would have none (they live in /run).
    for (const which of ['main', 'vrrp', 'chk'] as const) rmSync(this.pidFile(node, which), { force: true });
  }

  /** The VRRP child's pid: from its pid file, if that process is a child of this node's keepalived. */
  private childPid(node: LabNode): number | undefined {
    const parent = this.procs.get(node.name)?.pid;
    try {
      const pid = Number(readFileSync(this.pidFile(node, 'vrrp'), 'utf8').trim());
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm has no ')' here.
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      return parent !== undefined && ppid === parent ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The running keepalived processes of `node` (the parent and its VRRP child). */
  pids(node: LabNode): Array<{ name: 'keepalived' | 'vrrp'; pid: number }> {
    const parent = this.procs.get(node.name)?.pid;
    const vrrp = this.childPid(node);
    return [
      ...(parent !== undefined ? [{ name: 'keepalived' as const, pid: parent }] : []),
      ...(vrrp !== undefined ? [{ name: 'vrrp' as const, pid: vrrp }] : []),
    ];
  }

  /** keepalived and its VRRP child both run on `node`. */
  running(node: LabNode): boolean {
    const child = this.procs.get(node.name);
    return (
      !!child && child.exitCode === null && child.signalCode === null && this.childPid(node) !== undefined
    );
  }

  totalMasterEntries(): number {
    return [...this.masterEntries.values()].reduce((a, b) => a + b, 0);
  }

  /** Nodes holding `vip` on eth0 (the masters). */
  async holders(vip: string): Promise<string[]> {
    const out: string[] = [];
    for (const n of this.cluster.nodes) {
      const text = await this.cluster.lan.ip(n.ns, '-o', 'addr', 'show', 'dev', 'eth0').catch(() => '');
      if (text.includes(` ${vip}/`)) out.push(n.name);
    }
    return out;
  }

  async release(node: LabNode): Promise<void> {
    for (const [vip, len] of [
      [this.vips.v4, 24],
      [this.vips.v6, 64],
    ] as const)
      await this.cluster.lan
        .ip(node.ns, 'addr', 'del', `${vip}/${len}`, 'dev', 'eth0')
        .catch(() => undefined);
  }

  stopAll(): void {
    for (const n of this.cluster.nodes) {
      const vrrp = this.childPid(n);
      this.procs.get(n.name)?.kill('SIGKILL');
      if (vrrp !== undefined) signal(vrrp, 'SIGKILL');
    }
  }
}

function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** The process exists and is not a zombie (a killed child stays one until its new parent reaps it). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

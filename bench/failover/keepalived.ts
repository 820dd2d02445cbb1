/**
 * keepalived (VRRPv3) on the same namespaces as Herald: one instance for the IPv4 VIP and one for the
 * IPv6 VIP, priorities by node index, timers as given. The master holds the VIP on eth0 and the kernel
 * answers ARP/NDP for it (the other nodes hold it on lo only, with arp_ignore=1).
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabCluster, LabNode } from '../../src/lab/cluster.js';

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

  constructor(
    private readonly cluster: LabCluster,
    private readonly vips: { v4: string; v6: string },
    private readonly timers: VrrpTimers,
  ) {}

  start(node: LabNode): void {
    const index = this.cluster.nodes.indexOf(node);
    const dir = this.cluster.workDir;
    const conf = join(dir, `${node.name}-keepalived.conf`);
    writeFileSync(conf, keepalivedConf(node, index, this.vips, this.timers));
    const pid = (s: string) => join(dir, `${node.name}-${s}.pid`);
    const child = this.cluster.lan.spawn(
      node.ns,
      'keepalived',
      ['-n', '-l', '-P', '-f', conf, '-p', pid('main'), '-r', pid('vrrp'), '-c', pid('chk')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const count = (chunk: Buffer) => {
      const n = chunk.toString().split('Entering MASTER STATE').length - 1;
      if (n > 0) this.masterEntries.set(node.name, (this.masterEntries.get(node.name) ?? 0) + n);
    };
    child.stdout?.on('data', count);
    child.stderr?.on('data', count);
    this.procs.set(node.name, child);
  }

  startAll(): void {
    for (const n of this.cluster.nodes) this.start(n);
  }

  kill(node: LabNode): void {
    this.procs.get(node.name)?.kill('SIGKILL');
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
    for (const p of this.procs.values()) p.kill('SIGKILL');
  }
}

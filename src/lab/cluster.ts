import { HERALD_NODE_FLAGS } from '../util/node-flags.js';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../util/paths.js';
import { VirtualLan } from './netns.js';

// Not `import ... from 'node:crypto'`: see the no-restricted-syntax rule in eslint.config.js.
const { randomBytes } = process.getBuiltinModule('node:crypto');

/** Addressing of the lab LAN: one /24 and one /64, nodes from .11, clients from .101, router .1. */
export const LAB_NET4 = '10.77.0';
export const LAB_NET6 = 'fd77::';
export const ECHO_PORT = 8080;

export interface LabHost {
  name: string;
  ns: string;
  ip4: string;
  ip6: string;
}

export interface LabNode extends LabHost {
  pinDir: string;
  apiSocket: string;
  speaker?: ChildProcess;
  echo?: ChildProcess;
  logFile: string;
}

export interface LabClusterOptions {
  /** Namespace tag: namespaces are hrl-<tag>-*. */
  tag: string;
  nodes: number;
  clients: number;
  /** Standalone configuration every speaker reads. */
  config: string;
  /**
   * VIPs the nodes accept traffic for. Standalone speakers put the ones they serve on lo themselves;
   * in Kubernetes mode the lab puts them all there, as kube-proxy would accept them.
   */
  vips: string[];
  /** First three octets of the LAN's IPv4 /24 (default LAB_NET4); a router is its .1. */
  net4?: string;
  /** The LAN's IPv6 /64 prefix ending in '::' (default LAB_NET6); a router is its ::1. */
  net6?: string;
  xdpMode?: 'auto' | 'native' | 'generic';
  extraSpeakerArgs?: string[];
  /** Command the speaker runs under (e.g. setpriv with a capability bounding set). */
  speakerWrapper?: string[];
  /** Kubernetes mode: speakers read the API server (no --config) with this kubeconfig and namespace. */
  kubernetes?: { kubeconfig: string; namespace: string };
  /**
   * Clients behind a router: a router namespace on the LAN (.1) and this many client namespaces r1..rN,
   * each on its own link behind it (LAB_ROUTED_NET4.N.2/24, LAB_ROUTED_NET6:N::2/64). To the nodes all of
   * them are one L2 client: the router.
   */
  routedClients?: number;
  /** Adds a router namespace running BIRD as the BGP peer of every node (ECMP into its kernel). */
  router?: { asn: number; nodeAsn: number; routedPrefixes: string[] };
}

export const LAB_ROUTER_IP4 = `${LAB_NET4}.1`;

/** How one speaker start differs from the lab's defaults (tests of wrong keys and reused names). */
export interface SpeakerOverrides {
  /** --node (default: the node's own name). */
  name?: string;
  /** A gossip key file of its own, or null: no key (--insecure-gossip). Default: the lab's key. */
  keyFile?: string | null;
}
export const LAB_ROUTER_IP6 = `${LAB_NET6}1`;
/** Networks of the clients behind the router: 10.79.N.0/24 and fd79:N::/64 for client rN. */
export const LAB_ROUTED_NET4 = '10.79';
export const LAB_ROUTED_NET6 = 'fd79';

/** BIRD as a ToR: accepts every speaker of the LAN, installs ECMP routes, BFD on. */
export function birdConfig(localAsn: number, speakerAsn: number, net4 = LAB_NET4): string {
  return `router id ${net4}.1;
protocol device { scan time 10; }
protocol kernel kern4 { ipv4 { import none; export where source = RTS_BGP; }; merge paths on limit 16; }
protocol bfd { interface "eth0" { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; }; }
template bgp speakers4 {
  local ${net4}.1 as ${localAsn}; neighbor range ${net4}.0/24 as ${speakerAsn}; passive on;
  hold time 9; keepalive time 3; ipv4 { import all; export none; }; dynamic name "spk4_"; bfd on;
}
protocol bgp speakers4_listener from speakers4 { }
`;
}

/**
 * A LAN of network namespaces with real Herald speakers: nodes n1..nN and clients c1..cK on one bridge.
 * Standalone speakers hold the VIPs they serve on lo and keep the kernel silent for them (arp_ignore=1),
 * so only an XDP answer entry makes a node reachable for a VIP. Used by `herald lab` and the tests.
 */
export class LabCluster {
  readonly lan: VirtualLan;
  readonly nodes: LabNode[] = [];
  readonly clients: LabHost[] = [];
  /** Clients behind the router (routedClients). */
  readonly routedClients: LabHost[] = [];
  router: (LabHost & { birdSocket: string }) | undefined;
  readonly workDir: string;
  readonly configPath: string;
  /** The gossip key every speaker shares (a fresh random key per lab). */
  readonly keyFile: string;

  private constructor(readonly options: LabClusterOptions) {
    this.lan = new VirtualLan(options.tag);
    this.workDir = mkdtempSync(join(tmpdir(), `herald-${options.tag}-`));
    this.configPath = join(this.workDir, 'herald.yaml');
    writeFileSync(this.configPath, options.config);
    this.keyFile = join(this.workDir, 'gossip.key');
    writeFileSync(this.keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    // Pinned maps live in the global bpffs, not in the namespaces: remove them even on a crash.
    process.once('exit', this.removePins);
  }

  private readonly removePins = () => {
    for (const node of this.nodes) rmSync(node.pinDir, { recursive: true, force: true });
  };

  static async create(options: LabClusterOptions): Promise<LabCluster> {
    const cluster = new LabCluster(options);
    try {
      await cluster.build();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  private async build(): Promise<void> {
    const { lan, options } = this;
    const net4 = options.net4 ?? LAB_NET4;
    const net6 = options.net6 ?? LAB_NET6;
    const hub = await lan.createNamespace('hub');
    const members: Array<{ ns: string; ifname: string; addrs: string[] }> = [];
    for (let i = 1; i <= options.nodes; i++) {
      const name = `n${i}`;
      const ns = await lan.createNamespace(name);
      const node: LabNode = {
        name,
        ns,
        ip4: `${net4}.${10 + i}`,
        ip6: `${net6}${(10 + i).toString(16)}`,
        pinDir: `/sys/fs/bpf/${ns}`,
        apiSocket: join(this.workDir, `${name}.sock`),
        logFile: join(this.workDir, `${name}.log`),
      };
      this.nodes.push(node);
      members.push({ ns, ifname: 'eth0', addrs: [`${node.ip4}/24`, `${node.ip6}/64`] });
    }
    for (let j = 1; j <= options.clients; j++) {
      const name = `c${j}`;
      const ns = await lan.createNamespace(name);
      const host = { name, ns, ip4: `${net4}.${100 + j}`, ip6: `${net6}${(256 + j).toString(16)}` };
      this.clients.push(host);
      members.push({ ns, ifname: 'eth0', addrs: [`${host.ip4}/24`, `${host.ip6}/64`] });
    }
    if (options.router || options.routedClients) {
      const ns = await lan.createNamespace('rtr');
      this.router = {
        name: 'rtr',
        ns,
        ip4: `${net4}.1`,
        ip6: `${net6}1`,
        birdSocket: join(this.workDir, 'bird.ctl'),
      };
      members.push({ ns, ifname: 'eth0', addrs: [`${net4}.1/24`, `${net6}1/64`] });
    }
    await lan.bridge(hub, members);
    if (options.router && this.router) await this.startRouter(this.router, options.router);
    if (options.routedClients && this.router) await this.addRoutedClients(this.router, options.routedClients);
    for (const node of this.nodes) {
      // failNode takes the link down: keep the IPv6 address (and its on-link route) for restoreNode.
      await lan.exec(node.ns, 'sysctl', ['-qw', 'net.ipv6.conf.eth0.keep_addr_on_down=1']);
      if (options.kubernetes) await this.actAsKubeProxy(node);
      this.startEcho(node);
    }
  }

  /** What kube-proxy would do in Kubernetes mode: accept every VIP, keep the kernel silent for them. */
  private async actAsKubeProxy(node: LabNode): Promise<void> {
    const lan = this.lan;
    for (const [key, value] of [
      ['net.ipv4.conf.all.arp_ignore', '1'],
      ['net.ipv4.conf.all.arp_announce', '2'],
    ]) {
      await lan.exec(node.ns, 'sysctl', ['-qw', `${key}=${value}`]);
    }
    for (const vip of this.options.vips) {
      await lan.ip(node.ns, 'addr', 'add', vip.includes(':') ? `${vip}/128` : `${vip}/32`, 'dev', 'lo');
    }
  }

  private async startRouter(
    router: LabHost & { birdSocket: string },
    opts: NonNullable<LabClusterOptions['router']>,
  ): Promise<void> {
    const conf = join(this.workDir, 'bird.conf');
    writeFileSync(conf, birdConfig(opts.asn, opts.nodeAsn, this.options.net4));
    await this.lan.exec(router.ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    await this.lan.exec(router.ns, 'sysctl', ['-qw', 'net.ipv4.fib_multipath_hash_policy=1']);
    this.lan.spawn(
      router.ns,
      'bird',
      ['-f', '-c', conf, '-s', router.birdSocket, '-P', join(this.workDir, 'bird.pid')],
      {
        stdio: 'ignore',
      },
    );
    for (const client of this.clients) {
      for (const prefix of opts.routedPrefixes)
        await this.lan.ip(client.ns, 'route', 'add', prefix, 'via', router.ip4);
    }
  }

  private async addRoutedClients(router: LabHost, count: number): Promise<void> {
    const { lan } = this;
    await lan.exec(router.ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    await lan.exec(router.ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
    for (let j = 1; j <= count; j++) {
      const name = `r${j}`;
      const ns = await lan.createNamespace(name);
      const net4 = `${LAB_ROUTED_NET4}.${j}`;
      const net6 = `${LAB_ROUTED_NET6}:${j.toString(16)}::`;
      await lan.link(
        { ns: router.ns, ifname: `down${j}`, addrs: [`${net4}.1/24`, `${net6}1/64`] },
        { ns, ifname: 'eth0', addrs: [`${net4}.2/24`, `${net6}2/64`] },
      );
      await lan.ip(ns, 'route', 'add', 'default', 'via', `${net4}.1`);
      await lan.ip(ns, '-6', 'route', 'add', 'default', 'via', `${net6}1`);
      this.routedClients.push({ name, ns, ip4: `${net4}.2`, ip6: `${net6}2` });
    }
    for (const node of this.nodes) {
      await lan.ip(node.ns, 'route', 'add', `${LAB_ROUTED_NET4}.0.0/16`, 'via', router.ip4);
      await lan.ip(node.ns, '-6', 'route', 'add', `${LAB_ROUTED_NET6}::/16`, 'via', router.ip6);
    }
  }

  /** Nexthops of the router's kernel route to `prefix` (the ECMP set BIRD installed). */
  async routerNexthops(prefix: string): Promise<string[]> {
    if (!this.router) return [];
    const out = await this.lan.ip(this.router.ns, 'route', 'show', prefix).catch(() => '');
    return [...out.matchAll(/via (\S+)/g)].map((m) => m[1] ?? '').sort();
  }

  startEcho(node: LabNode): void {
    const script = join(projectRoot(), 'dist', 'src', 'lab', 'http-echo.js');
    node.echo = this.lan.spawn(node.ns, process.execPath, [script, node.name, String(ECHO_PORT)], {
      stdio: 'ignore',
    });
  }

  speakerArgs(node: LabNode, overrides: SpeakerOverrides = {}): string[] {
    const seeds = this.nodes.filter((n) => n !== node).flatMap((n) => ['--join', `${n.ip4}:7946`]);
    const keyFile = overrides.keyFile === undefined ? this.keyFile : overrides.keyFile;
    return [
      ...HERALD_NODE_FLAGS,
      join(projectRoot(), 'dist', 'src', 'cli', 'main.js'),
      'speaker',
      '--node',
      overrides.name ?? node.name,
      ...(keyFile === null ? ['--insecure-gossip'] : ['--key-file', keyFile]),
      ...(this.options.kubernetes
        ? [
            '--kubeconfig',
            this.options.kubernetes.kubeconfig,
            '--namespace',
            this.options.kubernetes.namespace,
          ]
        : ['--config', this.configPath]),
      '--interface',
      'eth0',
      '--bind',
      `${node.ip4}:7946`,
      ...seeds,
      '--pin-dir',
      node.pinDir,
      '--api-socket',
      node.apiSocket,
      '--xdp-mode',
      this.options.xdpMode ?? 'generic',
      ...(this.options.extraSpeakerArgs ?? []),
    ];
  }

  /** Starts (or restarts) the speaker of a node; its log goes to node.logFile. */
  startSpeaker(node: LabNode, overrides: SpeakerOverrides = {}): ChildProcess {
    writeFileSync(node.logFile, '', { flag: 'a' });
    // `env -u NODE_OPTIONS`: not under a test runner's module hooks (tap puts them back into the
    // environment of every child it sees spawned); loading the Kubernetes client under them takes ×3 CPU.
    const wrapper = this.options.speakerWrapper ?? [];
    const args = ['-u', 'NODE_OPTIONS', ...wrapper, process.execPath, ...this.speakerArgs(node, overrides)];
    const child = this.lan.spawn(node.ns, 'env', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, HERALD_LOG_LEVEL: process.env.HERALD_LOG_LEVEL ?? 'info' },
    });
    child.stderr?.on('data', (chunk: Buffer) => writeFileSync(node.logFile, chunk, { flag: 'a' }));
    node.speaker = child;
    return child;
  }

  async startAll(): Promise<void> {
    for (const node of this.nodes) this.startSpeaker(node);
  }

  /** Kills a node's speaker; the node itself (its echo server, its link) stays up. */
  async killSpeaker(node: LabNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = node.speaker;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Simulates the node dying: speaker and backend killed, link down. */
  /** Link down, then backend and speaker SIGKILLed; `cut` is called once the link is down (unreachable). */
  async failNode(node: LabNode, cut: () => void = () => undefined): Promise<void> {
    await this.lan.ip(node.ns, 'link', 'set', 'eth0', 'down');
    cut();
    node.echo?.kill('SIGKILL');
    await this.killSpeaker(node, 'SIGKILL');
  }

  /** Brings a failed node back: link up and backend running (start its speaker separately). */
  async restoreNode(node: LabNode): Promise<void> {
    await this.lan.ip(node.ns, 'link', 'set', 'eth0', 'up');
    this.startEcho(node);
  }

  /** Copies every speaker's log (those that exist) into dir as NAME.log (a cluster per directory), before destroy() removes them. */
  copyLogs(dir: string): void {
    mkdirSync(dir, { recursive: true });
    for (const n of this.nodes)
      if (existsSync(n.logFile)) copyFileSync(n.logFile, join(dir, `${n.name}.log`));
  }

  async destroy(): Promise<void> {
    for (const node of this.nodes) {
      await this.killSpeaker(node, 'SIGKILL').catch(() => undefined);
      // Detach and unpin what the speaker left behind (its namespace is about to go anyway).
      await this.lan
        .exec(node.ns, process.execPath, [
          join(projectRoot(), 'dist', 'src', 'cli', 'main.js'),
          'speaker',
          '--cleanup',
          '--interface',
          'eth0',
          '--pin-dir',
          node.pinDir,
        ])
        .catch(() => rmSync(node.pinDir, { recursive: true, force: true }));
    }
    await this.lan.destroy();
    this.removePins();
    process.removeListener('exit', this.removePins);
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

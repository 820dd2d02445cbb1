import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { type HeraldModel, parseConfigTexts, type Problem } from '../../../src/config/index.js';
import type { LearnedClient, VipCounters, VipEntry } from '../../../src/datapath/xdp-layout.js';
import { JoinError, type SeedOutcome } from '../../../src/membership/index.js';
import { Stats, type MembershipStats } from '../../../src/membership/stats.js';
import { DEFAULT_GATE_SETTINGS, deriveGateTiming } from '../../../src/l2/gate.js';
import type { OwnerWatchEvents } from '../../../src/l2/watch/driver.js';
import type { PeerReadiness, WatchVerdict } from '../../../src/l2/watch/peer.js';
import type { WatchTargets } from '../../../src/l2/watch/targets.js';
import type { ArmedTakeovers } from '../../../src/l2/watch/takeover.js';
import { PROFILES } from '../../../src/membership/config.js';
import type { Member, MemberlistEvents, MemberState } from '../../../src/membership/types.js';
import type { L2VipSpec } from '../../../src/l2/reconciler.js';
import type { VipGroup } from '../../../src/speaker/l2-inputs.js';
import { SpeakerL2 } from '../../../src/speaker/l2-part.js';
import { encodeNodeMeta, type NodeMeta } from '../../../src/speaker/node-meta.js';
import type { SpeakerOptions } from '../../../src/speaker/options.js';
import type {
  BgpPart,
  OwnerWatchPart,
  SpeakerDatapath,
  SpeakerMembership,
  SpeakerParts,
} from '../../../src/speaker/parts.js';
import { Speaker } from '../../../src/speaker/speaker.js';
import type { Logger } from '../../../src/util/log.js';

/** In-memory stand-ins for the speaker's parts: no kernel, no sockets, no root. */

export function parseModel(yaml: string): HeraldModel {
  const { model, problems } = parseConfigTexts([{ text: yaml, fileName: 'test.yaml' }]);
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return model;
}

/** Six single-owner VIPs (services s1..s6 in one pool) with endpoints on `nodes`. */
export function sixServices(nodes: readonly string[]): string {
  const endpoints = nodes.map((n) => `{ nodeName: ${n} }`).join(', ');
  return `
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: lan }
spec: { addresses: [10.0.0.200-10.0.0.209] }
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: lan }
spec: { ipAddressPools: [lan] }
${['s1', 's2', 's3', 's4', 's5', 's6']
  .map(
    (name) => `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
endpoints: [${endpoints}]`,
  )
  .join('\n')}
`;
}

export class FakeSource extends EventEmitter<{ change: [HeraldModel]; rejected: [Problem[]] }> {
  stopped = false;
  constructor(private model: HeraldModel) {
    super();
  }
  async start(): Promise<HeraldModel> {
    return this.model;
  }
  current(): HeraldModel | undefined {
    return this.model;
  }
  stop(): void {
    this.stopped = true;
  }
  replace(model: HeraldModel): void {
    this.model = model;
    this.emit('change', model);
  }
}

export class FakeDatapath implements SpeakerDatapath {
  readonly entries = new Map<string, VipEntry>();
  heartbeats = 0;
  closed = false;
  writes = 0;
  setVip(ip: string, spec: L2VipSpec): void {
    this.writes++;
    this.entries.set(ip, {
      action: spec.action,
      mac: spec.mac ?? Buffer.alloc(6),
      ifindex: spec.ifindex ?? 0,
      vlan: 0,
      buckets: spec.buckets ?? 0n,
    });
  }
  deleteVip(ip: string): void {
    this.writes++;
    this.entries.delete(ip);
  }
  setVips(entries: ReadonlyArray<readonly [string, L2VipSpec]>): void {
    for (const [ip, spec] of entries) this.setVip(ip, spec);
  }
  deleteVips(ips: readonly string[]): void {
    for (const ip of ips) this.deleteVip(ip);
  }
  vips(): Map<string, VipEntry> {
    return new Map(this.entries);
  }
  learnedClients(): LearnedClient[] {
    return [];
  }
  /** The last stamp written (0n = gate shut on purpose). */
  lastBeat: bigint | undefined;
  heartbeat(atNs?: bigint): void {
    this.heartbeats++;
    this.lastBeat = atNs ?? process.hrtime.bigint();
  }
  counters(): Map<string, VipCounters> {
    return new Map();
  }
  close(): void {
    this.closed = true;
  }
  action(ip: string): string | undefined {
    return this.entries.get(ip)?.action;
  }
}

export const IFACE = { name: 'eth0', cidrs: ['10.0.0.1/24', 'fd00::1/64'] };

export function member(name: string, state: MemberState = 'alive', meta?: NodeMeta): Member {
  return {
    name,
    address: `10.0.0.${name.charCodeAt(0) - 96}`,
    port: 7946,
    state,
    incarnation: 1,
    meta: encodeNodeMeta(
      meta ?? { interfaces: [{ ...IFACE, cidrs: [`10.0.0.${name.charCodeAt(0) - 96}/24`] }], labels: {} },
    ),
  };
}

export class FakeMembership extends EventEmitter<MemberlistEvents> implements SpeakerMembership {
  readonly table = new Map<string, Member>();
  readonly joins: string[][] = [];
  readonly broadcasts: Array<{ payload: Buffer; key?: string }> = [];
  /** How many seeds answer a join (0 = nobody); a function decides per call. */
  answer: (seeds: string[]) => number = () => 0;
  left = false;
  shut = false;

  constructor(readonly self: string) {
    super();
    this.table.set(self, member(self));
  }
  members(): Member[] {
    return [...this.table.values()];
  }
  /** Seeds that are there but refuse this node (wrong key, name conflict) or are busy; undefined: none. */
  refuse: Exclude<SeedOutcome, 'joined'> | undefined;
  /** Per seed, what a join through it comes to (after an optional delay); overrides refuse and answer. */
  outcome: ((seed: string) => { outcome: SeedOutcome; afterMs?: number }) | undefined;
  async join(seeds: string[]): Promise<number> {
    this.joins.push(seeds);
    const outcome = this.outcome;
    if (outcome) {
      const each = seeds.map((seed) => ({ seed, ...outcome(seed) }));
      const wait = Math.max(0, ...each.map((e) => e.afterMs ?? 0));
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (each.some((e) => e.outcome === 'joined')) return each.filter((e) => e.outcome === 'joined').length;
      throw new JoinError(
        each.map((e) => ({ seed: e.seed, outcome: e.outcome, error: `${e.seed} ${e.outcome}` })),
      );
    }
    const refuse = this.refuse;
    if (refuse)
      throw new JoinError(seeds.map((seed) => ({ seed, outcome: refuse, error: `${seed} ${refuse}` })));
    return this.answer(seeds);
  }
  address(): { address: string; port: number } {
    return { address: this.table.get(this.self)?.address ?? '', port: 7946 };
  }
  encrypted(): boolean {
    return true;
  }
  stats(): MembershipStats {
    return new Stats().snapshot(0);
  }
  setMeta(meta: Buffer): void {
    const me = this.table.get(this.self);
    if (me) this.table.set(this.self, { ...me, meta, incarnation: me.incarnation + 1 });
  }
  broadcast(payload: Buffer, opts: { key?: string } = {}): void {
    this.broadcasts.push({ payload, ...opts });
  }
  async leave(): Promise<void> {
    this.left = true;
  }
  async shutdown(): Promise<void> {
    this.shut = true;
  }
  /** Puts a member into the table with a state and emits the matching event. */
  set(name: string, state: MemberState, meta?: NodeMeta): void {
    const known = this.table.has(name);
    const m = member(name, state, meta);
    this.table.set(name, m);
    const event = !known ? 'join' : state === 'dead' ? 'dead' : state === 'suspect' ? 'suspect' : 'alive';
    this.emit(event, m);
  }
}

/** The owner watch without sockets: pulses the heartbeat once ready; verdicts are set by the test. */
export class FakeWatch extends EventEmitter<OwnerWatchEvents> implements OwnerWatchPart {
  readonly verdicts = new Map<string, WatchVerdict>();
  targets: WatchTargets = { watching: new Set(), watchedBy: new Set() };
  ready = false;
  stopped: { adminDown?: boolean } | undefined;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly datapath: FakeDatapath,
    private readonly intervalMs: number,
  ) {
    super();
  }
  start(): void {
    this.timer = setInterval(() => this.ready && this.datapath.heartbeat(), this.intervalMs);
  }
  setReady(): void {
    this.ready = true;
  }
  appliedOnce = false;
  applied(): void {
    this.appliedOnce = true;
  }
  /** What each peer's packets say about its start; a peer not set here is ready (as before the flag). */
  readinessOf = new Map<string, PeerReadiness>();
  readiness(peer: string): PeerReadiness {
    return this.readinessOf.get(peer) ?? 'ready';
  }
  /** Sets a peer's readiness and tells the speaker, as the real watch does. */
  setReadiness(peer: string, readiness: PeerReadiness): void {
    this.readinessOf.set(peer, readiness);
    this.emit('readiness', { peer, readiness });
  }
  setTargets(targets: WatchTargets): void {
    this.targets = targets;
  }
  holding: ReadonlySet<string> = new Set();
  /** The verdict events the last holding set accounts for. */
  holdingSeen = 0;
  private seq = 0;
  setHolding(peers: ReadonlySet<string>, seen = this.seq): void {
    this.holding = peers;
    this.holdingSeen = seen;
  }
  armed: ArmedTakeovers = [];
  arm(byOwner: ArmedTakeovers): void {
    this.armed = byOwner;
  }
  /**
   * What the pulse thread does on a down verdict (speaker/watch-takeover.ts): the VIPs armed for `peer`
   * answer in the datapath at once, then the speaker hears of the verdict and of the takeover.
   */
  takeOver(peer: string): string[] {
    const ips = (this.armed.find(([owner]) => owner === peer)?.[1] ?? []).map((v) => v.ip);
    for (const ip of ips) this.datapath.setVip(ip, { action: 'answer' });
    this.armed = this.armed.filter(([owner]) => owner !== peer);
    const previous = this.verdict(peer);
    this.verdicts.set(peer, 'down');
    this.emit('verdict', { peer, verdict: 'down', previous, seq: ++this.seq, took: { ips } });
    return ips;
  }
  verdict(peer: string): WatchVerdict {
    return this.verdicts.get(peer) ?? 'unknown';
  }
  verdictsSeen(): number {
    return this.seq;
  }
  /** Sets a verdict and tells the speaker, as the real watch does. */
  set(peer: string, verdict: WatchVerdict): void {
    const previous = this.verdict(peer);
    this.verdicts.set(peer, verdict);
    this.emit('verdict', { peer, verdict, previous, seq: ++this.seq });
  }
  fresh(): boolean {
    return this.ready;
  }
  stop(opts: { adminDown?: boolean } = {}): void {
    clearInterval(this.timer);
    this.stopped = opts;
  }
}

export class FakeBgp implements BgpPart {
  readonly updates: Array<{ groups: readonly VipGroup[]; excluded: boolean }> = [];
  stoppedGraceful: boolean | undefined;
  async update(
    _model: HeraldModel,
    groups: readonly VipGroup[],
    _labels: Record<string, string>,
    excluded: boolean,
  ): Promise<void> {
    this.updates.push({ groups, excluded });
  }
  advertised(): ReadonlySet<string> {
    return new Set();
  }
  sessions() {
    return [];
  }
  async stop(graceful: boolean): Promise<void> {
    this.stoppedGraceful = graceful;
  }
}

export function options(node: string, over: Partial<SpeakerOptions> = {}): SpeakerOptions {
  return {
    node,
    interfaces: [],
    bind: { host: '0.0.0.0', port: 7946 },
    join: [],
    pinDir: '/nonexistent',
    xdpMode: 'auto',
    heartbeatMs: 20,
    watchDetectMult: 10,
    profile: 'fast-lan',
    keys: [],
    labels: {},
    startupGraceMs: 100,
    resyncMs: 60_000,
    allocation: 'compute',
    ...over,
  };
}

export interface Rig {
  speaker: Speaker;
  source: FakeSource;
  datapath: FakeDatapath;
  membership: FakeMembership;
  bgp: FakeBgp;
  watch: FakeWatch;
  frames: Array<{ ifname: string; frame: Buffer }>;
  logs: Array<{ level: number; msg: string }>;
}

/** A speaker on fakes, not started; `rig.speaker.start()` starts it. */
export function rig(
  node: string,
  model: HeraldModel,
  over: Partial<SpeakerOptions> = {},
  datapath = new FakeDatapath(),
  extra: Pick<SpeakerParts, 'health' | 'rescanInterfaces' | 'stages' | 'watchLinks'> = {},
): Rig {
  const logs: Rig['logs'] = [];
  const log: Logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  const source = new FakeSource(model);
  const membership = new FakeMembership(node);
  const bgp = new FakeBgp();
  const frames: Rig['frames'] = [];
  const opts = options(node, over);
  const l2 = new SpeakerL2({
    node,
    datapath,
    interfaces: [{ name: 'eth0', ifindex: 2, mac: Buffer.from('02aabbccdd01', 'hex') }],
    frames: {
      send: (ifname, fs) => fs.forEach((frame) => frames.push({ ifname, frame })),
      close: () => undefined,
    },
    log,
    burstMs: [0],
    refreshMs: 60_000,
  });
  const watch = new FakeWatch(datapath, opts.heartbeatMs);
  const speaker = new Speaker({
    watch,
    gate: deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, swim: PROFILES[opts.profile] }),
    options: opts,
    log,
    source,
    datapath,
    attached: new Map([['eth0', 'generic']]),
    l2,
    bgp,
    membership,
    meta: { interfaces: [{ ...IFACE, cidrs: [`10.0.0.${node.charCodeAt(0) - 96}/24`] }], labels: {} },
    ...extra,
  });
  return { speaker, source, datapath, membership, bgp, watch, frames, logs };
}

import { EventEmitter } from 'node:events';
import { emptyModel, type HeraldModel, type Problem } from '../config/types.js';
import { validateModel } from '../config/validate.js';
import { createLogger, type Logger } from '../util/log.js';
import type { KubeConnection } from './connection.js';
import { ListWatcher } from './list-watch.js';
import { type ModelEntry, objectLocation, speakerEntry } from './model.js';
import { projectSpeakerPod, type SpeakerPod } from './project.js';

/** Same events as the standalone FileConfigSource, so the speaker takes either. */
export interface KubernetesSourceEvents {
  change: [HeraldModel];
  /** Objects that failed their checks (they are left out of the model; everything else is used). */
  rejected: [Problem[]];
  /** API reachability changed; while false the last known model stays in force. */
  connection: [boolean];
}

export interface KubernetesSourceOptions {
  /** The speaker's own API connection (k8s/connection.ts), not client-node's KubeConfig. */
  connection: KubeConnection;
  /** Namespace holding Herald's (and MetalLB's) configuration objects and the speaker pods. */
  namespace: string;
  /** Label selector of the speaker pods (gossip peer discovery); default the chart's. */
  speakerSelector?: string;
  /** Also read metallb.io objects from the namespace when that API exists (default true). */
  metallbCompat?: boolean;
  /** Changes within this window are coalesced into one `change` (default 10 ms). */
  debounceMs?: number;
  log?: Logger;
}

interface Source {
  watcher: ListWatcher<ModelEntry>;
  apiVersion: string;
  kind: string;
}

const heraldKinds: Array<[kind: string, plural: string]> = [
  ['IPAddressPool', 'ipaddresspools'],
  ['L2Advertisement', 'l2advertisements'],
  ['BGPAdvertisement', 'bgpadvertisements'],
  ['BGPPeer', 'bgppeers'],
  ['BFDProfile', 'bfdprofiles'],
  ['Community', 'communities'],
];
const metallbVersions: Record<string, string> = { BGPPeer: 'v1beta2' };

/**
 * The speaker's view of the cluster as H3's `HeraldModel`: informers on Services, EndpointSlices,
 * Nodes, Namespaces and the Herald (and MetalLB) CRs, turned into the same model the standalone YAML
 * file gives, so everything below the source is shared. Each object is projected to the fields the
 * speaker reads and parsed as it arrives (once per resourceVersion); only that model object is kept. The
 * model is re-assembled from those objects after a change and emitted.
 * While the API server is unreachable the informers keep their caches and nothing is emitted: the
 * speaker keeps announcing the last known state. Also lists the speaker pods' IPs as gossip seeds.
 */
export class KubernetesConfigSource extends EventEmitter<KubernetesSourceEvents> {
  private readonly log: Logger;
  private readonly sources: Source[] = [];
  private pods?: ListWatcher<SpeakerPod>;
  private model?: HeraldModel;
  private lastProblems = '';
  private problemList: Problem[] = [];
  private timer?: NodeJS.Timeout;
  /** Some object was added, changed or removed since the model was last assembled. */
  private dirty = true;
  private connected = true;
  private started = false;

  constructor(private readonly opts: KubernetesSourceOptions) {
    super();
    this.log = opts.log ?? createLogger('herald-k8s-source');
  }

  /** Starts the informers; resolves with the first model once every cache is synced. */
  async start(): Promise<HeraldModel> {
    const conn = this.opts.connection;
    const ns = this.opts.namespace;
    const add = (apiVersion: string, kind: string, path: string): void => {
      const watcher = new ListWatcher(conn, { path, decode: (raw) => speakerEntry(apiVersion, kind, raw) });
      this.sources.push({ watcher, apiVersion, kind });
    };
    add('v1', 'Service', '/api/v1/services');
    add('discovery.k8s.io/v1', 'EndpointSlice', '/apis/discovery.k8s.io/v1/endpointslices');
    add('v1', 'Node', '/api/v1/nodes');
    add('v1', 'Namespace', '/api/v1/namespaces');
    const groups: Array<[group: string, version: (kind: string) => string]> = [
      ['herald.dev', () => 'v1beta1'],
    ];
    if (this.opts.metallbCompat !== false && (await poolApiServed(conn, 'metallb.io', 'v1beta1', ns)))
      groups.push(['metallb.io', (k) => metallbVersions[k] ?? 'v1beta1']);
    for (const [group, versionOf] of groups) {
      for (const [kind, plural] of heraldKinds) {
        const version = versionOf(kind);
        add(`${group}/${version}`, kind, `/apis/${group}/${version}/namespaces/${ns}/${plural}`);
      }
    }
    const selector =
      this.opts.speakerSelector ?? 'app.kubernetes.io/component=speaker,app.kubernetes.io/part-of=herald';
    this.pods = new ListWatcher(conn, {
      path: `/api/v1/namespaces/${ns}/pods`,
      labelSelector: selector,
      decode: projectSpeakerPod,
    });
    for (const s of this.sources) {
      s.watcher.on('change', () => {
        this.dirty = true;
        this.schedule();
      });
      s.watcher.on('synced', () => {
        this.setConnected();
        this.schedule();
      });
      s.watcher.on('connected', () => this.setConnected());
      s.watcher.on('error', (e: Error) => {
        this.log.debug({ path: s.watcher.path, err: e.message }, 'watch interrupted');
        this.setConnected();
      });
    }
    this.pods.on('error', () => undefined);
    await Promise.all([...this.sources.map((s) => s.watcher.start()), this.pods.start()]);
    this.started = true;
    this.rebuild(false);
    return this.model!;
  }

  current(): HeraldModel | undefined {
    return this.model;
  }

  /** Problems of the objects left out of the current model. */
  problems(): Problem[] {
    return this.problemList;
  }

  /** Whether every informer's last list/watch attempt succeeded. */
  get apiReachable(): boolean {
    return this.connected;
  }

  /** Gossip seeds: `ip:port` of the running speaker pods (host network: the node IPs). */
  speakerPeers(port: number): string[] {
    const ips = new Set<string>();
    for (const { podIP, phase } of this.pods?.values() ?? []) {
      if (podIP && phase !== 'Failed' && phase !== 'Succeeded')
        ips.add(podIP.includes(':') ? `[${podIP}]:${port}` : `${podIP}:${port}`);
    }
    return [...ips].sort();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.sources) s.watcher.stop();
    this.pods?.stop();
  }

  private setConnected(): void {
    const now = this.sources.every((s) => s.watcher.connected);
    if (now === this.connected) return;
    this.connected = now;
    this.log.info(
      { reachable: now },
      now ? 'API server reachable again' : 'API server unreachable; keeping the last known state',
    );
    this.emit('connection', now);
  }

  private schedule(): void {
    if (!this.started || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.rebuild(true);
    }, this.opts.debounceMs ?? 10);
  }

  /** Re-assembles the model from the objects' model entries after a change; emits it. */
  private rebuild(emit: boolean): void {
    if (!this.dirty) return;
    this.dirty = false;
    const model = emptyModel();
    const problems: Problem[] = [];
    for (const s of this.sources) {
      for (const entry of s.watcher.values()) {
        if (entry.field && entry.object) (model[entry.field] as object[]).push(entry.object);
        if (entry.problems.length > 0) problems.push(...entry.problems);
      }
    }
    problems.push(...validateModel(model, objectLocation));
    this.problemList = problems;
    const problemText = JSON.stringify(problems);
    if (problemText !== this.lastProblems) {
      this.lastProblems = problemText;
      if (problems.length > 0) {
        this.log.warn(
          { problems: problems.slice(0, 20).map((p) => `${p.path}: ${p.message}`) },
          'configuration objects with problems are ignored',
        );
        if (emit) this.emit('rejected', problems);
      }
    }
    this.model = model;
    if (emit) this.emit('change', model);
  }
}

/** Whether `group/version` serves `ipaddresspools` in the namespace (e.g. MetalLB's CRDs are installed). */
async function poolApiServed(
  conn: KubeConnection,
  group: string,
  version: string,
  namespace: string,
): Promise<boolean> {
  try {
    await conn.request('GET', `/apis/${group}/${version}/namespaces/${namespace}/ipaddresspools?limit=1`);
    return true;
  } catch {
    return false;
  }
}

import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import { gossipKeys } from '../gossip-keys.js';
import { PROFILES, type ProfileName } from '../../membership/config.js';
import { parseHostPort } from '../../util/host-port.js';
import { FileConfigSource } from '../../config/file-source.js';
import { DEFAULT_CONFIG_MAX_BYTES } from '../../config/read-limited.js';
import { hostVipsStatePath, SPEAKER_DEFAULTS, type SpeakerOptions } from '../../speaker/options.js';
import type { Speaker } from '../../speaker/speaker.js';
import { lockPinDir } from '../../speaker/pin-dir.js';
import { createLogger, type LogFormat } from '../../util/log.js';
import { logFormatOption, logLevelOption } from './log-options.js';
import { preflight } from '../preflight.js';
import { parseBitsPerSecond } from '../../metrics/link.js';

const collect = (value: string, previous: string[]) => [...previous, value];

interface SpeakerFlags {
  node: string;
  config?: string;
  logLevel: string;
  logFormat: LogFormat;
  configMaxBytes: string;
  allowEmptyConfig?: boolean;
  interface: string[];
  bind: string;
  advertise?: string;
  join: string[];
  metrics?: string;
  apiSocket: string;
  apiSocketMode: string;
  pinDir: string;
  xdpMode: 'auto' | 'native' | 'generic';
  livenessMs?: string;
  heartbeatMs: string;
  watchDetectMult: string;
  profile: string;
  keyFile?: string;
  insecureGossip?: boolean;
  label: string[];
  linkCapacity: string[];
  startupGraceMs: string;
  cleanup?: boolean;
  vipInterface: string;
  hostVips: boolean;
  kubeconfig?: string;
  namespace: string;
}

export function registerSpeaker(program: Command): void {
  program
    .command('speaker')
    .description(
      'run a speaker on this node: standalone with --config FILE, else from the Kubernetes API (in-cluster or --kubeconfig)',
    )
    .option('--node <name>', "this node's name (unique in the cluster)", hostname())
    .option('--config <file>', 'standalone mode: YAML file with pools, advertisements, services')
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .option(
      '--config-max-bytes <n>',
      'refuse a configuration file larger than this',
      String(DEFAULT_CONFIG_MAX_BYTES),
    )
    .option(
      '--allow-empty-config',
      'accept a reloaded configuration without pools while the running one has some (releases every VIP)',
    )
    .option(
      '--interface <iface>',
      'interface to attach to and announce on (repeatable; default all)',
      collect,
      [],
    )
    .option('--bind <addr:port>', 'gossip bind address', SPEAKER_DEFAULTS.bind)
    .option('--advertise <addr>', 'gossip address others reach this node at (default: the bind address)')
    .option('--join <addr:port>', 'gossip seed (repeatable)', collect, [])
    .option('--metrics <addr:port>', 'serve Prometheus metrics here (/metrics)')
    .option('--api-socket <path>', 'status API unix socket', SPEAKER_DEFAULTS.apiSocket)
    .option(
      '--api-socket-mode <octal>',
      'permission bits of the status API socket (set explicitly, not from the umask)',
      SPEAKER_DEFAULTS.apiSocketMode,
    )
    .option('--pin-dir <dir>', 'bpffs directory for the pinned maps', SPEAKER_DEFAULTS.pinDir)
    .addOption(
      new Option('--xdp-mode <mode>', 'XDP attach mode')
        .choices(['auto', 'native', 'generic'])
        .default('auto'),
    )
    .option(
      '--liveness-ms <ms>',
      'XDP stops answering when the speaker is silent this long (default: derived from the timers, docs/l2.md; never longer)',
    )
    .option(
      '--heartbeat-ms <ms>',
      'heartbeat and owner-watch packet period',
      String(SPEAKER_DEFAULTS.heartbeatMs),
    )
    .option(
      '--watch-detect-mult <n>',
      'a successor takes over after this many heartbeat periods without a watch packet from the owner',
      String(SPEAKER_DEFAULTS.watchDetectMult),
    )
    .option(
      '--profile <name>',
      `gossip timer profile (${Object.keys(PROFILES).join(', ')})`,
      SPEAKER_DEFAULTS.profile,
    )
    .option(
      '--key-file <file>',
      'gossip encryption keys, one per line (hex or base64, 32 bytes, e.g. `openssl rand -hex 32`), primary first',
    )
    .option(
      '--insecure-gossip',
      'run gossip without a key: plaintext, so anyone on the LAN can join or forge membership and decide who answers ARP (trusted networks only)',
    )
    .option('--label <key=value>', 'node label for nodeSelectors (repeatable; standalone mode)', collect, [])
    .option(
      '--link-capacity <iface=rate>',
      'link capacity of an interface for utilization and placement, e.g. eth0=10G (repeatable; virtual NICs report none)',
      collect,
      [],
    )
    .option(
      '--startup-grace-ms <ms>',
      'wait this long for a join before deciding alone',
      String(SPEAKER_DEFAULTS.startupGraceMs),
    )
    .option('--kubeconfig <file>', 'Kubernetes mode (no --config): kubeconfig file (default in-cluster)')
    .option(
      '--namespace <ns>',
      "Kubernetes mode: namespace of Herald's objects and speaker pods",
      process.env.POD_NAMESPACE ?? 'herald-system',
    )
    .option(
      '--vip-interface <iface>',
      'standalone mode: interface that holds the VIPs this node serves',
      SPEAKER_DEFAULTS.vipInterface,
    )
    .option('--no-host-vips', 'standalone mode: do not put served VIPs on the host (nor set the ARP sysctls)')
    .option(
      '--cleanup',
      "uninstall: detach Herald's XDP program from the interfaces, remove the pinned maps and the VIPs it put on the host",
    )
    .action(async (flags: SpeakerFlags) => {
      if (flags.cleanup) {
        await cleanup(flags);
        return;
      }
      preflight({
        ...(flags.config !== undefined ? { config: flags.config } : {}),
        ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
        pinDir: flags.pinDir,
        interfaces: flags.interface,
      });
      const log = createLogger('speaker', flags.logLevel, flags.logFormat);
      const standalone = flags.config !== undefined;
      const base: SpeakerOptions = {
        ...toOptions(flags, standalone ? 'compute' : 'status'),
        ...(standalone && flags.hostVips
          ? { hostVips: { interface: flags.vipInterface, statePath: hostVipsStatePath(flags.apiSocket) } }
          : {}),
      };
      // Order: the pin-dir lock, then every listener, and only then the data path (in startSpeaker).
      const lock = lockPinDir(base.pinDir);
      // The first read and parse of the file runs on its worker thread from here on, while this thread
      // loads the speaker's modules and binds the listeners; startSpeaker waits for it before anything else.
      const source = flags.config
        ? new FileConfigSource(flags.config, {
            maxBytes: positive('config-max-bytes', flags.configMaxBytes),
            allowEmpty: flags.allowEmptyConfig ?? false,
          })
        : undefined;
      source?.start().catch(() => undefined);
      const { startSpeaker } = await import('../../speaker/assemble.js');
      const { startSpeakerServices } = await import('../../speaker/services.js');
      const services = await startSpeakerServices(base, log);
      let speaker: Speaker;
      if (source) {
        speaker = await startSpeaker(base, source, log);
      } else {
        const { kubernetesMode } = await import('../../speaker/kubernetes-mode.js');
        const k8s = kubernetesMode({
          kubeconfig: flags.kubeconfig,
          namespace: flags.namespace,
          node: flags.node,
          log,
        });
        const port = parseHostPort(flags.bind, '0.0.0.0').port;
        const options = { ...base, discoverSeeds: () => k8s.source.speakerPeers(port) };
        speaker = await startSpeaker(options, k8s.source, log);
        k8s.attach(speaker);
      }
      services.attach(speaker, speaker);
      const { startPlacementCoordinator } = await import('../../speaker/placement-coordinator.js');
      const { createPlacementMetrics } = await import('../../metrics/placement.js');
      const stopPlacement = startPlacementCoordinator({
        speaker,
        gossip: speaker,
        rates: services.rates,
        metrics: createPlacementMetrics(services.metrics.registry),
        log: log.child({ part: 'placement' }),
      });
      const shutdown = async (signal: string) => {
        log.info({ signal }, 'stopping (XDP program and maps stay for the next speaker)');
        stopPlacement();
        await services.stop();
        await speaker.stop();
        lock.release();
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      process.once('SIGINT', () => void shutdown('SIGINT'));
    });
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got "${text}"`);
  return n;
}

function socketMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text))
    throw new Error(`--api-socket-mode: expected octal bits like 0660, got "${text}"`);
  return parseInt(text, 8);
}

function toOptions(flags: SpeakerFlags, allocation: SpeakerOptions['allocation']): SpeakerOptions {
  const number = positive;
  if (!(flags.profile in PROFILES)) throw new Error(`--profile: unknown profile "${flags.profile}"`);
  const labels: Record<string, string> = {};
  for (const l of flags.label) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw new Error(`--label: expected key=value, got "${l}"`);
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  const linkCapacity: Record<string, number> = {};
  for (const l of flags.linkCapacity) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw new Error(`--link-capacity: expected iface=rate (eth0=10G), got "${l}"`);
    linkCapacity[l.slice(0, eq)] = parseBitsPerSecond(l.slice(eq + 1));
  }
  const keys = gossipKeys(flags);
  return {
    node: flags.node,
    interfaces: flags.interface,
    bind: parseHostPort(flags.bind, '0.0.0.0'),
    ...(flags.advertise ? { advertise: flags.advertise } : {}),
    join: flags.join,
    pinDir: flags.pinDir,
    xdpMode: flags.xdpMode,
    ...(flags.livenessMs !== undefined ? { livenessMs: number('liveness-ms', flags.livenessMs) } : {}),
    heartbeatMs: number('heartbeat-ms', flags.heartbeatMs),
    watchDetectMult: number('watch-detect-mult', flags.watchDetectMult),
    profile: flags.profile as ProfileName,
    keys,
    labels,
    linkCapacity,
    startupGraceMs: number('startup-grace-ms', flags.startupGraceMs),
    resyncMs: SPEAKER_DEFAULTS.resyncMs,
    ...(flags.metrics ? { metrics: flags.metrics } : {}),
    apiSocket: flags.apiSocket,
    apiSocketMode: socketMode(flags.apiSocketMode),
    allocation,
  };
}

async function cleanup(flags: SpeakerFlags): Promise<void> {
  // Never from under a running speaker: it holds the pin directory's lock.
  lockPinDir(flags.pinDir);
  const { uninstallDatapath, uninstallHostVips } = await import('../../speaker/uninstall.js');
  for (const line of uninstallDatapath(flags.interface, flags.pinDir)) process.stdout.write(`${line}\n`);
  const removed = await uninstallHostVips(flags.vipInterface, hostVipsStatePath(flags.apiSocket));
  if (removed) process.stdout.write(`${removed}\n`);
}

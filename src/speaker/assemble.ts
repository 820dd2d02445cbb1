import { addressesOf, interfaceIndex, interfaceMac } from '../datapath/netdev.js';
import { FrameSender } from '../datapath/frame-sender.js';
import { XdpResponder } from '../datapath/responder.js';
import { XdpTxErrors } from '../datapath/tx-errors.js';
import { checkLivenessBound, DEFAULT_GATE_SETTINGS, deriveGateTiming, type GateTiming } from '../l2/gate.js';
import type { AnnouncingInterface } from '../l2/reconciler.js';
import { HealthMonitor } from '../health/monitor.js';
import { HostVips } from '../host/vips.js';
import { PROFILES } from '../membership/config.js';
import { Memberlist } from '../membership/index.js';
import type { Logger } from '../util/log.js';
import { SpeakerBgp } from './bgp-part.js';
import { SpeakerL2 } from './l2-part.js';
import { LinkMonitor } from './link-monitor.js';
import { SpeakerLinks } from './links.js';
import { localInterfaces } from './local-interfaces.js';
import { encodeNodeMeta, type NodeMeta } from './node-meta.js';
import type { ModelSource } from './model-source.js';
import type { SpeakerOptions } from './options.js';
import { Speaker } from './speaker.js';
import { StartupStages } from './startup-stages.js';
import { type PreparedWatchThread, WatchThread } from './watch-thread.js';

/**
 * Builds a real node's speaker: reads the model, finds the interfaces, opens (or adopts) the pinned XDP
 * state and attaches the program, creates the gossip member and the L2 and BGP parts, and starts it.
 * The only place that knows the concrete parts; Speaker itself runs on interfaces (see parts.ts).
 */
export async function startSpeaker(
  options: SpeakerOptions,
  source: ModelSource,
  log: Logger,
): Promise<Speaker> {
  const stages = new StartupStages();
  // While the configuration parses on its own thread: the pulse thread loads its modules and the XDP
  // program loads (its maps pinned or adopted). Neither binds a socket nor touches an interface yet.
  const prepared = WatchThread.prepare();
  try {
    return await assemble(options, source, log, stages, prepared);
  } catch (error) {
    void prepared.cancel();
    throw error;
  }
}

async function assemble(
  options: SpeakerOptions,
  source: ModelSource,
  log: Logger,
  stages: StartupStages,
  prepared: PreparedWatchThread,
): Promise<Speaker> {
  const reached = (stage: string) => stages.reached(stage);
  const responder = XdpResponder.open({ pinDir: options.pinDir });
  reached('program');
  await source.start();
  reached('configuration');
  const ifaces = localInterfaces(options.interfaces);
  if (ifaces.length === 0) throw new Error('no interface with an address to announce on (use --interface)');
  const gate = gateTiming(options);
  // What start() gossips once the interfaces are attached (the same ones: a failed attach stops the start).
  const earlyMeta: NodeMeta = { interfaces: ifaces, labels: options.labels };
  // Listeners first: a port in use must fail the start before anything in the data path changes.
  const membership = await Memberlist.create({
    name: options.node,
    bindAddr: options.bind.host,
    bindPort: options.bind.port,
    profile: options.profile,
    keys: options.keys,
    ...(options.advertise ? { advertiseAddr: options.advertise } : {}),
    // Gossiped from the first packet: a peer that saw this node without it would count it out of every
    // decision (no interfaces) and answer its VIPs while this node's gate opens.
    meta: encodeNodeMeta(earlyMeta),
  });
  reached('gossip');
  countTransmitErrors(responder, options.pinDir, log);
  // Entries left by a previous process mean this is a restart: BGP then announces graceful restart.
  const restarting = responder.vips().size > 0;
  const routerId =
    ifaces
      .flatMap((i) => i.cidrs)
      .find((c) => !c.includes(':'))
      ?.split('/')[0] ?? '0.0.0.1';
  const announcing: AnnouncingInterface[] = ifaces.map((iface) => ({
    name: iface.name,
    ifindex: interfaceIndex(iface.name),
    mac: interfaceMac(iface.name),
  }));
  // Entries a previous process left while the gate closed (it stopped or froze longer than the bound)
  // are stale, since other nodes may have answered meanwhile.
  const stale = restarting && !responder.gateOpen();
  if (stale) log.info('liveness gate closed since the last speaker: adopted VIPs are silenced until decided');
  const l2 = new SpeakerL2({
    node: options.node,
    datapath: responder,
    flows: responder.flows,
    interfaces: announcing,
    frames: new FrameSender({
      onError: (ifname, error) => log.warn({ interface: ifname, err: error }, 'announcement frames dropped'),
    }),
    adoptStale: stale,
    log,
  });
  // No heartbeat here: the gate opens only once this node's watchers report it up (speaker.start).
  responder.setLivenessBoundMs(gate.livenessBoundMs);
  const watch = await WatchThread.open(
    {
      timing: gate,
      detectMult: options.watchDetectMult,
      capMs: WATCHER_CAP_MS,
      family: options.bind.host.includes(':') ? 6 : 4,
      host: options.bind.host,
      // Every speaker's watch listens one port above its gossip port.
      port: membership.address().port + 1,
      peerPort: (name) => (membership.members().find((m) => m.name === name)?.port ?? options.bind.port) + 1,
      pinDir: options.pinDir,
      controlLoopStallMs: CONTROL_LOOP_STALL_MS,
      nice: PULSE_NICE,
      onStall: (gapMs) =>
        log.warn(
          { gapMs: Math.round(gapMs) },
          gapMs >= CONTROL_LOOP_STALL_MS
            ? 'control loop stalled beyond the bound: the pulse thread stopped beating (gate shut)'
            : 'control loop stalled',
        ),
      onWarning: (message) => log.warn(message),
      onFailure: (error) => {
        log.error(
          { err: error },
          'owner watch thread failed: stopping (the gate is shut, the successors take over)',
        );
        process.kill(process.pid, 'SIGTERM');
      },
    },
    prepared,
  );
  reached('pulse');
  if ('nice' in watch.priority) log.info({ nice: watch.priority.nice }, 'pulse thread priority raised');
  else
    log.warn(
      { error: watch.priority.error },
      'pulse thread left at the default priority (grant CAP_SYS_NICE): on a host loaded beyond its CPUs the gate may shut for a moment',
    );
  // Attached now (a failure stops the start); interfaces that come, go or come back later follow at
  // every resync.
  const links = new SpeakerLinks({
    only: options.interfaces,
    xdpMode: options.xdpMode,
    datapath: responder,
    log,
  });
  const { interfaces: attachedNow } = links.sync({ strict: true });
  reached('attached');
  l2.setInterfaces(links.announcing());
  const bgp = new SpeakerBgp(options.node, routerId, restarting, log.child({ part: 'bgp' }));
  const health = new HealthMonitor({ node: options.node });
  let host: HostVips | undefined;
  if (options.hostVips) {
    host = new HostVips({ ...options.hostVips, addresses: addressesOf });
    const raised = host.prepare();
    if (raised.length > 0)
      log.info({ sysctls: Object.fromEntries(raised) }, 'ARP sysctls raised for VIPs on the host');
  }
  const speaker = new Speaker({
    options,
    log,
    source,
    datapath: responder,
    attached: links.attached,
    l2,
    bgp,
    membership,
    watch,
    gate,
    meta: { interfaces: attachedNow, labels: options.labels },
    health,
    ...(host ? { host } : {}),
    stages,
    rescanInterfaces: () => {
      const { interfaces } = links.sync();
      l2.setInterfaces(links.announcing());
      return interfaces;
    },
    watchLinks: (onChange) => {
      const monitor = new LinkMonitor({ onChange });
      monitor.start();
      return () => monitor.stop();
    },
  });
  log.info(stages.fields(), 'start-up stages');
  speaker.start();
  return speaker;
}

/** Counts the frames the kernel drops after an XDP verdict; without BTF or CAP_PERFMON the speaker runs without. */
function countTransmitErrors(responder: XdpResponder, pinDir: string, log: Logger): void {
  try {
    responder.countTxErrors(XdpTxErrors.open({ pinDir }));
  } catch (error) {
    log.warn(
      { err: error },
      'XDP transmit errors are not counted (the counter needs /sys/kernel/btf/vmlinux, CAP_BPF and CAP_PERFMON)',
    );
  }
}

/**
 * A stale speaker waits at most this long for watchers that never report it up (watch port blocked).
 * Long on purpose: a watcher that is alive but slow (its decision round over thousands of VIPs on a
 * starved host, a peer that decided before it knew this node) may still answer this node's VIPs, and
 * opening the gate before it hands them back is a dual answer; a blocked port costs only silence. With
 * 2 s, 1,000 VIPs at load 7 showed 0.4 s of dual answers at start-up (bench/scale).
 */
const WATCHER_CAP_MS = 10_000;

/** Nice value of the pulse thread (the process stays at its own): it sleeps almost always, wakes every I. */
const PULSE_NICE = -10;

/**
 * The control loop silent this long counts as a freeze (the pulse thread stops, see watch-thread.ts).
 * Shorter stalls (a gossip flood, a large reload) cost nothing; a decision that must move a VIP away
 * from this node is late by at most this much, as it was with the 2 s gate before the owner watch.
 */
const CONTROL_LOOP_STALL_MS = 1000;

/** The gate and takeover timers of these options; refuses a liveness bound that could outlive a takeover. */
export function gateTiming(options: SpeakerOptions): GateTiming {
  const gate = deriveGateTiming({
    ...DEFAULT_GATE_SETTINGS,
    watch: { intervalMs: options.heartbeatMs, detectMult: options.watchDetectMult },
    swim: PROFILES[options.profile],
  });
  if (options.livenessMs === undefined) return gate;
  const problem = checkLivenessBound(options.livenessMs, gate);
  if (problem) throw new Error(`--liveness-ms: ${problem}`);
  // The bound the XDP gate enforces, so the pulse (its period alone, its stale judgement) follows it too.
  return { ...gate, livenessBoundMs: options.livenessMs };
}

import type { XdpMode } from '../datapath/xdp.js';
import { DEFAULT_GATE_SETTINGS } from '../l2/gate.js';
import type { ProfileName } from '../membership/config.js';

export interface SpeakerOptions {
  node: string;
  /** Interfaces to attach to and announce on; empty = every interface with an address but lo. */
  interfaces: string[];
  bind: { host: string; port: number };
  /** Address others reach this node at, when the bind address is a wildcard. */
  advertise?: string;
  join: string[];
  pinDir: string;
  xdpMode: XdpMode | 'auto';
  /**
   * The XDP program stops answering when the heartbeat is older than this; undefined = the bound derived
   * from the timers (l2/gate.ts). A longer one than derived is refused.
   */
  livenessMs?: number;
  /** Heartbeat and owner-watch packet period (the pulse). */
  heartbeatMs: number;
  /** A successor declares its owner down after this many pulses without a watch packet. */
  watchDetectMult: number;
  profile: ProfileName;
  keys: Buffer[];
  labels: Record<string, string>;
  /** Link capacity per interface in bits/s, for NICs that report no speed (veth, VMs). */
  linkCapacity?: Record<string, number>;
  /** How long to wait for the first join before deciding alone (the first node of a cluster). */
  startupGraceMs: number;
  /** Full recomputation period, on top of event-driven reconciles. */
  resyncMs: number;
  metrics?: string;
  apiSocket?: string;
  /** Permission bits of the status API socket (default 0o660). */
  apiSocketMode?: number;
  /** compute: allocate from the pools (standalone); status: announce the controller's Service status. */
  allocation: 'compute' | 'status';
  /**
   * Standalone mode: hold the VIPs this node serves on this interface (with the ARP sysctls), recording
   * what it added in statePath. Absent: the host is left alone (--no-host-vips, Kubernetes mode).
   */
  hostVips?: { interface: string; statePath: string };
  /** More gossip seeds found at start (Kubernetes: the speaker pods). */
  discoverSeeds?: () => string[];
}

export const SPEAKER_DEFAULTS = {
  bind: '0.0.0.0:7946',
  pinDir: '/sys/fs/bpf/herald',
  heartbeatMs: DEFAULT_GATE_SETTINGS.watch.intervalMs,
  watchDetectMult: DEFAULT_GATE_SETTINGS.watch.detectMult,
  profile: 'fast-lan' as ProfileName,
  startupGraceMs: 2000,
  resyncMs: 5000,
  apiSocket: '/run/herald/speaker.sock',
  vipInterface: 'lo',
  apiSocketMode: '0660',
} as const;

/**
 * Where the host-VIP state lives: beside the status socket, named after it (/run/herald/speaker.sock →
 * /run/herald/speaker-host-vips.json; under /run it is gone after a reboot, like the addresses).
 */
export const hostVipsStatePath = (apiSocket: string): string =>
  `${apiSocket.replace(/\.sock$/, '')}-host-vips.json`;

import { z } from 'zod';

/**
 * Timers and limits of the membership protocol, in one place, with named profiles. Durations are in
 * milliseconds. The meaning of each field follows hashicorp/memberlist's Config so numbers can be
 * compared; see docs/membership.md for the detection-time formula.
 */
export const timingSchema = z.object({
  /** Interval between direct probes of one member (a full probe round must fit in it). */
  probeIntervalMs: z.number().int().min(10),
  /** Wait for a direct ack before asking others to probe (indirect probes). */
  probeTimeoutMs: z.number().int().min(1),
  /** Members asked to probe indirectly (k). */
  indirectChecks: z.number().int().min(0).max(16),
  /** Also try a TCP ping when the UDP probe fails. */
  tcpFallbackProbe: z.boolean(),
  /** Interval between gossip rounds (only sent when something is queued). */
  gossipIntervalMs: z.number().int().min(5),
  /** Members gossiped to per round. */
  gossipNodes: z.number().int().min(1).max(32),
  /** Keep gossiping to a dead member this long (lets it learn and refute after a short partition). */
  gossipToTheDeadMs: z.number().int().min(0),
  /** Suspicion timeout minimum = suspicionMult × max(1, log10 n) × probeInterval. */
  suspicionMult: z.number().int().min(1),
  /** Suspicion timeout starts at suspicionMaxTimeoutMult × minimum and shrinks with confirmations. */
  suspicionMaxTimeoutMult: z.number().int().min(1),
  /** Each broadcast is sent retransmitMult × ceil(log10(n + 1)) times. */
  retransmitMult: z.number().int().min(1),
  /** Lifeguard local health: timeouts are scaled by (score + 1), score in [0, awarenessMaxMultiplier). */
  awarenessMaxMultiplier: z.number().int().min(1).max(64),
  /** Full state exchange over TCP with one random member (scaled up for big clusters); 0 disables. */
  pushPullIntervalMs: z.number().int().min(0),
  /** Try a push-pull with one random dead (not left) member this often, to heal partitions; 0 disables. */
  reconnectIntervalMs: z.number().int().min(0),
  /** TCP connect + exchange deadline (push-pull, join, TCP ping). */
  tcpTimeoutMs: z.number().int().min(10),
  /** Dead and left members stay visible in members() this long, then are forgotten. */
  deadRetentionMs: z.number().int().min(0),
});
export type Timing = z.infer<typeof timingSchema>;

/** hashicorp/memberlist DefaultLANConfig timers (the MetalLB baseline, for comparison). */
export const LAN_PROFILE: Timing = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  tcpFallbackProbe: true,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  awarenessMaxMultiplier: 8,
  pushPullIntervalMs: 30_000,
  reconnectIntervalMs: 10_000,
  tcpTimeoutMs: 10_000,
  deadRetentionMs: 300_000,
};

/**
 * Herald's default for a LAN: sub-second detection. Probes 10×/s with a 40 ms direct-ack budget
 * (LAN RTTs are well under a millisecond; the rest is event-loop slack), suspicion minimum
 * 4 × probe interval (× log10 n beyond 10 members) and a short gossip interval so the verdict spreads fast.
 */
export const FAST_LAN_PROFILE: Timing = {
  probeIntervalMs: 100,
  probeTimeoutMs: 40,
  indirectChecks: 3,
  tcpFallbackProbe: true,
  gossipIntervalMs: 40,
  gossipNodes: 4,
  gossipToTheDeadMs: 5_000,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 4,
  retransmitMult: 4,
  awarenessMaxMultiplier: 8,
  pushPullIntervalMs: 15_000,
  reconnectIntervalMs: 2_000,
  tcpTimeoutMs: 2_000,
  deadRetentionMs: 300_000,
};

/** For loopback tests: like fast-lan with short TCP and push-pull timers. */
export const LOCAL_PROFILE: Timing = {
  ...FAST_LAN_PROFILE,
  pushPullIntervalMs: 5_000,
  reconnectIntervalMs: 1_000,
  tcpTimeoutMs: 1_000,
};

export const PROFILES = { lan: LAN_PROFILE, 'fast-lan': FAST_LAN_PROFILE, local: LOCAL_PROFILE } as const;
export type ProfileName = keyof typeof PROFILES;

const hostPort = z.string().min(1);

export const configSchema = timingSchema.extend({
  /** Unique member name (the node name). */
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^\s]+$/, 'must not contain whitespace'),
  /** Address and port for UDP and TCP (same port). Port 0 picks a free one. */
  bindAddr: z.string().min(1),
  bindPort: z.number().int().min(0).max(65535),
  /** Address/port announced to others (default: bind address and the bound port). */
  advertiseAddr: z.string().min(1).optional(),
  advertisePort: z.number().int().min(1).max(65535).optional(),
  /** Cluster label; envelopes carrying another label are dropped. */
  cluster: z.string().max(64),
  /** AES-256-GCM keys (32 bytes each); the first is primary (used to send), all are accepted. */
  keys: z.array(z.instanceof(Buffer).refine((b) => b.length === 32, 'keys must be 32 bytes')),
  /** Accept plaintext packets although keys are configured (only during a key roll-out). */
  allowPlaintext: z.boolean(),
  /** Largest UDP datagram we build (probe + piggybacked broadcasts). */
  udpBufferSize: z.number().int().min(512).max(65000),
  /** Largest metadata accepted or set. */
  metaMaxSize: z.number().int().min(0).max(4096),
  /** Largest user payload for broadcast(). */
  userMessageMaxSize: z.number().int().min(1).max(60000),
  /** User broadcasts kept in the queue; the oldest are dropped beyond this (rate limit). */
  maxQueuedUserMessages: z.number().int().min(1),
  seeds: z.array(hostPort),
});
export type MemberlistConfig = z.infer<typeof configSchema>;

export type MemberlistOptions = Partial<MemberlistConfig> & {
  name: string;
  /** Starting point for the timers (default 'fast-lan'); explicit fields override it. */
  profile?: ProfileName;
};

/** Fills defaults from the profile and validates; throws an Error naming every bad field. */
export function resolveConfig(opts: MemberlistOptions): MemberlistConfig {
  const { profile = 'fast-lan', ...rest } = opts;
  const base = PROFILES[profile];
  if (!base) throw new Error(`membership config: unknown profile ${JSON.stringify(profile)}`);
  const merged = {
    ...base,
    bindAddr: '0.0.0.0',
    bindPort: 7946,
    cluster: 'herald',
    keys: [],
    allowPlaintext: false,
    udpBufferSize: 1400,
    metaMaxSize: 512,
    userMessageMaxSize: 1024,
    maxQueuedUserMessages: 256,
    seeds: [],
    ...stripUndefined(rest),
  };
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`membership config invalid: ${problems.join('; ')}`);
  }
  if (parsed.data.probeTimeoutMs >= parsed.data.probeIntervalMs)
    throw new Error('membership config invalid: probeTimeoutMs must be below probeIntervalMs');
  return parsed.data;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

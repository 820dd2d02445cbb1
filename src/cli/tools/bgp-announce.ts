import type { Command } from 'commander';
import { BgpSpeaker, type BgpRoute, type PeerConfig, PEER_DEFAULTS } from '../../bgp/index.js';
import { parseCommunity } from '../../config/community.js';
import type { LargeCommunity } from '../../bgp/wire/attributes.js';
import { familyOf, normalizePrefix } from '../../bgp/wire/prefix.js';

/**
 * `herald bgp announce`: a standalone BGP speaker for debugging, labs and interop tests. Advertises the
 * given prefixes to the given peers and prints one JSON line per session change. SIGTERM/SIGINT: stop
 * with a NOTIFICATION (peers withdraw); SIGUSR2: graceful stop (graceful-restart peers keep the routes).
 */

const collect = (v: string, prev: string[]) => [...prev, v];

interface AnnounceOptions {
  asn: string;
  peer: string[];
  peerAsn?: string;
  routerId: string;
  prefix: string[];
  prefixCount?: string;
  prefixBase?: string;
  community: string[];
  localPref?: string;
  med?: string;
  source?: string;
  port?: string;
  hold?: string;
  connectRetry?: string;
  password?: string;
  gracefulRestart?: boolean;
  restarting?: boolean;
  bfd?: string;
  listen?: string;
  passive?: boolean;
  multihop?: boolean;
}

/** N consecutive host prefixes starting at an IPv4 or IPv6 base address. */
export function hostPrefixes(base: string, count: number): string[] {
  const out: string[] = [];
  if (familyOf(base) === 'ipv4') {
    const start = base.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    for (let i = 0; i < count; i++) {
      const v = start + i;
      out.push(
        `${Math.floor(v / 16777216) % 256}.${Math.floor(v / 65536) % 256}.${Math.floor(v / 256) % 256}.${v % 256}/32`,
      );
    }
  } else {
    const prefix = base.replace(/::.*$/, '');
    for (let i = 0; i < count; i++) out.push(normalizePrefix(`${prefix}::${(i + 1).toString(16)}/128`));
  }
  return out;
}

/** Defines the options and action of `announce` on a commander command. */
export function defineAnnounce(cmd: Command): Command {
  return cmd
    .description('advertise prefixes to BGP peers until stopped; prints session changes as JSON lines')
    .requiredOption('--asn <asn>', 'local ASN')
    .requiredOption('--router-id <id>', 'BGP identifier (IPv4)')
    .option('--peer <address>', 'peer address (repeatable)', collect, [])
    .option('--peer-asn <asn>', 'peer ASN (default: accept any)')
    .option('--prefix <prefix>', 'prefix or address to advertise (repeatable)', collect, [])
    .option('--prefix-count <n>', 'also advertise N host prefixes starting at --prefix-base')
    .option('--prefix-base <address>', 'first address for --prefix-count', '10.100.0.0')
    .option('--community <c>', 'community 65000:1 or large:A:B:C (repeatable)', collect, [])
    .option('--local-pref <n>', 'LOCAL_PREF (iBGP peers)')
    .option('--med <n>', 'MULTI_EXIT_DISC')
    .option('--source <address>', 'source address of outbound connections')
    .option('--port <port>', 'peer port', String(PEER_DEFAULTS.peerPort))
    .option('--hold <sec>', 'hold time', '9')
    .option('--connect-retry <sec>', 'connect retry time', '1')
    .option('--password <key>', 'TCP MD5 key (RFC 2385)')
    .option('--graceful-restart', 'announce the graceful restart capability')
    .option('--restarting', 'set the graceful restart R bit (this is a restart)')
    .option('--bfd <tx:rx:mult>', 'run BFD with these intervals (ms) and multiplier, e.g. 300:300:3')
    .option('--listen <port>', 'accept inbound connections on this port')
    .option('--passive', 'never connect, only accept (needs --listen)')
    .option('--multihop', 'eBGP multihop (TTL 255)')
    .action(async (o: AnnounceOptions) => {
      const routes = announceRoutes(o);
      const bfd = o.bfd?.split(':').map(Number);
      const peers: PeerConfig[] = o.peer.map((address) => ({
        name: address,
        localAsn: Number(o.asn),
        ...(o.peerAsn ? { peerAsn: Number(o.peerAsn) } : {}),
        peerAddress: address,
        peerPort: Number(o.port),
        ...(o.source ? { sourceAddress: o.source } : {}),
        routerId: o.routerId,
        holdTimeSec: Number(o.hold),
        connectRetrySec: Number(o.connectRetry),
        passive: o.passive ?? false,
        ...(o.password ? { password: o.password } : {}),
        ebgpMultihop: o.multihop ?? false,
        gracefulRestart: o.gracefulRestart ?? false,
        restartTimeSec: PEER_DEFAULTS.restartTimeSec,
        ...(bfd && bfd.length === 3
          ? {
              bfd: {
                transmitIntervalMs: bfd[0] ?? 300,
                receiveIntervalMs: bfd[1] ?? 300,
                detectMultiplier: bfd[2] ?? 3,
                passive: false,
              },
            }
          : {}),
      }));
      const speaker = new BgpSpeaker({
        peers,
        ...(o.listen ? { listen: { port: Number(o.listen) } } : {}),
        ...(o.restarting ? { restarting: true } : {}),
        log: (level, msg) => {
          if (level !== 'debug' || process.env.HERALD_BGP_DEBUG) process.stderr.write(`${level}: ${msg}\n`);
        },
      });
      const print = (event: string, data: object) =>
        process.stdout.write(`${JSON.stringify({ event, time: Date.now(), ...data })}\n`);
      speaker.on('session', (s) => print('session', s));
      speaker.on('established', (s) => print('established', s));
      speaker.on('down', (d) => print('down', d));
      speaker.setRoutes(new Map(peers.map((p) => [p.name, routes])));
      await speaker.start();
      print('started', { prefixes: routes.length });
      const stop = (graceful: boolean) => {
        void speaker.stop({ graceful }).then(() => process.exit(0));
      };
      process.on('SIGTERM', () => stop(false));
      process.on('SIGINT', () => stop(false));
      process.on('SIGUSR2', () => stop(true));
    });
}

function announceRoutes(o: AnnounceOptions): BgpRoute[] {
  const prefixes = o.prefix.map((p) => normalizePrefix(p));
  if (o.prefixCount) prefixes.push(...hostPrefixes(o.prefixBase ?? '10.100.0.0', Number(o.prefixCount)));
  const communities: number[] = [];
  const largeCommunities: LargeCommunity[] = [];
  for (const c of o.community) {
    const p = parseCommunity(c);
    if (typeof p === 'string') throw new Error(p);
    if (p.type === 'standard') communities.push(p.value);
    else largeCommunities.push([p.global, p.local1, p.local2]);
  }
  return prefixes.map((prefix) => ({
    prefix,
    communities,
    largeCommunities,
    ...(o.localPref ? { localPref: Number(o.localPref) } : {}),
    ...(o.med ? { med: Number(o.med) } : {}),
  }));
}

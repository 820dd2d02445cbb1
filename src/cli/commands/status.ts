import type { Command } from 'commander';
import { StatusClient, type StatusClientOptions } from '../../api/client.js';
import { fetchStatus, formatStatus, STATUS_SECTIONS, type StatusSection } from '../../api/status-view.js';
import { DEFAULT_API_SOCKET } from '../../api/source.js';

export interface ApiClientFlags {
  socket: string;
  tcp?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

/** Adds the flags that pick a speaker's status API (shared by `status` and `top`). */
export function addApiClientFlags(cmd: Command): Command {
  return cmd
    .option('--socket <path>', 'status API unix socket of the speaker', DEFAULT_API_SOCKET)
    .option('--tcp <host:port>', 'use the TCP (TLS) listener instead of the socket')
    .option('--ca <file>', 'CA bundle that signed the speaker certificate (with --tcp)')
    .option('--cert <file>', 'client certificate for mTLS (with --tcp)')
    .option('--key <file>', 'client key for mTLS (with --tcp)');
}

/**
 * The one line to print when no speaker listens on the unix socket (missing file, or a stale one left by
 * a killed speaker); undefined for other errors.
 */
export function noSpeaker(flags: ApiClientFlags, error: unknown): string | undefined {
  if (flags.tcp) return undefined;
  const text = error instanceof Error ? error.message : String(error);
  return /ECONNREFUSED|ENOENT|ENOTSOCK/.test(text)
    ? `no speaker at ${flags.socket} (is it running? --socket)`
    : undefined;
}

export function clientOptions(flags: ApiClientFlags): StatusClientOptions {
  return flags.tcp
    ? { tcp: { address: flags.tcp, caFile: flags.ca, certFile: flags.cert, keyFile: flags.key } }
    : { socketPath: flags.socket };
}

export function registerStatus(program: Command): void {
  addApiClientFlags(
    program
      .command('status')
      .description("Show a speaker's VIPs (owner, mode, reason, traffic), members and BGP/BFD sessions")
      .argument('[sections...]', `any of ${STATUS_SECTIONS.join(', ')} (default: all)`)
      .option('--json', 'print JSON instead of tables'),
  ).action(async (sections: string[], flags: ApiClientFlags & { json?: boolean }) => {
    const bad = sections.filter((s) => !STATUS_SECTIONS.includes(s as StatusSection));
    if (bad.length > 0)
      throw new Error(`unknown section(s) ${bad.join(', ')}; expected ${STATUS_SECTIONS.join(', ')}`);
    const want = new Set<StatusSection>(
      sections.length > 0 ? (sections as StatusSection[]) : STATUS_SECTIONS,
    );
    const client = new StatusClient(clientOptions(flags));
    try {
      const view = await fetchStatus(client, want).catch((error: unknown) => {
        throw new Error(noSpeaker(flags, error) ?? (error instanceof Error ? error.message : String(error)));
      });
      const { vips, members, bgp } = view;
      if (flags.json) {
        const node = vips?.node ?? members?.node ?? bgp?.node;
        const out = {
          node,
          ...(vips && {
            nodeUtilization: vips.nodeUtilization,
            clusterConcentration: vips.clusterConcentration,
            busiestNode: vips.busiestNode,
            transmitErrors: vips.transmitErrors ?? [],
            vips: vips.vips,
          }),
          ...(members && { members: members.members }),
          ...(bgp && { bgpSessions: bgp.sessions }),
        };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      process.stdout.write(formatStatus(view));
    } finally {
      client.close();
    }
  });
}

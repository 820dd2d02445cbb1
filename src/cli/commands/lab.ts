import type { Command } from 'commander';
import { handleSignalYourself } from '../../lab/netns.js';
import { renderLabReport } from '../../lab/report.js';
import { runLab } from '../../lab/scenario.js';

interface LabFlags {
  nodes: string;
  clients: string;
  requests: string;
  xdpMode: 'auto' | 'native' | 'generic';
  keep?: boolean;
  json?: boolean;
}

export function registerLab(program: Command): void {
  program
    .command('lab')
    .description(
      'demo and smoke test: a LAN of network namespaces with real speakers, bounded traffic, a failover; tears down after (needs root)',
    )
    .option('--nodes <n>', 'number of nodes', '3')
    .option('--clients <n>', 'number of client hosts', '6')
    .option('--requests <n>', 'HTTP requests per VIP per client', '20')
    .option(
      '--xdp-mode <mode>',
      'XDP mode for the speakers (generic works on veth without a peer program)',
      'generic',
    )
    .option('--keep', 'keep the lab up after the run until Ctrl-C, for poking around')
    .option('--json', 'print the report as JSON')
    .action(async (flags: LabFlags) => {
      if (process.getuid?.() !== 0) throw new Error('herald lab needs root (network namespaces, XDP)');
      const count = (name: string, text: string, max: number) => {
        const n = Number(text);
        if (!Number.isInteger(n) || n < 1 || n > max)
          throw new Error(`--${name}: expected 1..${max}, got "${text}"`);
        return n;
      };
      const started = Date.now();
      let step = 0;
      const report = await runLab({
        nodes: count('nodes', flags.nodes, 20),
        clients: count('clients', flags.clients, 50),
        requestsPerClient: count('requests', flags.requests, 1000),
        xdpMode: flags.xdpMode,
        tag: 'lab',
        progress: (what) =>
          process.stderr.write(`[${++step}] ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`),
        ...(flags.keep
          ? {
              beforeTeardown: async (cluster) => {
                process.stderr.write(
                  `lab is up: namespaces ${cluster.lan.namespaces.join(' ')}\n` +
                    `try: nsenter --net=/run/netns/${cluster.clients[0]?.ns} arping -c1 -I eth0 10.77.0.200\n` +
                    'press Ctrl-C to tear it down\n',
                );
                handleSignalYourself('SIGINT');
                await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
              },
            }
          : {}),
      });
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderLabReport(report));
      process.stderr.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    });
}

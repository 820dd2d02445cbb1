import type { Command } from 'commander';
import { handleSignalYourself } from '../../lab/netns.js';
import { renderFlowScenario } from '../../lab/flow-report.js';
import { type FlowScenarioReport, runFlowScenario } from '../../lab/flow-scenario.js';
import { renderLabReport } from '../../lab/report.js';
import { runLab } from '../../lab/scenario.js';

interface LabFlags {
  nodes: string;
  clients: string;
  requests: string;
  xdpMode: 'auto' | 'native' | 'generic';
  keep?: boolean;
  json?: boolean;
  flows: boolean;
  flowRequests: string;
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
    .option(
      '--no-flows',
      "skip the flow-mode part (the seed's scenario, single vs flow mode, on a LAN of its own)",
    )
    .option('--flow-requests <n>', 'new connections per flow-mode workload run', '300')
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
      const flowRequests = count('flow-requests', flags.flowRequests, 5000);
      const started = Date.now();
      let step = 0;
      const progress = (what: string) =>
        process.stderr.write(`[${++step}] ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
      const report = await runLab({
        nodes: count('nodes', flags.nodes, 20),
        clients: count('clients', flags.clients, 50),
        requestsPerClient: count('requests', flags.requests, 1000),
        xdpMode: flags.xdpMode,
        tag: 'lab',
        progress,
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
      // The main report first: the flow-mode part runs on a LAN of its own and may fail on its own.
      if (!flags.json) process.stdout.write(renderLabReport(report));
      let flows: FlowScenarioReport | undefined;
      if (flags.flows) {
        try {
          flows = await runFlowScenario({
            tag: 'labf',
            requests: flowRequests,
            responseBytes: 16 * 1024,
            xdpMode: flags.xdpMode,
            progress,
          });
          if (!flags.json) process.stdout.write(renderFlowScenario(flows));
        } catch (error) {
          process.exitCode = 1;
          process.stderr.write(
            `herald lab: the flow-mode part failed: ${error instanceof Error ? error.message : String(error)}\n`,
          );
        }
      }
      if (flags.json)
        process.stdout.write(`${JSON.stringify({ ...report, ...(flows ? { flows } : {}) }, null, 2)}\n`);
      process.stderr.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    });
}

import type { Command } from 'commander';
import { Gauge, Registry } from 'prom-client';
import { stringify } from 'yaml';
import { KubeConfig } from '../../k8s/client.js';
import { HeraldController } from '../../k8s/controller.js';
import { allCrds } from '../../k8s/crd-gen.js';
import { createLogger, type LogFormat } from '../../util/log.js';
import { logFormatOption, logLevelOption } from './log-options.js';

// Not `import ... from 'node:http'`: see the no-restricted-syntax rule in eslint.config.js.
const { createServer } = process.getBuiltinModule('node:http');

interface ControllerFlags {
  kubeconfig?: string;
  namespace: string;
  identity?: string;
  leaderElection: boolean;
  leaseDuration: string;
  defaultClass: boolean;
  metrics?: string;
  printCrds?: boolean;
  logLevel: string;
  logFormat: LogFormat;
}

function metricsRegistry(c: HeraldController): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'herald_allocator_addresses_total',
    help: 'Usable addresses in each IPAddressPool',
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of c.poolStats()) this.set({ pool: s.pool }, s.addressesTotal);
    },
  });
  new Gauge({
    name: 'herald_allocator_addresses_in_use_total',
    help: 'Addresses of each IPAddressPool assigned to services',
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of c.poolStats()) this.set({ pool: s.pool }, s.addressesInUse);
    },
  });
  new Gauge({
    name: 'herald_controller_leader',
    help: '1 while this replica holds the controller Lease',
    registers: [registry],
    collect() {
      this.set(c.isLeader ? 1 : 0);
    },
  });
  return registry;
}

/** `herald controller`: the cluster-wide address allocator (Deployment; leader-elected). */
export function registerController(program: Command): void {
  program
    .command('controller')
    .description('Run the Kubernetes controller: allocate LoadBalancer addresses and write Service status')
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster, then $KUBECONFIG / ~/.kube/config)')
    .option(
      '--namespace <ns>',
      'namespace of the Herald configuration objects and the leader Lease',
      process.env.POD_NAMESPACE ?? 'herald-system',
    )
    .option(
      '--identity <id>',
      'leader-election identity (default: $POD_NAME or hostname-pid)',
      process.env.POD_NAME,
    )
    .option('--no-leader-election', 'run without a Lease (only for a single replica)')
    .option('--lease-duration <seconds>', 'Lease duration in seconds', '15')
    .option('--no-default-class', 'ignore LoadBalancer services without spec.loadBalancerClass')
    .option('--metrics <addr:port>', 'serve Prometheus metrics and /healthz on this address')
    .option('--print-crds', "print Herald's CustomResourceDefinitions as YAML and exit")
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .action(async (flags: ControllerFlags) => {
      if (flags.printCrds) {
        process.stdout.write(
          allCrds()
            .map((c) => stringify(c, { lineWidth: 0 }))
            .join('---\n'),
        );
        return;
      }
      const log = createLogger('herald-controller', flags.logLevel, flags.logFormat);
      const kc = new KubeConfig();
      if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
      else kc.loadFromDefault();
      const lease = Number(flags.leaseDuration);
      if (!Number.isInteger(lease) || lease < 1)
        throw new Error(`--lease-duration: want whole seconds >= 1, got ${flags.leaseDuration}`);
      const controller = new HeraldController({
        kubeConfig: kc,
        namespace: flags.namespace,
        identity: flags.identity,
        defaultClass: flags.defaultClass,
        leaderElection: flags.leaderElection
          ? {
              leaseDurationSeconds: lease,
              renewDeadlineMs: Math.floor((lease * 1000 * 2) / 3),
              retryPeriodMs: Math.max(500, Math.floor((lease * 1000) / 7)),
            }
          : false,
        log,
      });
      if (flags.metrics) {
        const [host, port] = splitHostPort(flags.metrics);
        const registry = metricsRegistry(controller);
        createServer((req, res) => {
          if (req.url === '/healthz' || req.url === '/readyz') return void res.writeHead(200).end('ok');
          if (req.url !== '/metrics') return void res.writeHead(404).end();
          void registry
            .metrics()
            .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
        }).listen(port, host);
      }
      const shutdown = (): void => {
        log.info('shutting down; releasing the Lease');
        void controller.stop().finally(() => process.exit(0));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
      await controller.start();
    });
}

function splitHostPort(text: string): [string, number] {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--metrics: want ADDR:PORT, got ${text}`);
  return [text.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', port];
}

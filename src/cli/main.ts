#!/usr/bin/env node
import { Command } from 'commander';
import { commandRegistrations } from './commands/index.js';
import { packageVersion } from './version.js';

const program = new Command('herald')
  .description('Herald: eBPF-assisted load balancer speaker for bare-metal Kubernetes')
  .version(packageVersion())
  .showHelpAfterError();

for (const register of commandRegistrations) register(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

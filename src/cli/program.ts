/** The `herald` command line (main.ts loads it once the compile cache is on). */
import { Command } from 'commander';
import { commandRegistrations } from './commands/index.js';
import { versionText } from './version.js';

const program = new Command('herald')
  .description('Herald: eBPF-assisted load balancer speaker for bare-metal Kubernetes')
  .version(versionText())
  .showHelpAfterError();

try {
  for (const register of await commandRegistrations(process.argv.slice(2))) register(program);
  await program.parseAsync(process.argv);
} catch (error: unknown) {
  process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

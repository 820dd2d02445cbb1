import { execFileSync } from 'node:child_process';

/**
 * Checks a test's system prerequisites. Locally a missing one skips with a reason; under CI=true it
 * throws, so CI fails loudly instead of silently passing on a machine that cannot run the test.
 */
export function missingPrerequisites(opts: { root?: boolean; commands?: string[] }): string | undefined {
  const problems: string[] = [];
  if (opts.root && process.getuid?.() !== 0) problems.push('must run as root');
  for (const cmd of opts.commands ?? []) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    } catch {
      problems.push(`command not found: ${cmd} (run scripts/bootstrap.sh)`);
    }
  }
  if (problems.length === 0) return undefined;
  const message = problems.join('; ');
  if (process.env.CI === 'true') throw new Error(`test prerequisite missing under CI: ${message}`);
  return message;
}

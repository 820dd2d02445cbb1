import { execFileSync } from 'node:child_process';

/**
 * Checks a test's system prerequisites (root, commands) and throws a clear error when one is missing:
 * a test that cannot run fails loudly instead of passing or skipping (scripts/bootstrap.sh installs all
 * of them). Returns undefined so it can be used where a skip reason is accepted.
 */
export function requirePrerequisites(opts: { root?: boolean; commands?: string[] }): undefined {
  const problems: string[] = [];
  if (opts.root && process.getuid?.() !== 0) problems.push('must run as root');
  for (const cmd of opts.commands ?? []) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    } catch {
      problems.push(`command not found: ${cmd} (run scripts/bootstrap.sh)`);
    }
  }
  if (problems.length > 0) throw new Error(`test prerequisite missing: ${problems.join('; ')}`);
  return undefined;
}

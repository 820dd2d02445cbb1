import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every subcommand, by name, loaded on demand: `herald speaker` must not pay for loading the Kubernetes
 * client or gRPC (startup time is failover time on a restart). One line per command.
 */
export const commandLoaders: Readonly<Record<string, () => Promise<Register>>> = {
  bgp: async () => (await import('./bgp.js')).registerBgp,
  controller: async () => (await import('./controller.js')).registerController,
  lab: async () => (await import('./lab.js')).registerLab,
  speaker: async () => (await import('./speaker.js')).registerSpeaker,
  status: async () => (await import('./status.js')).registerStatus,
  top: async () => (await import('./top.js')).registerTop,
  validate: async () => (await import('./validate.js')).registerValidate,
};

/**
 * The registrations needed for these arguments: the named command only, none for the version alone, or
 * all of them for help (which lists them).
 */
export async function commandRegistrations(argv: readonly string[]): Promise<Register[]> {
  const name = argv.find((a) => !a.startsWith('-'));
  const load = name !== undefined && name !== 'help' ? commandLoaders[name] : undefined;
  if (load) return [await load()];
  if (name === undefined && argv.some((a) => a === '--version' || a === '-V')) return [];
  return Promise.all(Object.values(commandLoaders).map((l) => l()));
}

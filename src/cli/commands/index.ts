import type { Command } from 'commander';

/** Each subcommand lives in its own module and registers itself here (one line each). */
export const commandRegistrations: ReadonlyArray<(program: Command) => void> = [];

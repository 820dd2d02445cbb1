#!/usr/bin/env node
/**
 * `herald bgp announce` without the rest of the CLI (fast start, used by the interop tests and the
 * benchmark): node dist/src/cli/tools/bgp-announce-main.js --asn ... --peer ...
 */
import { Command } from 'commander';
import { defineAnnounce } from './bgp-announce.js';

defineAnnounce(new Command('herald-bgp-announce'))
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`herald bgp announce: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });

import type { Command } from 'commander';
import { defineAnnounce } from '../tools/bgp-announce.js';

/** `herald bgp ...`: BGP tools. `announce` is a standalone speaker for debugging, labs and interop tests. */
export function registerBgp(program: Command): void {
  const bgp = program.command('bgp').description('BGP tools (standalone speaker for labs and interop tests)');
  defineAnnounce(bgp.command('announce'));
}

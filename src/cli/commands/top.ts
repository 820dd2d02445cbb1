import type { Command } from 'commander';
import { StatusClient, type VipList } from '../../api/client.js';
import { formatTop } from '../../api/format.js';
import { addApiClientFlags, type ApiClientFlags, clientOptions, noSpeaker } from './status.js';

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${text}"`);
  return n;
}

export function registerTop(program: Command): void {
  addApiClientFlags(
    program
      .command('top')
      .description('Live per-VIP traffic view of a speaker (busiest VIPs first); Ctrl-C quits')
      .option('--interval <ms>', 'refresh interval in milliseconds', '1000')
      .option('--limit <n>', 'rows to show', '40')
      .option('--once', 'print one frame and exit (for scripts)')
      .option('--json', 'with --once: print the VIP list as JSON'),
  ).action(
    async (flags: ApiClientFlags & { interval: string; limit: string; once?: boolean; json?: boolean }) => {
      const interval = positiveInt('interval', flags.interval);
      const limit = positiveInt('limit', flags.limit);
      const client = new StatusClient(clientOptions(flags));
      if (flags.once) {
        try {
          const list = await client.listVips().catch((error: unknown) => {
            throw new Error(
              noSpeaker(flags, error) ?? String(error instanceof Error ? error.message : error),
            );
          });
          process.stdout.write(
            flags.json ? `${JSON.stringify(list, null, 2)}\n` : formatTop(list, limit, new Date()),
          );
        } finally {
          client.close();
        }
        return;
      }
      const tty = process.stdout.isTTY === true;
      let stopped = false;
      const stop = () => {
        stopped = true;
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let previous: VipList | undefined;
      try {
        while (!stopped) {
          let frame: string;
          try {
            const list = await client.listVips();
            frame = formatTop(list, limit, new Date(), previous);
            previous = list;
          } catch (error) {
            const text = noSpeaker(flags, error) ?? (error instanceof Error ? error.message : String(error));
            frame = `herald top: ${text} (retrying)\n`;
          }
          process.stdout.write((tty ? '\x1b[H\x1b[2J' : '\n') + frame);
          await new Promise((resolve) => setTimeout(resolve, interval));
        }
      } finally {
        client.close();
      }
    },
  );
}

/**
 * Shared pieces of the BGP interop tests: a LAN of one router namespace and N speaker namespaces on a
 * bridge, real routing daemons (BIRD, FRR, GoBGP) started inside, and `herald bgp announce` speakers.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestLan } from '../helpers/netns.js';
import { projectRoot } from '../../src/util/paths.js';

export const ROUTER4 = '10.250.0.1';
export const ROUTER6 = 'fd00:250::1';
export const speaker4 = (i: number) => `10.250.0.${10 + i}`;
export const speaker6 = (i: number) => `fd00:250::${(16 + i).toString(16)}`;

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 15000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface SpeakerProc {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: string[];
  ns: string;
}

export class BgpLab {
  readonly lan: TestLan;
  readonly dir: string;
  readonly router: string;
  readonly speakers: string[] = [];

  private constructor(tag: string) {
    this.lan = new TestLan(tag);
    this.dir = mkdtempSync(join(tmpdir(), `hrl-${tag}-`));
    chmodSync(this.dir, 0o777);
    this.router = this.lan.nsName('r');
  }

  /** Router `r` holding the bridge (10.250.0.1/24, fd00:250::1/64) and speakers s1..sN on it. */
  static async create(tag: string, speakers: number): Promise<BgpLab> {
    const lab = new BgpLab(tag);
    await lab.lan.createNamespace('r');
    const members = [];
    for (let i = 1; i <= speakers; i++) {
      const ns = await lab.lan.createNamespace(`s${i}`);
      lab.speakers.push(ns);
      members.push({ ns, ifname: 'eth0', addrs: [`${speaker4(i)}/24`, `${speaker6(i)}/64`] });
    }
    await lab.lan.bridge(lab.router, members);
    await lab.lan.ip(lab.router, 'addr', 'add', `${ROUTER4}/24`, 'dev', 'br0');
    await lab.lan.ip(lab.router, 'addr', 'add', `${ROUTER6}/64`, 'dev', 'br0', 'nodad');
    return lab;
  }

  file(name: string, text: string): string {
    const p = join(this.dir, name);
    writeFileSync(p, text);
    chmodSync(p, 0o644);
    return p;
  }

  /** BIRD 2 in the router namespace, foreground; returns a birdc runner. */
  async startBird(config: string): Promise<(...args: string[]) => Promise<string>> {
    const conf = this.file('bird.conf', config);
    const sock = join(this.dir, 'bird.ctl');
    const child = this.lan.spawn(this.router, 'bird', [
      '-f',
      '-c',
      conf,
      '-s',
      sock,
      '-P',
      join(this.dir, 'bird.pid'),
    ]);
    const err: string[] = [];
    child.stderr?.on('data', (d: Buffer) => err.push(d.toString()));
    const birdc = async (...args: string[]) =>
      (await this.lan.exec(this.router, 'birdc', ['-s', sock, ...args])).stdout;
    await waitFor(`BIRD to start (${err.join('')})`, async () =>
      (await birdc('show', 'status')).includes('Daemon is up'),
    );
    return birdc;
  }

  /** `herald bgp announce ARGS` in speaker namespace i (1-based). */
  startSpeaker(i: number, args: string[]): SpeakerProc {
    const ns = this.speakers[i - 1]!;
    const main = join(projectRoot(), 'dist', 'src', 'cli', 'tools', 'bgp-announce-main.js');
    const child = this.lan.spawn(ns, process.execPath, [main, ...args]);
    const proc: SpeakerProc = { child, lines: [], stderr: [], ns };
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          proc.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          proc.stderr.push(line);
        }
      }
    });
    child.stderr?.on('data', (d: Buffer) => proc.stderr.push(d.toString()));
    return proc;
  }

  /** Number of nexthops of the kernel route for `prefix` in the router namespace (0 = no route). */
  async nexthops(prefix: string): Promise<number> {
    const v6 = prefix.includes(':');
    const out = await this.lan.ip(this.router, ...(v6 ? ['-6'] : []), 'route', 'show', prefix);
    if (out.trim() === '') return 0;
    const n = (out.match(/nexthop via/g) ?? []).length;
    return n === 0 ? 1 : n;
  }

  async destroy(): Promise<void> {
    await this.lan.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function birdTorConfig(opts: { password?: string; bfd?: boolean; extra?: string } = {}): string {
  const common = `passive on; hold time 9; keepalive time 3; ${opts.password ? `password "${opts.password}";` : ''} ${opts.bfd ? 'bfd on;' : ''}`;
  return `
router id ${ROUTER4};
protocol device { scan time 10; }
protocol kernel kern4 { ipv4 { import none; export where source = RTS_BGP; }; merge paths on limit 16; }
protocol kernel kern6 { ipv6 { import none; export where source = RTS_BGP; }; merge paths on limit 16; }
${opts.bfd ? 'protocol bfd { interface "br0" { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; }; }' : ''}
template bgp speakers4 {
  local ${ROUTER4} as 64512; neighbor range 10.250.0.0/24 as 64513; ${common}
  ipv4 { import all; export none; }; dynamic name "spk4_";
}
template bgp speakers6 {
  local ${ROUTER6} as 64512; neighbor range fd00:250::/64 as 64513; ${common}
  ipv6 { import all; export none; }; dynamic name "spk6_";
}
protocol bgp speakers4_listener from speakers4 { }
protocol bgp speakers6_listener from speakers6 { }
${opts.extra ?? ''}
`;
}

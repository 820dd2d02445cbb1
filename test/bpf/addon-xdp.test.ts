import { type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { BpfMap, unpinDir } from '../../src/datapath/bpf.js';
import { nativeBuildDir } from '../../src/util/paths.js';
import { TestLan } from '../helpers/netns.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import type { Step, StepResult } from './fixtures/ns-runner.js';

requirePrerequisites({ root: true, commands: ['ip', 'nsenter', 'tcpdump'] });
const fixture = join(nativeBuildDir(), 'test_fixtures.bpf.o');
const runner = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'ns-runner.js');
const pinDir = `/sys/fs/bpf/hrl-h1-xdp-${process.pid}`;

/** Runs datapath steps in a child process inside `ns` and returns one result per step. */
async function inNs(lan: TestLan, ns: string, steps: Step[]): Promise<StepResult[]> {
  const { stdout } = await lan.exec(ns, process.execPath, [runner, JSON.stringify(steps)], 15_000);
  return JSON.parse(stdout) as StepResult[];
}

function waitForListening(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${text}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

function collectUntilExit(child: ChildProcess, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('tcpdump captured nothing in time'));
    }, timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** The first packet of a little-endian pcap file. */
function firstPcapPacket(pcap: Buffer): Buffer {
  if (pcap.length < 40 || pcap.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('not a little-endian pcap');
  const len = pcap.readUInt32LE(24 + 8);
  return pcap.subarray(40, 40 + len);
}

t.test('XDP attach/query/replace/detach and raw frames inside namespaces', async (t) => {
  const lan = new TestLan('h1');
  t.teardown(async () => {
    await lan.destroy();
    unpinDir(pinDir);
  });
  const a = await lan.createNamespace('a');
  const b = await lan.createNamespace('b');
  await lan.link({ ns: a, ifname: 'eth0' }, { ns: b, ifname: 'eth0' });

  t.test('attach never clobbers, replace is exact, detach finds the mode', async (t) => {
    const r = await inNs(lan, a, [
      { op: 'load', path: fixture },
      { op: 'query', ifname: 'eth0' },
      { op: 'attach', ifname: 'eth0', prog: 'fx_pass' },
      { op: 'query', ifname: 'eth0' },
      { op: 'attach', ifname: 'eth0', prog: 'fx_xdp' },
      { op: 'attach', ifname: 'eth0', prog: 'fx_xdp', replaceProg: 'fx_drop' },
      { op: 'attach', ifname: 'eth0', prog: 'fx_xdp', replaceProg: 'fx_pass' },
      { op: 'query', ifname: 'eth0' },
      { op: 'detach', ifname: 'eth0', prog: 'fx_pass' },
      { op: 'detach', ifname: 'eth0', prog: 'fx_xdp' },
      { op: 'query', ifname: 'eth0' },
      { op: 'detach', ifname: 'eth0' },
      { op: 'attach', ifname: 'eth0', prog: 'fx_xdp', mode: 'generic' },
      { op: 'query', ifname: 'eth0' },
      { op: 'attach', ifname: 'eth0', prog: 'fx_pass', mode: 'native' },
      { op: 'attach', ifname: 'eth0', prog: 'fx_pass', replaceProg: 'fx_xdp' },
      { op: 'query', ifname: 'eth0' },
      { op: 'detach', ifname: 'eth0', mode: 'generic' },
      { op: 'query', ifname: 'eth0' },
      { op: 'attach', ifname: 'lo', prog: 'fx_xdp' },
      { op: 'query', ifname: 'lo' },
      { op: 'detach', ifname: 'lo' },
      { op: 'attach', ifname: 'nope0', prog: 'fx_xdp' },
    ]);
    const ids = r[0]?.ok ? (r[0].value as Array<{ name: string; id: number }>) : [];
    const id = (name: string): number => ids.find((p) => p.name === name)?.id ?? -1;
    t.equal(ids.length, 4, 'object loaded');
    t.same(r[1], { ok: true, value: null }, 'nothing attached at first');
    t.same(r[2], { ok: true, value: 'native' }, 'veth takes native XDP');
    t.same(r[3], { ok: true, value: { mode: 'native', progId: id('fx_pass'), progName: 'fx_pass' } });
    t.match(r[4], { ok: false, code: 'EBUSY', errno: 16 }, 'a second attach without replace is refused');
    t.match(r[4], { message: /already attached/ });
    t.match(r[5], { ok: false, code: 'EEXIST' }, 'replace of a program that is not attached is refused');
    t.same(r[6], { ok: true, value: 'native' }, 'replace of the attached program succeeds');
    t.same(r[7], { ok: true, value: { mode: 'native', progId: id('fx_xdp'), progName: 'fx_xdp' } });
    t.match(r[8], { ok: false, code: 'EEXIST' }, 'detach of a program that is not attached is refused');
    t.same(r[9], { ok: true, value: true });
    t.same(r[10], { ok: true, value: null }, 'detached');
    t.same(r[11], { ok: true, value: false }, 'detach with nothing attached is a no-op');
    t.same(r[12], { ok: true, value: 'generic' }, 'explicit generic mode');
    t.same(r[13], { ok: true, value: { mode: 'generic', progId: id('fx_xdp'), progName: 'fx_xdp' } });
    t.match(r[14], { ok: false, code: 'EBUSY' }, 'native attach over a generic program is refused');
    t.same(r[15], { ok: true, value: 'generic' }, 'replace keeps the mode of the replaced program');
    t.same(r[16], { ok: true, value: { mode: 'generic', progId: id('fx_pass'), progName: 'fx_pass' } });
    t.same(r[17], { ok: true, value: true });
    t.same(r[18], { ok: true, value: null });
    t.same(
      r[19],
      { ok: true, value: 'generic' },
      'auto falls back to generic where native is unsupported (lo)',
    );
    t.match(r[20], { ok: true, value: { mode: 'generic', progName: 'fx_xdp' } });
    t.same(r[21], { ok: true, value: true });
    t.match(r[22], { ok: false, code: 'ENODEV', message: /interface nope0/ });
  });

  t.test('interface index and MAC come from the namespace, not the host sysfs', async (t) => {
    const [link] = JSON.parse(await lan.ip(b, '-j', 'link', 'show', 'eth0')) as Array<{
      ifindex: number;
      address: string;
    }>;
    const r = await inNs(lan, b, [
      { op: 'ifindex', ifname: 'eth0' },
      { op: 'mac', ifname: 'eth0' },
    ]);
    t.same(r[0], { ok: true, value: link?.ifindex });
    t.same(r[1], { ok: true, value: link?.address.replaceAll(':', '') });
  });

  t.test('sendRawFrame is seen byte for byte on the peer and counted by a live XDP program', async (t) => {
    const macOf = async (ns: string) =>
      (JSON.parse(await lan.ip(ns, '-j', 'link', 'show', 'eth0')) as Array<{ address: string }>)[0]
        ?.address ?? '';
    const frame = Buffer.alloc(60);
    Buffer.from((await macOf(b)).replaceAll(':', ''), 'hex').copy(frame, 0);
    Buffer.from((await macOf(a)).replaceAll(':', ''), 'hex').copy(frame, 6);
    frame.writeUInt16BE(0x88b5, 12);
    frame.write('herald-h1 raw frame', 14);

    const attach = await inNs(lan, b, [
      { op: 'load', path: fixture, pinDir },
      { op: 'attach', ifname: 'eth0', prog: 'fx_xdp', mode: 'native' },
    ]);
    t.same(attach[1], { ok: true, value: 'native' });

    const capture = lan.spawn(b, 'tcpdump', ['-i', 'eth0', '-c', '1', '-U', '-w', '-', 'ether proto 0x88b5']);
    await waitForListening(capture, 5_000);
    const captured = collectUntilExit(capture, 30_000); // the sender is a separate process: slow to start on a busy machine
    const sent = await inNs(lan, a, [
      { op: 'send', ifname: 'eth0', frameHex: frame.toString('hex'), count: 5 },
    ]);
    t.same(sent[0], { ok: true, value: 5 * frame.length });
    t.same(firstPcapPacket(await captured), frame, 'peer captured exactly the frame sent');

    const counters = BpfMap.openPinned(join(pinDir, 'fx_percpu'));
    t.teardown(() => counters.close());
    const key = Buffer.alloc(4);
    key.writeUInt32LE(1);
    t.same(counters.lookupPerCpuSum(key), [5n, 5n * 60n], 'XDP counted the five frames through the pin');

    const bad = await inNs(lan, a, [{ op: 'send', ifname: 'eth0', frameHex: '0102' }]);
    t.match(bad[0], { ok: false, code: 'EINVAL', message: /shorter than an Ethernet header/ });
  });
});

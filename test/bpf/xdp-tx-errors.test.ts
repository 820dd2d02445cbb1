/**
 * Transmit errors of XDP verdicts, provoked for real: in native mode on veth, an XDP_TX reply is dropped
 * by the kernel when the peer has no XDP program (veth reports it on xdp:xdp_bulk_tx with ENXIO). The
 * responder answers ARP in namespace n, the client c sends requests, and the tracepoint counter must count
 * every reply the kernel dropped, for the watched interface and namespace only, and nothing once the peer
 * can receive; an aborted verdict (a fixture program on c's side) is counted from xdp:xdp_exception.
 * Also: the counter's pins join an existing (older) pin dir, survive a reopen, and cleanup removes them.
 * Layout (tag tx): c --veth-- n.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { unpinDir } from '../../src/datapath/bpf.js';
import { XdpResponder } from '../../src/datapath/responder.js';
import { netnsInode, TX_ERRORS_MAP_NAMES, XdpTxErrors } from '../../src/datapath/tx-errors.js';
import { parseMac } from '../../src/datapath/xdp-layout.js';
import { namespacePrefix } from '../../src/lab/netns.js';
import { nativeBuildDir } from '../../src/util/paths.js';
import { TestLan } from '../helpers/netns.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['ip', 'nsenter'] });
const agent = fileURLToPath(new URL('../netns/datapath-agent.js', import.meta.url));
const streamer = fileURLToPath(new URL('../netns/datapath-stream.js', import.meta.url));

const VIP4 = '10.79.0.100';
const CLIENT4 = '10.79.0.1';
const VIP_MAC = parseMac('02:00:00:00:79:01');

t.test('XDP_TX frames the kernel drops are counted per interface and action', async (t) => {
  const lan = new TestLan('tx');
  const pinDir = `/sys/fs/bpf/${namespacePrefix()}tx-${process.pid}`;
  const opened: Array<{ close(): void }> = [];
  const removePins = () => {
    XdpResponder.cleanup(pinDir);
    unpinDir(`${pinDir}-fx`);
  };
  process.once('exit', removePins); // also when the test dies before its teardown
  t.teardown(async () => {
    process.removeListener('exit', removePins);
    for (const o of opened) o.close();
    await lan.destroy(); // the veths and their XDP attachments go with the namespaces
    removePins();
  });
  const c = await lan.createNamespace('c');
  const n = await lan.createNamespace('n');
  await lan.link(
    { ns: c, ifname: 'eth0', addrs: [`${CLIENT4}/24`] },
    { ns: n, ifname: 'eth0', addrs: ['10.79.0.2/24'] },
  );

  // An older speaker's pin dir: the responder's maps only.
  const owner = XdpResponder.open({ pinDir });
  opened.push(owner);
  owner.setVip(VIP4, { action: 'answer', mac: VIP_MAC });
  owner.setLivenessBoundMs(120_000);
  owner.heartbeat();
  const attached = JSON.parse(
    (await lan.exec(n, process.execPath, [agent, 'attach', pinDir, 'eth0', 'native'])).stdout,
  ) as {
    mode: string;
  };
  t.equal(attached.mode, 'native');
  const link = JSON.parse(await lan.ip(n, '-j', 'link', 'show', 'eth0')) as Array<{ ifindex: number }>;
  const ifindex = link[0]?.ifindex ?? 0;
  const netns = netnsInode(`/run/netns/${n}`);
  t.ok(ifindex > 0 && netns > 0, `n's eth0 is ifindex ${ifindex} in netns ${netns}`);

  for (const name of Object.values(TX_ERRORS_MAP_NAMES))
    t.notOk(existsSync(join(pinDir, name)), `no ${name} pin yet`);
  let tx = XdpTxErrors.open({ pinDir });
  opened.push(tx);
  for (const name of Object.values(TX_ERRORS_MAP_NAMES))
    t.ok(existsSync(join(pinDir, name)), `${name} pinned beside the responder's maps`);

  const txFrames = () => tx.counts().reduce((sum, e) => sum + e.frames, 0n);
  const replies = () => owner.counters().get(VIP4)?.replies ?? 0n;
  /** Sends `count` ARP requests for the VIP from c and returns how many the responder answered. */
  const ask = async (count: number): Promise<bigint> => {
    const before = replies();
    await lan.exec(c, process.execPath, [streamer, 'eth0', CLIENT4, VIP4, String(count), '400']);
    return replies() - before;
  };

  await t.test('a peer without XDP: every XDP_TX reply is dropped and counted', async (t) => {
    tx.watch([ifindex], netns);
    t.equal(await ask(50), 50n, 'the program answered (XDP_TX) every request');
    t.same(
      tx.counts().map((e) => ({ ...e })),
      [{ ifindex, action: 'tx', frames: 50n }],
      'the kernel dropped all 50 replies: counted for this interface, action tx',
    );
  });

  await t.test('only the watched namespace and interface are counted', async (t) => {
    tx.watch([ifindex], netnsInode(`/run/netns/${c}`)); // the same ifindex in another namespace
    t.equal(await ask(10), 10n);
    t.equal(txFrames(), 50n, 'not counted: not the watched namespace');
    tx.watch([], netns);
    t.equal(await ask(10), 10n);
    t.equal(txFrames(), 50n, 'not counted: not watched');
  });

  await t.test('the counts survive a reopen (pinned) and count on', async (t) => {
    tx.close();
    tx = XdpTxErrors.open({ pinDir });
    opened.push(tx);
    tx.watch([ifindex], netns);
    t.equal(txFrames(), 50n, 'the pinned count was reused');
    t.equal(await ask(5), 5n);
    t.equal(txFrames(), 55n);
  });

  await t.test('once the peer has an XDP program the replies go out: nothing counted', async (t) => {
    t.match(JSON.parse((await lan.exec(c, process.execPath, [agent, 'pass', 'eth0'])).stdout), {
      mode: 'native',
    });
    t.equal(await ask(20), 20n);
    t.equal(txFrames(), 55n);
  });

  await t.test('an aborted verdict is counted from xdp:xdp_exception', async (t) => {
    // c's eth0 gets a program that aborts every frame: n's replies now reach c's XDP and abort there.
    t.match(JSON.parse((await lan.exec(c, process.execPath, [agent, 'detach', 'eth0'])).stdout), {
      detached: true,
    });
    const fixture = join(nativeBuildDir(), 'test_fixtures.bpf.o');
    const aborted = await lan.exec(c, process.execPath, [
      agent,
      'object',
      fixture,
      'fx_aborted',
      `${pinDir}-fx`,
      'eth0',
      'native',
    ]);
    t.match(JSON.parse(aborted.stdout), { mode: 'native' });
    const cLink = JSON.parse(await lan.ip(c, '-j', 'link', 'show', 'eth0')) as Array<{ ifindex: number }>;
    const cIndex = cLink[0]?.ifindex ?? 0;
    tx.watch([cIndex], netnsInode(`/run/netns/${c}`));
    t.equal(await ask(10), 10n, 'n answered (XDP_TX into c, whose program aborts them)');
    // c's program aborts every frame, so a frame n's kernel sends on its own (an IPv6 neighbor or MLD
    // packet) may be counted with the 10 replies: at least the replies, all as 'aborted'.
    const abortedOnC = tx.counts().find((e) => e.ifindex === cIndex);
    t.equal(abortedOnC?.action, 'aborted', "aborted frames counted for c's eth0, action aborted");
    t.ok(
      (abortedOnC?.frames ?? 0n) >= 10n,
      `every aborted reply counted (${abortedOnC?.frames ?? 0n} frames, at least the 10 replies)`,
    );
    t.equal(
      tx.counts().find((e) => e.action === 'tx')?.frames,
      55n,
      "n's transmit count did not move (not watched now, and its replies left)",
    );
  });

  await t.test('a reopened responder loads beside the new pins; cleanup removes them', async (t) => {
    const again = XdpResponder.open({ pinDir });
    opened.push(again);
    t.equal(again.vips().get(VIP4)?.action, 'answer');
    tx.close();
    again.close();
    XdpResponder.cleanup(pinDir);
    t.notOk(existsSync(pinDir), 'pin dir removed');
    t.throws(() => statSync(join(pinDir, TX_ERRORS_MAP_NAMES.errors)));
  });
});

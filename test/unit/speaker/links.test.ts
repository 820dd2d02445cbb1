import t from 'tap';
import type { XdpMode } from '../../../src/datapath/xdp.js';
import type { NodeInterface } from '../../../src/l2/interfaces.js';
import { linkChanges } from '../../../src/speaker/link-changes.js';
import { type LinkDatapath, type LinkSystem, SpeakerLinks } from '../../../src/speaker/links.js';
import { createLogger } from '../../../src/util/log.js';

t.test('linkChanges: new, gone, recreated, addressless', async (t) => {
  const attached = new Map([
    ['eth0', 2],
    ['eth1', 3],
    ['eth2', 4],
    ['eth3', 5],
  ]);
  const kernel = new Map([
    ['eth0', 2], // unchanged
    ['eth2', 14], // recreated
    ['eth3', 5], // still there, lost its addresses
    ['eth4', 6], // new
  ]);
  const wanted = [
    { name: 'eth0', ifindex: 2 },
    { name: 'eth2', ifindex: 14 },
    { name: 'eth4', ifindex: 6 },
  ];
  t.same(
    linkChanges(attached, wanted, (n) => kernel.get(n)),
    {
      attach: [
        { name: 'eth2', ifindex: 14 },
        { name: 'eth4', ifindex: 6 },
      ],
      detach: ['eth3'],
      forget: ['eth1', 'eth2'],
    },
  );
  t.same(
    linkChanges(new Map([['eth0', 2]]), [{ name: 'eth0', ifindex: 2 }], () => 2),
    {
      attach: [],
      detach: [],
      forget: [],
    },
  );
});

/** A kernel of fake interfaces: name → ifindex and addresses. */
class FakeSystem implements LinkSystem {
  links = new Map<string, { ifindex: number; cidrs: string[] }>();
  scan(only: readonly string[]) {
    const found: NodeInterface[] = [...this.links]
      .filter(([name, l]) => l.cidrs.length > 0 && (only.length === 0 || only.includes(name)))
      .map(([name, l]) => ({ name, cidrs: l.cidrs }));
    return { found, missing: only.filter((n) => !found.some((f) => f.name === n)) };
  }
  ifindex(name: string) {
    return this.links.get(name)?.ifindex;
  }
  mac(name: string) {
    const ifindex = this.links.get(name)?.ifindex;
    if (ifindex === undefined) throw new Error(`no ${name}`);
    return Buffer.from([2, 0, 0, 0, 0, ifindex]);
  }
  autoMode() {
    return { mode: 'generic' as const, reason: 'test' };
  }
  nativeVethWithoutPeer() {
    return false;
  }
}

class FakeDatapath implements LinkDatapath {
  readonly ops: string[] = [];
  failAttach = new Set<string>();
  attach(ifname: string, mode: XdpMode | 'auto'): XdpMode {
    if (this.failAttach.has(ifname)) throw new Error('EBUSY');
    this.ops.push(`attach ${ifname}`);
    return mode === 'auto' ? 'native' : mode;
  }
  detach(ifname: string) {
    this.ops.push(`detach ${ifname}`);
  }
  forget(ifname: string) {
    this.ops.push(`forget ${ifname}`);
  }
}

const log = createLogger('test', 'silent');

t.test('SpeakerLinks follows interfaces that come, go and come back', async (t) => {
  const sys = new FakeSystem();
  const dp = new FakeDatapath();
  sys.links.set('eth0', { ifindex: 2, cidrs: ['10.0.0.1/24'] });
  const links = new SpeakerLinks({ only: [], xdpMode: 'auto', datapath: dp, log, system: sys });
  t.same(links.sync({ strict: true }).interfaces, [{ name: 'eth0', cidrs: ['10.0.0.1/24'] }]);
  t.same([...links.attached], [['eth0', 'generic']], 'auto mode as the system chose it');
  t.same(links.sync().changed, false, 'nothing new');

  sys.links.set('veth9', { ifindex: 7, cidrs: ['10.9.0.1/24'] });
  const added = links.sync();
  t.ok(added.changed);
  t.same(
    added.interfaces.map((i) => i.name),
    ['eth0', 'veth9'],
  );
  t.same(
    links.announcing().map((a) => [a.name, a.ifindex, a.mac.toString('hex')]),
    [
      ['eth0', 2, '020000000002'],
      ['veth9', 7, '020000000007'],
    ],
  );

  sys.links.delete('veth9');
  const gone = links.sync();
  t.same(
    gone.interfaces.map((i) => i.name),
    ['eth0'],
  );
  t.same(dp.ops.slice(-1), ['forget veth9'], 'a deleted interface is forgotten, not detached');

  sys.links.set('veth9', { ifindex: 8, cidrs: ['10.9.0.1/24'] });
  links.sync();
  t.same(dp.ops.slice(-1), ['attach veth9'], 'recreated: attached again');
  sys.links.set('veth9', { ifindex: 11, cidrs: ['10.9.0.1/24'] });
  links.sync();
  t.same(dp.ops.slice(-2), ['forget veth9', 'attach veth9'], 'recreated between two syncs');
  t.equal(links.announcing().find((a) => a.name === 'veth9')?.ifindex, 11);

  sys.links.set('veth9', { ifindex: 11, cidrs: [] });
  links.sync();
  t.same(dp.ops.slice(-1), ['detach veth9'], 'without an address: detached');
  t.same([...links.attached.keys()], ['eth0']);
});

t.test('SpeakerLinks: a failed attach stops the start, and is retried later while running', async (t) => {
  const sys = new FakeSystem();
  const dp = new FakeDatapath();
  sys.links.set('eth0', { ifindex: 2, cidrs: ['10.0.0.1/24'] });
  dp.failAttach.add('eth0');
  const links = new SpeakerLinks({ only: [], xdpMode: 'generic', datapath: dp, log, system: sys });
  t.throws(() => links.sync({ strict: true }), /EBUSY/);
  t.same(links.sync().interfaces, [], 'not gossiped while not attached');
  dp.failAttach.clear();
  t.same(
    links.sync().interfaces.map((i) => i.name),
    ['eth0'],
    'attached at the next sync',
  );
});

t.test('SpeakerLinks with --interface: only the named ones; a missing one is waited for', async (t) => {
  const sys = new FakeSystem();
  const dp = new FakeDatapath();
  sys.links.set('eth0', { ifindex: 2, cidrs: ['10.0.0.1/24'] });
  sys.links.set('eth1', { ifindex: 3, cidrs: ['10.1.0.1/24'] });
  const links = new SpeakerLinks({
    only: ['eth1', 'eth5'],
    xdpMode: 'generic',
    datapath: dp,
    log,
    system: sys,
  });
  t.same(
    links.sync().interfaces.map((i) => i.name),
    ['eth1'],
  );
  sys.links.set('eth5', { ifindex: 9, cidrs: ['10.5.0.1/24'] });
  t.same(
    links.sync().interfaces.map((i) => i.name),
    ['eth1', 'eth5'],
  );
  t.same(dp.ops, ['attach eth1', 'attach eth5'], 'eth0 never attached');
});

import t from 'tap';
import { decodeFlow, encodeFlow, type FlowEntry } from '../../../src/datapath/flow-layout.js';
import { addrFromKey, decodeVip } from '../../../src/datapath/xdp-layout.js';
import type { ArmedTakeovers } from '../../../src/l2/watch/takeover.js';
import { type TakeoverIo, WatchTakeover } from '../../../src/speaker/watch-takeover.js';
import { twoNodeFlowEntry } from '../../helpers/flow-entry.js';

class FakeIo implements TakeoverIo {
  readonly log: string[] = [];
  failWrites = false;
  failSends = false;
  failFlows = false;
  /** The flow map: VIP → value. */
  readonly flowMap = new Map<string, Buffer>();
  prepare(interfaces: ReadonlyArray<readonly [string, number]>, flows: boolean): void {
    this.log.push(`prepare ${interfaces.map(([n, i]) => `${n}#${i}`).join(',')}${flows ? ' flows' : ''}`);
  }
  readFlow(key: Buffer): Buffer | undefined {
    if (this.failFlows) throw new Error('flow map gone');
    return this.flowMap.get(addrFromKey(key));
  }
  writeFlows(entries: ReadonlyArray<readonly [Buffer, Buffer]>): void {
    for (const [k, v] of entries) {
      this.flowMap.set(addrFromKey(k), v);
      this.log.push(`steer ${addrFromKey(k)} ${decodeFlow(v).role}`);
    }
  }
  writeEntries(entries: ReadonlyArray<readonly [Buffer, Buffer]>): void {
    if (this.failWrites) throw new Error('map gone');
    for (const [k, v] of entries) {
      const e = decodeVip(v);
      this.log.push(`write ${addrFromKey(k)} ${e.action} ${e.mac.toString('hex')} #${e.ifindex}`);
    }
  }
  sendFrames(ifname: string, ifindex: number, frames: readonly Buffer[]): void {
    if (this.failSends) throw new Error('link down');
    this.log.push(`send ${ifname}#${ifindex} ${frames.length}`);
  }
  close(): void {
    this.log.push('close');
  }
}

const armed = (): ArmedTakeovers => [
  [
    'b',
    [
      { ip: '10.0.0.1', ifname: 'eth0', ifindex: 2, mac: '020000000001' },
      { ip: 'fd00::1', ifname: 'eth0', ifindex: 2, mac: '020000000001' },
    ],
  ],
  ['c', [{ ip: '10.0.0.2', ifname: 'eth0', ifindex: 2, mac: '020000000001' }]],
];

t.test('a down owner: its armed entries are written, then announced', async (t) => {
  const io = new FakeIo();
  const w = new WatchTakeover(io);
  w.arm(armed());
  t.same(io.log, ['prepare eth0#2'], 'the map and sockets are opened when armed, not at the takeover');
  io.log.length = 0;
  const took = w.fire('b');
  t.same(took, { ips: ['10.0.0.1', 'fd00::1'] });
  t.same(io.log, [
    'write 10.0.0.1 answer 020000000001 #2',
    'write fd00::1 answer 020000000001 #2',
    'send eth0#2 3',
  ]);
  t.equal(w.fire('b'), undefined, 'fired once: nothing is armed for b until the control loop arms again');
  t.equal(w.fire('d'), undefined, 'nothing armed for d');
  t.same(w.fire('c'), { ips: ['10.0.0.2'] });
});

t.test('a failed write takes nothing over; failed frames still leave the entries answering', async (t) => {
  const io = new FakeIo();
  const errors: string[] = [];
  const w = new WatchTakeover(io, (m) => errors.push(m));
  w.arm(armed());
  io.failWrites = true;
  t.equal(w.fire('b'), undefined);
  io.failWrites = false;
  io.failSends = true;
  t.same(w.fire('c')?.ips, ['10.0.0.2']);
  t.match(errors, [/takeover from b: map gone/, /announcement on eth0: link down/]);
});

t.test('arming again replaces what was armed', async (t) => {
  const io = new FakeIo();
  const w = new WatchTakeover(io);
  w.arm(armed());
  w.arm([]);
  t.equal(w.fire('b'), undefined);
  w.close();
  t.equal(io.log.at(-1), 'close');
});

const flowEntry = (role: FlowEntry['role']): Buffer =>
  encodeFlow(twoNodeFlowEntry(role, '020000000001', '020000000002'));

t.test('a flow-mode VIP: its member entry becomes the owner one before it answers', async (t) => {
  const io = new FakeIo();
  const w = new WatchTakeover(io);
  const at = { ifname: 'eth0', ifindex: 2, mac: '020000000001', flows: true as const };
  io.flowMap.set('10.0.0.6', flowEntry('member'));
  io.flowMap.set('fd00::6', flowEntry('member'));
  io.flowMap.set('10.0.0.8', flowEntry('owner'));
  w.arm([
    [
      'b',
      [
        { ip: '10.0.0.6', ...at },
        { ip: 'fd00::6', ...at },
        { ip: '10.0.0.7', ...at }, // no flow entry (no own MAC known yet): answered only
        { ip: '10.0.0.8', ...at }, // already the owner's: left alone
        { ip: '10.0.0.1', ifname: 'eth0', ifindex: 2, mac: '020000000001' },
      ],
    ],
  ]);
  t.same(io.log, ['prepare eth0#2 flows']);
  io.log.length = 0;
  t.same(w.fire('b')?.ips, ['10.0.0.6', 'fd00::6', '10.0.0.7', '10.0.0.8', '10.0.0.1']);
  t.same(io.log, [
    'steer 10.0.0.6 owner',
    'steer fd00::6 owner',
    'write 10.0.0.6 answer 020000000001 #2',
    'write fd00::6 answer 020000000001 #2',
    'write 10.0.0.7 answer 020000000001 #2',
    'write 10.0.0.8 answer 020000000001 #2',
    'write 10.0.0.1 answer 020000000001 #2',
    'send eth0#2 9',
  ]);
  const before = decodeFlow(flowEntry('member'));
  const after = decodeFlow(io.flowMap.get('10.0.0.6') ?? Buffer.alloc(0));
  t.same({ ...after, role: 'member' }, before, 'the same table, targets and counters: only the role moved');
  t.notOk(io.flowMap.has('10.0.0.7'), 'no entry made up');
});

t.test('a flow map that fails leaves the VIPs answered', async (t) => {
  const io = new FakeIo();
  const errors: string[] = [];
  const w = new WatchTakeover(io, (m) => errors.push(m));
  io.failFlows = true;
  w.arm([['b', [{ ip: '10.0.0.6', ifname: 'eth0', ifindex: 2, mac: '020000000001', flows: true }]]]);
  t.same(w.fire('b')?.ips, ['10.0.0.6']);
  t.match(errors, [/flow steering from b: flow map gone/]);
  t.ok(io.log.includes('write 10.0.0.6 answer 020000000001 #2'));
});

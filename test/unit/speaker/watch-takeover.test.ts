import t from 'tap';
import { addrFromKey, decodeVip } from '../../../src/datapath/xdp-layout.js';
import type { ArmedTakeovers } from '../../../src/l2/watch/takeover.js';
import { type TakeoverIo, WatchTakeover } from '../../../src/speaker/watch-takeover.js';

class FakeIo implements TakeoverIo {
  readonly log: string[] = [];
  failWrites = false;
  failSends = false;
  prepare(interfaces: ReadonlyArray<readonly [string, number]>): void {
    this.log.push(`prepare ${interfaces.map(([n, i]) => `${n}#${i}`).join(',')}`);
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

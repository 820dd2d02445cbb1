/**
 * Incarnation arithmetic at the wire limits, fuzzed with fast-check (extreme values included): nothing
 * wraps into a state a member cannot refute.
 */
import fc from 'fast-check';
import t from 'tap';
import {
  INCARNATION_MODULUS,
  MAX_INCARNATION_STEP,
  compareIncarnation,
  nextIncarnation,
} from '../../../src/membership/incarnation.js';
import {
  type AccuseNews,
  type LocalView,
  type NodeRecord,
  decideAlive,
  decideDead,
  decideSuspect,
} from '../../../src/membership/rules.js';

const U32_MAX = INCARNATION_MODULUS - 1;
const EDGES = [0, 1, 2, 3, MAX_INCARNATION_STEP, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, U32_MAX - 1, U32_MAX];
const inc = fc.oneof(fc.constantFrom(...EDGES), fc.integer({ min: 0, max: U32_MAX }));
const u32 = (x: number): boolean => Number.isInteger(x) && x >= 0 && x <= U32_MAX;

const ADDR = '10.0.0.2';
const view = (incarnation: number): LocalView => ({
  name: 'n2',
  incarnation,
  addr: ADDR,
  port: 7946,
  meta: Buffer.alloc(0),
  leaving: false,
});
const record = (incarnation: number, state: NodeRecord['state'] = 'alive'): NodeRecord => ({
  name: 'n2',
  addr: ADDR,
  port: 7946,
  meta: Buffer.alloc(0),
  incarnation,
  state,
  protocolMin: 1,
  protocolMax: 1,
  changedAt: 0,
});
const aliveAt = (incarnation: number) => ({
  node: 'n2',
  incarnation,
  addr: ADDR,
  port: 7946,
  meta: Buffer.alloc(0),
  protocolMin: 1,
  protocolMax: 1,
});

t.test('order on the circle', async (t) => {
  t.equal(compareIncarnation(5, 5), 'same');
  t.equal(compareIncarnation(6, 5), 'newer');
  t.equal(compareIncarnation(4, 5), 'older');
  t.equal(compareIncarnation(0, U32_MAX), 'newer', 'the wrap is one step forward');
  t.equal(compareIncarnation(U32_MAX, 3), 'older', '0xFFFFFFFF is old news about a member at 3');
  t.equal(compareIncarnation(3 + MAX_INCARNATION_STEP + 1, 3), 'implausible');
  t.equal(compareIncarnation(2 ** 31, 0), 'implausible', 'exactly half way round is no order');
  t.equal(nextIncarnation(U32_MAX), 0);
  fc.assert(
    fc.property(inc, inc, (a, b) => {
      const ab = compareIncarnation(a, b);
      const ba = compareIncarnation(b, a);
      const pairs = ['same/same', 'newer/older', 'older/newer', 'older/implausible', 'implausible/older'];
      // Exactly half way round both directions are implausible.
      return (
        (pairs.includes(`${ab}/${ba}`) || (ab === 'implausible' && ba === 'implausible')) &&
        (ab === 'same') === (a === b)
      );
    }),
  );
  fc.assert(
    fc.property(inc, (a) => u32(nextIncarnation(a)) && compareIncarnation(nextIncarnation(a), a) === 'newer'),
  );
});

t.test('the forged "n2 left at 0xFFFFFFFF" is old news everywhere, also to n2', async (t) => {
  const forged: AccuseNews = { node: 'n2', incarnation: U32_MAX, from: 'n2' };
  t.same(decideDead(record(3), forged, { ...view(9), name: 'n1' }, 1), { action: 'ignore', reason: 'stale' });
  t.same(decideDead(undefined, forged, view(3), 1), { action: 'ignore', reason: 'stale' });
  // Known at 0xFFFFFFFE: the accusation is newer, and the refutation wraps to 0, which is newer still.
  const d = decideDead(undefined, forged, view(U32_MAX - 1), 1);
  t.same(d, { action: 'refute', incarnation: 0 });
  const back = decideAlive(record(U32_MAX, 'left'), aliveAt(0), { ...view(1), name: 'n1' }, 1);
  t.ok(back.action === 'apply' && back.next.state === 'alive', 'peers take the wrapped refutation');
});

t.test('no accusation can push a member into a state it cannot refute', async (t) => {
  fc.assert(
    fc.property(
      inc,
      inc,
      fc.constantFrom('suspect', 'dead', 'left'),
      fc.constantFrom<NodeRecord['state']>('alive', 'suspect'),
      (known, accused, kind, state) => {
        // An up-to-date peer knows n2 at n2's own incarnation.
        const peer = { ...view(0), name: 'n1' };
        const news: AccuseNews = { node: 'n2', incarnation: accused, from: kind === 'left' ? 'n2' : 'n1' };
        const decide = kind === 'suspect' ? decideSuspect : decideDead;
        const atPeer = decide(record(known, state), news, peer, 1);
        const atSelf = decide(undefined, news, view(known), 1);
        if (atPeer.action !== 'apply') return true;
        // The peer believed it, so n2 must outbid it with a valid uint32 the peer then believes.
        if (atSelf.action !== 'refute' || !u32(atSelf.incarnation)) return false;
        if (compareIncarnation(atSelf.incarnation, accused) !== 'newer') return false;
        const healed = decideAlive(atPeer.next, aliveAt(atSelf.incarnation), peer, 2);
        return healed.action === 'apply' && healed.next.state === 'alive';
      },
    ),
    { numRuns: 5000 },
  );
  t.pass('5000 random and edge-value accusations were all refutable');
});

t.test(
  'every decision keeps incarnations inside uint32 and alive news never moves a member back',
  async (t) => {
    fc.assert(
      fc.property(
        inc,
        inc,
        fc.constantFrom<NodeRecord['state']>('alive', 'suspect', 'dead', 'left'),
        (cur, news, state) => {
          const peer = { ...view(0), name: 'n1' };
          const d = decideAlive(record(cur, state), aliveAt(news), peer, 1);
          if (d.action !== 'apply') return true;
          return u32(d.next.incarnation) && compareIncarnation(d.next.incarnation, cur) === 'newer';
        },
      ),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(inc, inc, (local, news) => {
        const d = decideAlive(undefined, { ...aliveAt(news), meta: Buffer.from('x') }, view(local), 1);
        if (d.action !== 'refute') return true;
        const outbid = compareIncarnation(news, local) === 'newer' ? news : local;
        return u32(d.incarnation) && compareIncarnation(d.incarnation, outbid) === 'newer';
      }),
      { numRuns: 5000 },
    );
    t.pass('alive news and refutations stay inside uint32 and only move forward');
  },
);

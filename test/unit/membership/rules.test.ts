import t from 'tap';
import {
  type LocalView,
  type NodeRecord,
  decideAlive,
  decideDead,
  decideSuspect,
} from '../../../src/membership/rules.js';

const local: LocalView = {
  name: 'me',
  incarnation: 5,
  addr: '10.0.0.1',
  port: 7946,
  meta: Buffer.from('m'),
  leaving: false,
};
const rec = (over: Partial<NodeRecord> = {}): NodeRecord => ({
  name: 'b',
  addr: '10.0.0.2',
  port: 7946,
  meta: Buffer.alloc(0),
  incarnation: 3,
  state: 'alive',
  protocolMin: 1,
  protocolMax: 1,
  changedAt: 0,
  ...over,
});
const alive = (
  over: Partial<{ node: string; incarnation: number; addr: string; port: number; meta: Buffer }> = {},
) => ({
  node: 'b',
  incarnation: 3,
  addr: '10.0.0.2',
  port: 7946,
  meta: Buffer.alloc(0),
  protocolMin: 1,
  protocolMax: 1,
  ...over,
});

t.test('alive: new member joins, stale ignored, higher incarnation applies', async (t) => {
  const d = decideAlive(undefined, alive(), local, 1);
  t.equal(d.action, 'apply');
  if (d.action === 'apply') t.same(d.events, ['join']);
  t.same(decideAlive(rec(), alive({ incarnation: 3 }), local, 1), { action: 'ignore', reason: 'stale' });
  t.same(decideAlive(rec(), alive({ incarnation: 2 }), local, 1), { action: 'ignore', reason: 'stale' });
  const up = decideAlive(rec(), alive({ incarnation: 4, meta: Buffer.from('v2') }), local, 1);
  t.ok(up.action === 'apply' && up.events.join() === 'update', 'metadata change → update');
  const same = decideAlive(rec(), alive({ incarnation: 4 }), local, 1);
  t.ok(same.action === 'apply' && same.events.length === 0, 'refresh without change → no event');
});

t.test('alive: suspect → alive (refuted), dead → join (rejoin)', async (t) => {
  const r = decideAlive(rec({ state: 'suspect' }), alive({ incarnation: 4 }), local, 1);
  t.ok(r.action === 'apply' && r.events.join() === 'alive' && r.next.state === 'alive');
  const j = decideAlive(rec({ state: 'dead' }), alive({ incarnation: 4 }), local, 1);
  t.ok(j.action === 'apply' && j.events.join() === 'join');
  t.same(
    decideAlive(rec({ state: 'dead' }), alive({ incarnation: 3 }), local, 1).action,
    'ignore',
    'dead needs a newer incarnation',
  );
  const l = decideAlive(rec({ state: 'left' }), alive({ incarnation: 9 }), local, 1);
  t.ok(l.action === 'apply' && l.events.join() === 'join');
});

t.test('alive about ourselves: identical ignored, newer or different refuted above it', async (t) => {
  const me = {
    node: 'me',
    incarnation: 5,
    addr: '10.0.0.1',
    port: 7946,
    meta: Buffer.from('m'),
    protocolMin: 1,
    protocolMax: 1,
  };
  t.same(decideAlive(undefined, me, local, 1), { action: 'ignore', reason: 'self' });
  t.same(decideAlive(undefined, { ...me, incarnation: 4 }, local, 1), { action: 'ignore', reason: 'stale' });
  t.same(decideAlive(undefined, { ...me, incarnation: 9 }, local, 1), { action: 'refute', incarnation: 10 });
  t.same(
    decideAlive(undefined, { ...me, meta: Buffer.from('other') }, local, 1),
    { action: 'refute', incarnation: 6 },
    'an old process of ours with other metadata',
  );
  t.same(
    decideAlive(undefined, { ...me, port: 1 }, local, 1),
    {
      action: 'conflict',
      node: 'me',
      known: { addr: '10.0.0.1', port: 7946 },
      claimed: { addr: '10.0.0.1', port: 1 },
    },
    'our name at another port is a conflict, never outbid',
  );
  t.same(
    decideAlive(undefined, { ...me, port: 1, incarnation: 4 }, local, 1).action,
    'conflict',
    'whatever its incarnation (two processes count theirs apart: a lower one is no proof of old news)',
  );
  t.same(decideAlive(undefined, { ...me, incarnation: 9 }, { ...local, leaving: true }, 1).action, 'ignore');
});

t.test('suspect: starts suspicion, confirms, refutes about self, ignores stale/unknown/down', async (t) => {
  const s = decideSuspect(rec(), { node: 'b', incarnation: 3, from: 'c' }, local, 7);
  t.ok(
    s.action === 'apply' &&
      s.next.state === 'suspect' &&
      s.events.join() === 'suspect' &&
      s.next.changedAt === 7,
  );
  t.same(decideSuspect(rec({ state: 'suspect' }), { node: 'b', incarnation: 3, from: 'd' }, local, 1), {
    action: 'confirm',
  });
  t.same(decideSuspect(rec(), { node: 'b', incarnation: 2, from: 'c' }, local, 1), {
    action: 'ignore',
    reason: 'stale',
  });
  t.same(decideSuspect(undefined, { node: 'b', incarnation: 3, from: 'c' }, local, 1), {
    action: 'ignore',
    reason: 'unknown',
  });
  t.same(
    decideSuspect(rec({ state: 'dead' }), { node: 'b', incarnation: 3, from: 'c' }, local, 1).action,
    'ignore',
  );
  t.same(decideSuspect(undefined, { node: 'me', incarnation: 5, from: 'c' }, local, 1), {
    action: 'refute',
    incarnation: 6,
  });
  t.same(decideSuspect(undefined, { node: 'me', incarnation: 8, from: 'c' }, local, 1), {
    action: 'refute',
    incarnation: 9,
  });
  t.same(
    decideSuspect(undefined, { node: 'me', incarnation: 4, from: 'c' }, local, 1).action,
    'ignore',
    'old news about us',
  );
});

t.test('dead: from itself = left, otherwise dead; refuted about self unless leaving', async (t) => {
  const d = decideDead(rec({ state: 'suspect' }), { node: 'b', incarnation: 3, from: 'c' }, local, 1);
  t.ok(d.action === 'apply' && d.next.state === 'dead' && d.events.join() === 'dead');
  const l = decideDead(rec(), { node: 'b', incarnation: 3, from: 'b' }, local, 1);
  t.ok(l.action === 'apply' && l.next.state === 'left' && l.events.join() === 'leave');
  t.same(decideDead(rec(), { node: 'b', incarnation: 2, from: 'c' }, local, 1).action, 'ignore');
  t.same(
    decideDead(rec({ state: 'left' }), { node: 'b', incarnation: 3, from: 'c' }, local, 1).action,
    'ignore',
  );
  t.same(decideDead(undefined, { node: 'me', incarnation: 5, from: 'c' }, local, 1), {
    action: 'refute',
    incarnation: 6,
  });
  t.same(
    decideDead(undefined, { node: 'me', incarnation: 5, from: 'me' }, { ...local, leaving: true }, 1).action,
    'ignore',
  );
});

t.test('name conflicts: a name up at another address is never taken over; a down one may move', async (t) => {
  t.same(decideAlive(rec(), alive({ incarnation: 9, addr: '10.0.0.9' }), local, 1), {
    action: 'conflict',
    node: 'b',
    known: { addr: '10.0.0.2', port: 7946 },
    claimed: { addr: '10.0.0.9', port: 7946 },
  });
  t.equal(
    decideAlive(rec({ state: 'suspect' }), alive({ incarnation: 9, port: 1 }), local, 1).action,
    'conflict',
  );
  const moved = decideAlive(
    rec({ state: 'dead', incarnation: 7 }),
    alive({ incarnation: 0, addr: '10.0.0.9' }),
    local,
    1,
  );
  t.ok(
    moved.action === 'apply' && moved.next.addr === '10.0.0.9' && moved.events.join() === 'join',
    'a new process elsewhere replaces a dead record at any incarnation',
  );
});

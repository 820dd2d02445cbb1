import t from 'tap';
import { Awareness } from '../../../src/membership/awareness.js';
import { BroadcastQueue, retransmitLimit } from '../../../src/membership/broadcast-queue.js';

t.test('awareness score is clamped and scales timeouts by score + 1', async (t) => {
  const a = new Awareness(8);
  t.equal(a.scale(100), 100);
  t.equal(a.apply(-1), 0, 'never below 0');
  t.equal(a.apply(3), 3);
  t.equal(a.scale(100), 400);
  t.equal(a.apply(100), 7, 'never above max - 1');
  t.equal(a.scale(500), 4000);
  t.equal(a.apply(-2), 5);
});

t.test('retransmit limit = mult × ceil(log10(n + 1))', async (t) => {
  t.equal(retransmitLimit(4, 1), 4);
  t.equal(retransmitLimit(4, 9), 4);
  t.equal(retransmitLimit(4, 10), 8);
  t.equal(retransmitLimit(4, 99), 8);
  t.equal(retransmitLimit(4, 100), 12);
  t.equal(retransmitLimit(3, 0), 0);
});

const b = (key: string, text: string, user = false) => ({ key, payload: Buffer.from(text), user });

t.test('queue: least transmitted first, newest first among equals; retired at the limit', async (t) => {
  const q = new BroadcastQueue(10);
  q.push(b('m:a', 'A'));
  q.push(b('m:b', 'B'));
  q.push(b('m:c', 'C'));
  t.same(q.take(0, 1000, 2).map(String), ['C', 'B', 'A'], 'newest first');
  q.push(b('m:d', 'D'));
  t.same(q.take(0, 1000, 2).map(String), ['D', 'C', 'B', 'A'], 'fresh news before retransmissions');
  t.same(q.take(0, 1000, 2).map(String), ['D'], 'A, B, C reached the limit of 2');
  t.equal(q.size(), 0);
});

t.test('queue: same key replaces, budget respected with overhead', async (t) => {
  const q = new BroadcastQueue(10);
  q.push(b('m:a', 'alive-1'));
  q.push(b('m:a', 'dead-1'));
  t.equal(q.size(), 1);
  t.same(q.take(0, 1000, 5).map(String), ['dead-1'], 'stale news about a never sent after fresh');
  q.push(b('m:x', 'xxxx'));
  q.push(b('m:y', 'yyyy'));
  t.same(q.take(2, 6, 5).map(String), ['yyyy'], 'only one fits in 6 bytes with 2 overhead');
  t.same(q.take(2, 100, 5).map(String), ['xxxx', 'yyyy', 'dead-1'], 'unsent first, then newest');
  t.same(q.take(0, 0, 5), [], 'zero budget takes nothing');
});

t.test('queue: user messages are capped (oldest, most sent dropped); membership never', async (t) => {
  const q = new BroadcastQueue(2);
  q.push(b('m:n1', 'member'));
  t.same(q.push(b('u:1', 'u1', true)), []);
  t.same(q.push(b('u:2', 'u2', true)), []);
  t.same(q.push(b('u:3', 'u3', true)), ['u:1']);
  t.ok(q.has('m:n1'));
  t.equal(q.size(), 3);
  q.take(0, 1000, 10);
  t.same(q.push(b('u:4', 'u4', true)), ['u:2'], 'among equally sent, the oldest goes');
});

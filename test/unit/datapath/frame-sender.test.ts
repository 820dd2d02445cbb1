import t from 'tap';
import { type FrameSocket, FrameSender, nextWindowWaitMs } from '../../../src/datapath/frame-sender.js';
import { waitFor } from '../../../src/util/wait.js';

class FakeSocket implements FrameSocket {
  readonly sent: string[] = [];
  room = Number.POSITIVE_INFINITY;
  fail: Error | undefined;
  closed = false;
  sendBatch(frames: readonly Buffer[], start: number): number {
    if (this.fail) throw this.fail;
    const n = Math.min(frames.length - start, this.room);
    for (let i = start; i < start + n; i++) this.sent.push(frames[i]!.toString());
    this.room -= n;
    return n;
  }
  close(): void {
    this.closed = true;
  }
}

const frames = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => Buffer.from(`${prefix}${i}`));

t.test('paced: a tick sends its share of the rate, urgent frames first', async (t) => {
  const socket = new FakeSocket();
  const opened: string[] = [];
  const s = new FrameSender({
    ratePerSec: 10_000,
    tickMs: 5,
    open: (ifname) => {
      opened.push(ifname);
      return socket;
    },
  });
  t.teardown(() => s.close());
  s.send('eth0', frames('b', 120), 'bulk');
  t.equal(socket.sent.length, 0, 'bulk frames wait for a tick');
  s.send('eth0', frames('u', 10), 'urgent');
  t.equal(socket.sent.length, 50, "urgent frames leave at once, in the window's share: 10,000/s × 5 ms");
  t.same(socket.sent.slice(0, 10), frames('u', 10).map(String), 'urgent frames went first');
  t.equal(s.pending(), 80, 'the rest waits for the next windows');
  // Two more windows; each tick is a timer of its own, so a loaded machine may take much longer.
  await waitFor('the rest on later ticks', 10_000, () => s.pending() === 0, 5);
  t.equal(socket.sent.length, 130, 'the rest followed on later ticks');
  t.same(socket.sent.slice(10), frames('b', 120).map(String), 'in order');
  t.same(opened, ['eth0'], 'one socket, kept open');
  t.equal(s.sent(), 130);
});

t.test('urgent frames leave at once up to the window share, the rest on the next window', async (t) => {
  const socket = new FakeSocket();
  // A window of a whole second: the loop below must not outlast it (a 20 ms window did, 7 runs in 20 at
  // load 12: the process was not scheduled for 20 ms, a second window opened and all 202 went at once).
  const s = new FrameSender({ ratePerSec: 200, tickMs: 1000, open: () => socket });
  t.teardown(() => s.close());
  s.send('eth0', frames('a', 2), 'urgent');
  t.same(socket.sent, ['a0', 'a1'], 'sent before send() returned');
  // A takeover of many VIPs: every VIP's first frames go out inside the round while the window allows.
  for (let i = 0; i < 100; i++) s.send('eth0', frames(`v${i}-`, 2), 'urgent');
  t.equal(socket.sent.length, 200, 'the window: 200/s × 1 s = 200 frames, all sent synchronously');
  t.equal(s.pending(), 2);
  await waitFor('the next window', 10_000, () => s.pending() === 0, 5);
  t.equal(socket.sent.length, 202, 'the last VIP on the next window');
  s.send('eth0', frames('b', 1), 'bulk');
  t.equal(socket.sent.length, 202, 'bulk frames always wait for a tick');
  await waitFor('a tick', 10_000, () => s.pending() === 0, 5);
  t.equal(socket.sent.length, 203);
});

t.test('a full socket queue is retried; a failing interface is dropped and reported', async (t) => {
  const socket = new FakeSocket();
  socket.room = 3;
  const errors: string[] = [];
  const s = new FrameSender({
    ratePerSec: 100_000,
    tickMs: 1,
    open: () => socket,
    onError: (ifname, e) => errors.push(`${ifname}: ${(e as Error).message}`),
  });
  t.teardown(() => s.close());
  s.send('eth0', frames('a', 10));
  await new Promise((r) => setTimeout(r, 5));
  t.equal(socket.sent.length, 3, 'only what fitted');
  socket.room = Number.POSITIVE_INFINITY;
  await new Promise((r) => setTimeout(r, 10));
  t.equal(socket.sent.length, 10, 'the rest on later ticks');
  socket.fail = new Error('ENXIO');
  s.send('eth0', frames('c', 5));
  await new Promise((r) => setTimeout(r, 10));
  t.same(errors, ['eth0: ENXIO'], 'reported once');
  t.equal(s.pending(), 0, 'queue dropped');
  t.ok(socket.closed, 'socket closed (reopened on the next send)');
});

t.test(
  'the wait for the next window is whole milliseconds, rounded up (one timer wake-up a window)',
  async (t) => {
    t.equal(nextWindowWaitMs(1000, 20, 1015.8), 5, '4.2 ms left: 5, not a 4 ms wake-up and a 1 ms one');
    t.equal(nextWindowWaitMs(1000, 20, 1000), 20);
    t.equal(nextWindowWaitMs(1000, 20, 1020.5), 0, 'already due');
  },
);

import t from 'tap';
import { mapSliced, TimeSlicer } from '../../../src/util/slices.js';

t.test('mapSliced: the same result as map, yielding whenever a slice spent its budget', async (t) => {
  let clock = 0;
  const slicer = new TimeSlicer({ budgetMs: 10, now: () => clock });
  let timerRan = 0;
  const timer = setInterval(() => timerRan++, 0);
  const out = await mapSliced(
    Array.from({ length: 100 }, (_, i) => i),
    (i) => {
      clock += 1; // every item costs 1 ms: a yield every 10 items
      return i * 2;
    },
    slicer,
  );
  clearInterval(timer);
  t.same(
    out,
    Array.from({ length: 100 }, (_, i) => i * 2),
  );
  t.equal(slicer.yields, 9, 'one yield per 10 ms of work (none after the last slice)');
  t.ok(timerRan > 0, 'timers ran between slices');
});

t.test('mapSliced: within the budget it does not yield', async (t) => {
  const slicer = new TimeSlicer({ budgetMs: 10, now: () => 0 });
  t.same(await mapSliced([1, 2, 3], (x) => x + 1, slicer), [2, 3, 4]);
  t.equal(slicer.yields, 0);
});

t.test('mapSliced: an abort between slices stops the loop', async (t) => {
  let clock = 0;
  const stop = new AbortController();
  const slicer = new TimeSlicer({ budgetMs: 1, now: () => clock, signal: stop.signal });
  let done = 0;
  const run = mapSliced(
    [1, 2, 3, 4],
    () => {
      clock += 1;
      done++;
      if (done === 2) stop.abort(new Error('stopped'));
    },
    slicer,
  );
  await t.rejects(run, /stopped/);
  t.equal(done, 2, 'nothing after the abort');
});

import fc from 'fast-check';
import t from 'tap';
import { DEFAULT_HEALTH_TIMING, type HealthTiming } from '../../../src/config/index.js';
import { type CheckState, INITIAL_CHECK_STATE, stepCheck } from '../../../src/health/state.js';

const ok = { ok: true, detail: 'connected' };
const bad = { ok: false, detail: 'connect refused' };
const run = (results: boolean[], timing: HealthTiming = DEFAULT_HEALTH_TIMING): CheckState[] => {
  const states: CheckState[] = [];
  let s = INITIAL_CHECK_STATE;
  for (const r of results) states.push((s = stepCheck(s, r ? ok : bad, timing)));
  return states;
};
const verdicts = (results: boolean[], timing?: HealthTiming) =>
  run(results, timing)
    .map((s) => (s.passing ? 'P' : 'F'))
    .join('');

t.test('rise and fall (defaults 2 and 2)', async (t) => {
  const cases: Array<[string, boolean[], string]> = [
    ['first result counts at once (pass)', [true], 'P'],
    ['first result counts at once (fail)', [false], 'F'],
    ['one failure is not enough', [true, false, true], 'PPP'],
    ['two failures in a row fail', [true, false, false, true], 'PPFF'],
    ['two passes in a row rise', [false, true, true], 'FFP'],
    ['a failure resets the rise streak', [false, true, false, true, true], 'FFFFP'],
    ['alternating never changes the verdict', [true, false, true, false, true, false], 'PPPPPP'],
  ];
  for (const [name, results, want] of cases) t.equal(verdicts(results), want, name);
});

t.test('the failing detail is the last failure, kept while failing, cleared on rise', async (t) => {
  const states = run([false, true, true]);
  t.equal(states[0]?.detail, 'connect refused');
  t.equal(states[1]?.detail, 'connect refused', 'still failing: the reason stays');
  t.equal(states[2]?.detail, '');
  const timing = { ...DEFAULT_HEALTH_TIMING, fall: 3 };
  const s = run([true, false, false], timing);
  t.equal(s[2]?.passing, true);
});

t.test('property: verdict changes are at least min(fall, rise) results apart', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { maxLength: 200 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      (results, fall, rise) => {
        const timing = { ...DEFAULT_HEALTH_TIMING, fall, rise };
        const states = run(results, timing);
        let last = -1;
        for (let i = 1; i < states.length; i++) {
          if (states[i]?.passing === states[i - 1]?.passing) continue;
          const needed = states[i]?.passing ? rise : fall;
          if (last >= 0 && i - last < needed) return false;
          // The change is backed by `needed` results in a row that agree with it.
          for (let k = i - needed + 1; k <= i; k++) if (results[k] !== states[i]?.passing) return false;
          last = i;
        }
        return true;
      },
    ),
  );
  t.pass('held');
});

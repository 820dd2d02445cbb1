import t from 'tap';
import { boundedMemo } from '../../../src/util/memo.js';

t.test(
  'a bounded memo computes each key once, undefined results included, and forgets past its bound',
  async (t) => {
    const computed: string[] = [];
    const lengthOrNothing = boundedMemo(2, (key) => {
      computed.push(key);
      return key === 'none' ? undefined : key.length;
    });
    t.equal(lengthOrNothing('abc'), 3);
    t.equal(lengthOrNothing('abc'), 3);
    t.equal(lengthOrNothing('none'), undefined);
    t.equal(lengthOrNothing('none'), undefined);
    t.same(computed, ['abc', 'none'], 'each key once');
    lengthOrNothing('x');
    t.equal(lengthOrNothing('abc'), 3);
    t.same(computed, ['abc', 'none', 'x', 'abc'], 'full: everything forgotten, then kept again');
  },
);

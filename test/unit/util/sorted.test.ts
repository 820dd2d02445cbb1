import t from 'tap';
import { lowerBound } from '../../../src/util/sorted.js';

t.test('lowerBound: where a value goes in an ascending list', async (t) => {
  t.equal(lowerBound([], 5), 0, 'empty');
  t.equal(lowerBound([10, 20, 30], 5), 0, 'before all');
  t.equal(lowerBound([10, 20, 30], 20), 1, 'an equal item: before it');
  t.equal(lowerBound([10, 20, 20, 30], 25), 3, 'between');
  t.equal(lowerBound([10, 20, 30], 35), 3, 'after all');
  t.equal(lowerBound(['a/x', 'b/y', 'c/z'], 'b/a'), 1, 'strings compare by code unit');
});

import t from 'tap';
import {
  parsePossibleCpus,
  perCpuSlot,
  replicatePerCpu,
  splitPerCpu,
  sumU64Fields,
} from '../../../src/datapath/percpu.js';

t.test('parsePossibleCpus counts up to the highest possible CPU id', async (t) => {
  t.equal(parsePossibleCpus('0\n'), 1);
  t.equal(parsePossibleCpus('0-1\n'), 2);
  t.equal(parsePossibleCpus('0-3,8-11'), 12);
  t.equal(parsePossibleCpus('0,2'), 3);
  t.throws(() => parsePossibleCpus(''), /empty/);
  t.throws(() => parsePossibleCpus('a-b'), /malformed/);
  t.throws(() => parsePossibleCpus('3-1'), /malformed/);
});

t.test('per-CPU slots are 8-byte aligned', async (t) => {
  t.equal(perCpuSlot(4), 8);
  t.equal(perCpuSlot(8), 8);
  t.equal(perCpuSlot(12), 16);
});

t.test('split and replicate are inverse and respect padding', async (t) => {
  const value = Buffer.from([1, 2, 3, 4]);
  const raw = replicatePerCpu(value, 3);
  t.equal(raw.length, 24);
  t.same([...raw.subarray(8, 16)], [1, 2, 3, 4, 0, 0, 0, 0]);
  const parts = splitPerCpu(raw, 4, 3);
  t.equal(parts.length, 3);
  for (const p of parts) t.same([...p], [1, 2, 3, 4]);
  t.throws(() => splitPerCpu(raw, 4, 2), /expected 2 CPUs/);
});

t.test('sumU64Fields sums each u64 field over CPUs, beyond 2^53', async (t) => {
  const a = Buffer.alloc(16);
  const b = Buffer.alloc(16);
  a.writeBigUInt64LE(2n ** 60n, 0);
  b.writeBigUInt64LE(5n, 0);
  a.writeBigUInt64LE(7n, 8);
  b.writeBigUInt64LE(11n, 8);
  t.same(sumU64Fields([a, b]), [2n ** 60n + 5n, 18n]);
  t.same(sumU64Fields([]), []);
});

import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { BpfError, BpfMap, BpfObject, numPossibleCpus, unpinDir } from '../../src/datapath/bpf.js';
import { datapathNative } from '../../src/datapath/native.js';
import { nativeBuildDir } from '../../src/util/paths.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['bpftool'] });
const fixture = join(nativeBuildDir(), 'test_fixtures.bpf.o');
const bad = join(nativeBuildDir(), 'test_bad.bpf.o');
const pinDir = `/sys/fs/bpf/hrl-h1-maps-${process.pid}`;

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};
const hex = (pairs: Array<[Buffer, Buffer]>): string[] =>
  pairs.map(([k, v]) => `${k.toString('hex')}=${v.toString('hex')}`).sort();

t.test('addon maps, pinning, test runs and errors', async (t) => {
  t.teardown(() => unpinDir(pinDir));

  t.test('load with pinning pins only non-internal maps; values survive a reload', async (t) => {
    const first = BpfObject.load(fixture, { pinDir });
    t.teardown(() => first.close());
    for (const name of ['fx_hash', 'fx_percpu', 'fx_lru'])
      t.ok(existsSync(join(pinDir, name)), `${name} pinned`);
    const bss = first.maps().find((m) => m.name.endsWith('.bss'));
    t.ok(bss, 'object has an internal .bss map');
    t.notOk(existsSync(join(pinDir, bss?.name ?? '.bss')), 'internal map not pinned');
    const hash = first.map('fx_hash');
    t.match(hash, { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 64, perCpu: false });
    hash.update(u32(7), u64(77n));
    const firstId = hash.id;
    first.close();
    t.throws(() => hash.lookup(u32(7)), /closed/, 'maps of a closed object refuse work');

    const second = BpfObject.load(fixture, { pinDir });
    t.teardown(() => second.close());
    t.equal(second.map('fx_hash').id, firstId, 'the pinned map was reused, not recreated');
    t.same(second.map('fx_hash').lookup(u32(7)), u64(77n), 'value persisted through the pin');

    const pinned = BpfMap.openPinned(join(pinDir, 'fx_hash'));
    t.teardown(() => pinned.close());
    t.equal(pinned.id, firstId);
    t.equal(pinned.name, 'fx_hash');
    t.same(pinned.lookup(u32(7)), u64(77n), 'openPinned sees the same map');
    pinned.close();
    t.throws(() => pinned.lookup(u32(7)), /closed/);
  });

  t.test('CRUD, update flags and errors with errno', async (t) => {
    const obj = BpfObject.load(fixture);
    t.teardown(() => obj.close());
    const hash = obj.map('fx_hash');
    t.equal(hash.lookup(u32(1)), undefined);
    hash.update(u32(1), u64(10n), 'noexist');
    t.same(hash.lookup(u32(1)), u64(10n));
    const exists = t.throws(() => hash.update(u32(1), u64(11n), 'noexist')) as BpfError;
    t.ok(exists instanceof BpfError);
    t.match(exists, { code: 'EEXIST', errno: 17, op: 'bpf_map_update_elem' });
    t.match(exists.message, /map fx_hash/);
    const missing = t.throws(() => hash.update(u32(2), u64(1n), 'exist')) as BpfError;
    t.match(missing, { code: 'ENOENT', errno: 2 });
    hash.update(u32(1), u64(12n), 'exist');
    t.same(hash.lookup(u32(1)), u64(12n));
    t.equal(hash.delete(u32(1)), true);
    t.equal(hash.delete(u32(1)), false);
    const size = t.throws(() => hash.update(u32(1), Buffer.alloc(4))) as BpfError;
    t.match(size, { code: 'EINVAL' });
    t.match(size.message, /value is 4 bytes, the map needs 8/);
    t.throws(() => hash.lookup(Buffer.alloc(2)), /key is 2 bytes/);
  });

  t.test('iteration and batch dump agree (hash, LRU, per-CPU array)', async (t) => {
    const obj = BpfObject.load(fixture);
    t.teardown(() => obj.close());
    const hash = obj.map('fx_hash');
    for (let i = 0; i < 50; i++) hash.update(u32(i * 3), u64(BigInt(i) << 40n));
    const batch = hash.batchEntries();
    t.ok(batch, 'batch lookup supported for hash maps');
    t.equal(batch?.length, 50);
    t.same(hex(batch ?? []), hex(hash.iterEntries()));
    t.same(hex(hash.entries()), hex(hash.iterEntries()));
    t.same(hex(hash.batchEntries(7) ?? []), hex(hash.iterEntries()), 'a dump over many small batches agrees');
    t.same(
      hex(hash.batchEntries(1) ?? []),
      hex(hash.iterEntries()),
      'one-entry batches grow past full buckets',
    );
    t.equal(hash.keys().length, 50);

    const lru = obj.map('fx_lru');
    for (let i = 0; i < 40; i++) lru.update(u32(i), u64(BigInt(i)));
    const lruEntries = lru.entries();
    t.ok(
      lruEntries.length > 0 && lruEntries.length <= 16,
      `LRU holds at most max_entries (${lruEntries.length})`,
    );
    t.same(hex(lruEntries), hex(lru.iterEntries()));

    const percpu = obj.map('fx_percpu');
    t.same(hex(percpu.entries()), hex(percpu.iterEntries()));
    t.equal(percpu.entries().length, 4);
  });

  t.test('batch update and delete (hash and per-CPU)', async (t) => {
    const obj = BpfObject.load(fixture);
    t.teardown(() => obj.close());
    const hash = obj.map('fx_hash');
    hash.updateMany([1, 2, 3].map((i) => [u32(i), u64(BigInt(i * 10))] as const));
    t.same(hex(hash.entries()), hex([1, 2, 3].map((i) => [u32(i), u64(BigInt(i * 10))])), 'three written');
    t.match(
      t.throws(() => hash.updateMany([[u32(2), u64(0n)]], 'noexist')),
      { code: 'EEXIST' },
      'flags apply to every entry',
    );
    t.equal(hash.deleteMany([u32(1), u32(3), u32(9)]), 2, 'absent keys are skipped');
    t.same(hex(hash.entries()), hex([[u32(2), u64(20n)]]));
    t.throws(() => hash.updateMany([[u32(1), Buffer.alloc(3)]]), /values is 3 bytes/);
    const percpu = obj.map('fx_percpu');
    percpu.updateMany([[u32(0), Buffer.concat([u64(5n), u64(7n)])]]);
    const cpus = BigInt(numPossibleCpus());
    t.same(percpu.lookupPerCpuSum(u32(0)), [5n * cpus, 7n * cpus], 'replicated to every CPU');
  });

  t.test('per-CPU values: one slot per possible CPU, summed field-wise', async (t) => {
    const obj = BpfObject.load(fixture);
    t.teardown(() => obj.close());
    const cpus = numPossibleCpus();
    t.ok(cpus >= 1);
    const percpu = obj.map('fx_percpu');
    t.equal(percpu.perCpu, true);
    const raw = Buffer.alloc(16 * cpus);
    for (let cpu = 0; cpu < cpus; cpu++) {
      raw.writeBigUInt64LE(BigInt(cpu + 1), cpu * 16);
      raw.writeBigUInt64LE(1000n * BigInt(cpu + 1), cpu * 16 + 8);
    }
    percpu.update(u32(2), raw);
    const values = percpu.lookupPerCpu(u32(2));
    t.equal(values?.length, cpus);
    t.equal(values?.[cpus - 1]?.readBigUInt64LE(0), BigInt(cpus));
    const n = BigInt(cpus);
    t.same(percpu.lookupPerCpuSum(u32(2)), [(n * (n + 1n)) / 2n, (1000n * n * (n + 1n)) / 2n]);
    percpu.update(u32(3), Buffer.concat([u64(5n), u64(6n)]));
    t.same(percpu.lookupPerCpuSum(u32(3)), [5n * n, 6n * n], 'a single value is written to every CPU');
    t.equal(percpu.lookupPerCpu(u32(9)), undefined, 'out-of-range array index is absent');
    t.throws(() => obj.map('fx_hash').lookupPerCpu(u32(1)), /not a per-CPU map/);
  });

  t.test('testRun returns verdict, output frame and duration; the program updates maps', async (t) => {
    const obj = BpfObject.load(fixture);
    t.teardown(() => obj.close());
    const prog = obj.program('fx_xdp');
    t.ok(prog.id > 0);
    t.ok(prog.fd >= 0);
    const frame = Buffer.alloc(64, 0xab);
    frame[0] = 0xff;
    const tx = prog.testRun(frame);
    t.equal(tx.retval, 3, 'XDP_TX for a first byte of 0xff');
    t.same(tx.data, frame, 'frame comes back unchanged');
    t.type(tx.durationNs, 'number');
    const pass = prog.testRun(Buffer.alloc(60, 1), { repeat: 10 });
    t.equal(pass.retval, 2, 'XDP_PASS otherwise');
    t.equal(obj.program('fx_drop').testRun(frame).retval, 1);
    const sums = obj.map('fx_percpu').lookupPerCpuSum(u32(0));
    t.same(sums, [11n, 64n + 600n], 'per-CPU counter summed over CPUs');
    t.throws(
      () => obj.program('nope'),
      /has no program nope \(programs: fx_xdp, fx_pass, fx_drop, fx_aborted\)/,
    );
    t.throws(() => obj.map('nope'), /has no map nope/);
  });

  t.test('a verifier rejection surfaces the verifier log in the error', async (t) => {
    const err = t.throws(() => BpfObject.load(bad)) as BpfError;
    t.ok(err instanceof BpfError);
    t.equal(err.op, 'bpf_object__load');
    t.equal(err.code, 'EACCES');
    t.match(err.verifierLog ?? '', /invalid access to packet/);
    t.match(err.message, /test_bad\.bpf\.o/);
  });

  t.test("an incompatible existing pin fails the load with libbpf's reason", async (t) => {
    const dir = `${pinDir}-mismatch`;
    t.teardown(() => unpinDir(dir));
    execFileSync('mkdir', ['-p', dir]);
    execFileSync(
      'bpftool',
      ['map', 'create', join(dir, 'fx_hash'), 'type', 'hash', 'key', '4', 'value', '16'].concat([
        'entries',
        '64',
        'name',
        'fx_hash',
      ]),
    );
    const err = t.throws(() => BpfObject.load(fixture, { pinDir: dir })) as BpfError;
    t.match(err, { code: 'EINVAL', op: 'bpf_object__load', verifierLog: undefined });
    t.match(err.message, /couldn't reuse pinned map at '.*fx_hash': parameter mismatch/);
    t.match(err.libbpfLog ?? '', /error reusing pinned map/);
    t.notOk(existsSync(join(dir, 'fx_percpu')), 'a failed load unpins the maps it had pinned');
  });

  t.test('missing files and pins fail with ENOENT', async (t) => {
    t.match(
      t.throws(() => BpfObject.load('/nonexistent.bpf.o')),
      { code: 'ENOENT', op: 'bpf_object__open_file' },
    );
    t.match(
      t.throws(() => BpfMap.openPinned(join(pinDir, 'nope'))),
      { code: 'ENOENT', op: 'bpf_obj_get' },
    );
  });

  t.test('bad input to the raw addon is an exception, never a crash', async (t) => {
    const n = datapathNative();
    t.match(
      t.throws(() => n.mapLookup(-1, u32(0))),
      { code: 'EBADF' },
    );
    t.throws(() => n.mapLookup('x' as unknown as number, u32(0)), TypeError);
    t.throws(() => n.mapUpdate(0, u32(0), 'v' as unknown as Buffer, 0), /must be a Buffer/);
    t.throws(() => n.xdpAttach(-5, 0, 0, 0, -1), /unsigned 32-bit/);
    t.doesNotThrow(() => n.closeFd(-1), 'closing no fd is a no-op');
    t.throws(() => n.objectClose({} as never), /object handle/);
    const obj = BpfObject.load(fixture);
    t.teardown(() => obj.close());
    const prog = obj.program('fx_pass');
    t.match(
      t.throws(() => n.progTestRun(prog.fd, Buffer.alloc(64), 1, 2 ** 30)),
      { code: 'EINVAL' },
    );
    t.match(
      t.throws(() => prog.testRun(Buffer.alloc(10))),
      { code: 'EINVAL', op: 'bpf_prog_test_run_opts' },
    );
    t.match(
      t.throws(() => n.packetSend(1, Buffer.alloc(4))),
      { code: 'EINVAL' },
    );
    t.match(
      t.throws(() => n.packetSendBatch(-1, 1, [Buffer.alloc(64)], 0)),
      { code: 'EBADF' },
    );
    t.throws(() => n.packetSendBatch(-1, 1, ['x' as unknown as Buffer], 0), /must be a Buffer/);
    t.equal(n.packetSendBatch(-1, 1, [], 0), 0, 'nothing to send');
    t.match(
      t.throws(() => n.packetRecv(-1, 4)),
      { code: 'EBADF' },
    );
  });

  t.test('unpinDir removes every pin', async (t) => {
    const obj = BpfObject.load(fixture, { pinDir });
    obj.close();
    t.ok(existsSync(join(pinDir, 'fx_hash')));
    unpinDir(pinDir);
    t.notOk(existsSync(pinDir));
    unpinDir(pinDir);
  });
});

import t from 'tap';
import { BpfError, callNative } from '../../../src/datapath/errors.js';
import { formatMac, parseMac } from '../../../src/datapath/netdev.js';

t.test('callNative turns errno-carrying errors into BpfError with context', async (t) => {
  const raw = Object.assign(new Error('bpf_map_update_elem: File exists (EEXIST)'), {
    errno: 17,
    code: 'EEXIST',
    op: 'bpf_map_update_elem',
  });
  const err = t.throws(() =>
    callNative('map fx_hash', () => {
      throw raw;
    }),
  );
  t.ok(err instanceof BpfError);
  const e = err as BpfError;
  t.equal(e.errno, 17);
  t.equal(e.code, 'EEXIST');
  t.equal(e.op, 'bpf_map_update_elem');
  t.equal(e.verifierLog, undefined);
  t.match(e.message, /^map fx_hash: bpf_map_update_elem: File exists/);
});

t.test('callNative keeps the verifier log and passes other errors through', async (t) => {
  const raw = Object.assign(new Error('load failed'), {
    errno: 13,
    code: 'EACCES',
    op: 'x',
    verifierLog: 'R1 bad',
  });
  const e = t.throws(() =>
    callNative('', () => {
      throw raw;
    }),
  ) as BpfError;
  t.equal(e.verifierLog, 'R1 bad');
  t.equal(e.message, 'load failed');
  const plain = new TypeError('argument 0 (fd) must be a number');
  t.equal(
    t.throws(() =>
      callNative('x', () => {
        throw plain;
      }),
    ),
    plain,
  );
  t.equal(
    callNative('x', () => 5),
    5,
  );
});

t.test('MAC parse/format round-trip and rejects garbage', async (t) => {
  t.same([...parseMac('02:00:5e:10:00:0a')], [2, 0, 0x5e, 0x10, 0, 10]);
  t.equal(formatMac(parseMac('02-00-5E-10-00-0A')), '02:00:5e:10:00:0a');
  t.throws(() => parseMac('02:00:5e:10:00'), /malformed/);
  t.throws(() => parseMac('02:00:5e:10:00:zz'), /malformed/);
  t.throws(() => formatMac(Buffer.alloc(5)), /6 bytes/);
});

import t from 'tap';
import {
  attachAttempts,
  attachmentFromQuery,
  isOccupiedError,
  XDP_FLAGS_DRV_MODE,
  XDP_FLAGS_SKB_MODE,
  XDP_FLAGS_UPDATE_IF_NOEXIST,
} from '../../../src/datapath/xdp-policy.js';

const q = { attachMode: 0, progId: 0, drvProgId: 0, skbProgId: 0, hwProgId: 0 };

t.test('auto tries native then generic, never clobbering', async (t) => {
  t.same(attachAttempts('auto', undefined, undefined), [
    { mode: 'native', flags: XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, expectedProgId: 0 },
    { mode: 'generic', flags: XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, expectedProgId: 0 },
  ]);
  t.same(attachAttempts('generic', undefined, undefined), [
    { mode: 'generic', flags: XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, expectedProgId: 0 },
  ]);
});

t.test('replace uses the mode of the program being replaced, without NOEXIST', async (t) => {
  t.same(attachAttempts('auto', 42, { mode: 'generic', progId: 42 }), [
    { mode: 'generic', flags: XDP_FLAGS_SKB_MODE, expectedProgId: 42 },
  ]);
  t.same(attachAttempts('auto', 42, { mode: 'generic', progId: 7 }), [
    { mode: 'native', flags: XDP_FLAGS_DRV_MODE, expectedProgId: 42 },
  ]);
  t.same(attachAttempts('native', 42, { mode: 'generic', progId: 42 }), [
    { mode: 'native', flags: XDP_FLAGS_DRV_MODE, expectedProgId: 42 },
  ]);
});

t.test('query results map to a mode and program id', async (t) => {
  t.equal(attachmentFromQuery(q), undefined);
  t.same(attachmentFromQuery({ ...q, attachMode: 1, progId: 5, drvProgId: 5 }), {
    mode: 'native',
    progId: 5,
  });
  t.same(attachmentFromQuery({ ...q, attachMode: 2, progId: 6, skbProgId: 6 }), {
    mode: 'generic',
    progId: 6,
  });
  t.same(attachmentFromQuery({ ...q, attachMode: 3, progId: 9, hwProgId: 9 }), { mode: 'native', progId: 9 });
  t.same(attachmentFromQuery({ ...q, attachMode: 4, drvProgId: 3, hwProgId: 8 }), {
    mode: 'native',
    progId: 3,
  });
  t.same(attachmentFromQuery({ ...q, attachMode: 4, skbProgId: 4 }), { mode: 'generic', progId: 4 });
});

t.test('occupied errors stop the auto fallback', async (t) => {
  t.ok(isOccupiedError('EBUSY'));
  t.ok(isOccupiedError('EEXIST'));
  t.notOk(isOccupiedError('EOPNOTSUPP'));
  t.notOk(isOccupiedError('EINVAL'));
});

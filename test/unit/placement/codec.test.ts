import fc from 'fast-check';
import t from 'tap';
import { decodePlacement, encodePlacement, isPlacementMessage } from '../../../src/placement/codec.js';
import {
  EMPTY_PLACEMENT,
  isNewerPlacement,
  mayTakeOverPlacedVip,
  placementCoordinator,
} from '../../../src/placement/map.js';

t.test('placement maps round-trip through gossip frames', async (t) => {
  const map = {
    version: 7,
    coordinator: 'n2',
    entries: new Map([
      ['10.0.0.7', { node: 'n3', movedAtMs: 1_700_000_000_000 }],
      ['fd00::7', { node: 'n1', movedAtMs: 1_700_000_000_500 }],
    ]),
  };
  const buf = encodePlacement(map);
  t.ok(isPlacementMessage(buf));
  t.same(decodePlacement(buf), map);
  t.throws(() => decodePlacement(Buffer.from('HR\x01{}')), /missing "HP"/);
  t.throws(() => decodePlacement(Buffer.from('HP\x09{}')), /version 9 not supported/);
  t.throws(() => decodePlacement(Buffer.from('HP\x01{"v":1}')), /corrupt placement map/);
  t.throws(() => decodePlacement(Buffer.from('HP\x01{nope')), /corrupt placement map/);
});

t.test('a map too big for one packet keeps its newest moves', async (t) => {
  const entries = new Map(
    Array.from({ length: 200 }, (_, i) => [`10.0.${i >> 8}.${i & 255}`, { node: `node-${i}`, movedAtMs: i }]),
  );
  const buf = encodePlacement({ version: 1, coordinator: 'n1', entries }, 600);
  t.ok(buf.length <= 600);
  const back = decodePlacement(buf);
  t.ok(back.entries.size > 0 && back.entries.size < 200);
  t.ok(back.entries.has('10.0.0.199'), 'the newest move is kept');
  t.notOk(back.entries.has('10.0.0.0'), 'the oldest move is dropped');
});

t.test('property: decoding never throws anything but an Error on garbage', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const buf = Buffer.concat([Buffer.from('HP\x01'), Buffer.from(bytes)]);
      try {
        decodePlacement(buf);
      } catch (error) {
        return error instanceof Error;
      }
      return true;
    }),
  );
  t.pass();
});

t.test('version order, coordinator choice and handover gate', async (t) => {
  const a = { version: 3, coordinator: 'n1', entries: new Map() };
  const b = { version: 3, coordinator: 'n2', entries: new Map() };
  t.ok(isNewerPlacement({ ...a, version: 4 }, b));
  t.ok(isNewerPlacement(b, a), 'same version: the greater coordinator name wins everywhere');
  t.notOk(isNewerPlacement(a, b));
  t.notOk(isNewerPlacement(EMPTY_PLACEMENT, a));
  const c = placementCoordinator(['n1', 'n2', 'n3']);
  t.equal(c, placementCoordinator(['n3', 'n2', 'n1']), 'independent of order');
  const without = placementCoordinator(['n1', 'n2', 'n3'].filter((n) => n !== c));
  t.not(without, c, 'another node coordinates when it leaves');
  t.equal(placementCoordinator([]), undefined);
  const gate = { movedInVersion: 5, previousOwner: 'n1', previousOwnerAlive: true };
  t.notOk(mayTakeOverPlacedVip({ ...gate, previousOwnerAppliedVersion: 4 }), 'old owner may still answer');
  t.notOk(mayTakeOverPlacedVip({ ...gate, previousOwnerAppliedVersion: undefined }));
  t.ok(mayTakeOverPlacedVip({ ...gate, previousOwnerAppliedVersion: 5 }), 'old owner stopped');
  t.ok(mayTakeOverPlacedVip({ ...gate, previousOwnerAlive: false, previousOwnerAppliedVersion: 0 }));
});

import t from 'tap';
import type { Member, MemberState } from '../../../src/membership/types.js';
import { samplesPeriodically } from '../../../src/speaker/services.js';

const member = (name: string, state: MemberState): Member => ({
  name,
  address: '10.0.0.1',
  port: 7946,
  state,
  incarnation: 1,
  meta: Buffer.alloc(0),
});

t.test('traffic counters are read on a timer only while a peer can receive the rate reports', async (t) => {
  t.notOk(samplesPeriodically([], 'n1'), 'no members known');
  t.notOk(samplesPeriodically([member('n1', 'alive')], 'n1'), 'alone: only itself');
  t.notOk(
    samplesPeriodically([member('n1', 'alive'), member('n2', 'dead'), member('n3', 'left')], 'n1'),
    'the others dead or gone',
  );
  t.ok(samplesPeriodically([member('n1', 'alive'), member('n2', 'alive')], 'n1'), 'a peer alive');
  t.ok(samplesPeriodically([member('n1', 'alive'), member('n2', 'suspect')], 'n1'), 'a peer suspect');
});

import t from 'tap';
import { planHostAddresses, planSysctls } from '../../../src/host/plan.js';

const s = (...x: string[]) => new Set(x);

t.test('host address plan: adds what is wanted, removes only its own', async (t) => {
  const cases: Array<{
    name: string;
    want: Set<string>;
    present: Set<string>;
    ours: Set<string>;
    add: string[];
    remove: string[];
    after: string[];
  }> = [
    {
      name: 'fresh',
      want: s('10.0.0.200', 'fd00::200'),
      present: s(),
      ours: s(),
      add: ['10.0.0.200', 'fd00::200'],
      remove: [],
      after: ['10.0.0.200', 'fd00::200'],
    },
    {
      name: 'steady',
      want: s('10.0.0.200'),
      present: s('10.0.0.200'),
      ours: s('10.0.0.200'),
      add: [],
      remove: [],
      after: ['10.0.0.200'],
    },
    {
      name: 'stops serving',
      want: s(),
      present: s('10.0.0.200'),
      ours: s('10.0.0.200'),
      add: [],
      remove: ['10.0.0.200'],
      after: [],
    },
    {
      name: 'present before Herald: left alone, never adopted',
      want: s('10.0.0.200'),
      present: s('10.0.0.200'),
      ours: s(),
      add: [],
      remove: [],
      after: [],
    },
    {
      name: 'not ours and not wanted: left alone',
      want: s(),
      present: s('10.0.0.9'),
      ours: s(),
      add: [],
      remove: [],
      after: [],
    },
    {
      name: 'ours vanished (removed by hand): forgotten, re-added when wanted',
      want: s('10.0.0.200'),
      present: s(),
      ours: s('10.0.0.200'),
      add: ['10.0.0.200'],
      remove: [],
      after: ['10.0.0.200'],
    },
    {
      name: 'ours vanished and not wanted: forgotten',
      want: s(),
      present: s(),
      ours: s('10.0.0.201'),
      add: [],
      remove: [],
      after: [],
    },
  ];
  for (const c of cases) {
    const plan = planHostAddresses(c.want, c.present, c.ours);
    t.same(plan.add, c.add, `${c.name}: add`);
    t.same(plan.remove, c.remove, `${c.name}: remove`);
    t.same(plan.ours, c.after, `${c.name}: ours after`);
  }
});

t.test('sysctls are raised, never lowered', async (t) => {
  const cur = (ignore: string | undefined, announce: string | undefined) =>
    new Map([
      ['net/ipv4/conf/all/arp_ignore', ignore],
      ['net/ipv4/conf/all/arp_announce', announce],
    ]);
  t.same(planSysctls(cur('0', '0')), [
    ['net/ipv4/conf/all/arp_ignore', '1'],
    ['net/ipv4/conf/all/arp_announce', '2'],
  ]);
  t.same(planSysctls(cur('2', '2')), [], 'a stricter arp_ignore stays');
  t.same(planSysctls(cur(undefined, '2')), [['net/ipv4/conf/all/arp_ignore', '1']]);
});

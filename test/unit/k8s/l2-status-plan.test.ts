import t from 'tap';
import { type Announcement, l2StatusName, planL2Status } from '../../../src/k8s/l2-status-plan.js';

const web: Announcement = {
  serviceNamespace: 'default',
  serviceName: 'web',
  ips: ['10.0.0.200'],
  interfaces: ['eth0'],
  mode: 'owner',
  reason: 'first of 3 eligible nodes',
};
const api: Announcement = { ...web, serviceName: 'api', ips: ['10.0.0.201'] };

t.test(
  'new announcements are created, changed ones patched, unchanged left, gone ones deleted',
  async (t) => {
    const first = planL2Status('n1', [web, api], new Map());
    t.same(
      first.writes.map((w) => [w.name, w.create]),
      [
        [l2StatusName('default', 'web', 'n1'), true],
        [l2StatusName('default', 'api', 'n1'), true],
      ],
    );
    t.same(first.deletes, []);
    t.same(first.writes[0]?.status.interfaces, [{ name: 'eth0' }]);
    const written = new Map(first.writes.map((w) => [w.name, w.text]));
    t.same(planL2Status('n1', [web, api], written), { writes: [], deletes: [] }, 'nothing changed: no call');
    const moved = planL2Status('n1', [{ ...web, mode: 'spread', reason: 'spread' }], written);
    t.same(
      moved.writes.map((w) => [w.name, w.create]),
      [[l2StatusName('default', 'web', 'n1'), false]],
      'a change is a patch without an Event',
    );
    t.same(moved.deletes, [l2StatusName('default', 'api', 'n1')]);
  },
);

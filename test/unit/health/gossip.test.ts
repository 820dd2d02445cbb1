import t from 'tap';
import { ALL_FAILING, encodeFailing, unhealthyNodes } from '../../../src/health/gossip.js';

t.test('failing services fit the budget: reasons cut, then dropped, then one entry', async (t) => {
  const failing = new Map([
    ['default/web', 'connect refused'],
    ['default/api', 'x'.repeat(100)],
  ]);
  t.same(encodeFailing(failing, 512), { 'default/api': 'x'.repeat(40), 'default/web': 'connect refused' });
  t.same(encodeFailing(failing, 40), { 'default/api': '', 'default/web': '' });
  t.same(encodeFailing(failing, 34), { [ALL_FAILING]: '' });
  t.same(encodeFailing(failing, 34 + 31), { 'default/api': '', 'default/web': '' });
  t.same(encodeFailing(new Map([['a/b'.repeat(20), 'x']]), 50), {
    [ALL_FAILING]: 'too many failing checks to list',
  });
  t.same(encodeFailing(failing, 60), { 'default/api': '', 'default/web': '' });
  t.same(encodeFailing(new Map(), 10), {});
});

t.test('unhealthy nodes of a VIP', async (t) => {
  const gossip = new Map<string, Record<string, string>>([
    ['n1', {}],
    ['n2', { 'default/web': 'connect refused' }],
    ['n3', { [ALL_FAILING]: '' }],
    ['n4', { 'default/api': 'HTTP 503' }],
  ]);
  const checked = new Set(['default/web', 'default/api']);
  t.same(
    [...unhealthyNodes(['default/web'], checked, gossip)],
    [
      ['n2', 'connect refused'],
      ['n3', 'failing'],
    ],
  );
  t.same(
    [...unhealthyNodes(['default/api', 'default/web'], checked, gossip)],
    [
      ['n2', 'default/web: connect refused'],
      ['n3', 'failing'],
      ['n4', 'default/api: HTTP 503'],
    ],
    'shared IP: a node failing any of the services is out',
  );
  t.same([...unhealthyNodes(['default/db'], checked, gossip)], [], 'a service without a check');
});

import t from 'tap';
import { clientShares, problemStatement, renderLabReport } from '../../../src/lab/report.js';
import type { LabReport } from '../../../src/lab/scenario.js';

const clients = ['c1', 'c2', 'c3', 'c4'];
const report: LabReport = {
  nodes: ['n1', 'n2', 'n3'],
  clients,
  vips: [
    { service: 'lab/web', ip: '10.77.0.200', mode: 'single', answering: { n2: 1 } },
    {
      service: 'lab/spread-web',
      ip: '10.77.0.240',
      mode: 'spread',
      answering: { n1: 0.5, n2: 0.25, n3: 0.25 },
    },
  ],
  traffic: [
    ...clients.map((client) => ({ ip: '10.77.0.200', client, nodes: { n2: 5 }, failed: 0 })),
    { ip: '10.77.0.240', client: 'c1', nodes: { n1: 5 }, failed: 0 },
    { ip: '10.77.0.240', client: 'c2', nodes: { n1: 5 }, failed: 0 },
    { ip: '10.77.0.240', client: 'c3', nodes: { n3: 4, n1: 1 }, failed: 0 },
    { ip: '10.77.0.240', client: 'c4', nodes: { n1: 5 }, failed: 0 },
  ],
  counters: [],
  vipsAfterFailover: [],
  bgp: [],
  status: { node: 'n1', socket: '/tmp/n1.sock', text: 'IP  SERVICES\n10.77.0.200  lab/web\n' },
};

t.test('clients per node come from the requests, not from the bucket shares', async (t) => {
  const spread = clientShares(report.traffic, '10.77.0.240');
  t.same(
    spread.get('n1'),
    { clients: 3, requests: 16 },
    'three clients landed on n1 (it holds half the buckets)',
  );
  t.same(
    spread.get('n3'),
    { clients: 1, requests: 4 },
    'a client counts for the node that answered most of it',
  );
  t.notOk(spread.has('n2'), 'n2 holds a quarter of the buckets but no client fell in them');
});

t.test(
  'the report says the problem in words, with the run numbers, and shows herald status once',
  async (t) => {
    const lines = problemStatement(report);
    t.match(lines[0], /one answering node per VIP, that one node takes all of its traffic/);
    t.match(
      lines[1],
      /lab\/web 10\.77\.0\.200: n2 answered 4 of 4 clients, 20 of 20 requests; n1, n3 carried none of it/,
    );
    t.match(
      lines[2],
      /lab\/spread-web 10\.77\.0\.240: n1 3 clients \(16 requests\), n2 0 clients \(0 requests\), n3 1 client \(4 requests\)/,
    );
    const text = renderLabReport(report);
    t.match(text, /n1 32\/64 buckets, n2 16\/64 buckets, n3 16\/64 buckets/, 'buckets named as buckets');
    t.notMatch(text, /of clients/, 'no bucket share passed off as a client share');
    t.equal(text.split('herald status --socket /tmp/n1.sock').length, 2, 'herald status shown once');
    t.match(text, /10\.77\.0\.200 {2}lab\/web/);
  },
);

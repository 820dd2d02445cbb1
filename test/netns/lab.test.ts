import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import t from 'tap';
import { namespacePrefix } from '../../src/lab/netns.js';
import { renderLabReport } from '../../src/lab/report.js';
import { runLab } from '../../src/lab/scenario.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['bird', 'nsenter', 'ip'] });

t.test('herald lab runs end to end and leaves nothing behind', async (t) => {
  const steps: string[] = [];
  const report = await runLab({
    nodes: 3,
    clients: 3,
    requestsPerClient: 5,
    xdpMode: 'generic',
    tag: 'labt',
    progress: (s) => steps.push(s),
  });
  t.ok(steps.length >= 5, 'progress reported');
  t.same(report.nodes, ['n1', 'n2', 'n3']);
  const l2 = report.vips.filter((v) => v.mode !== 'bgp');
  t.ok(l2.length >= 5, 'plain, dual-stack, Local and spread VIPs');
  for (const v of l2.filter((x) => x.mode === 'single')) {
    t.equal(Object.keys(v.answering).length, 1, `${v.ip} has exactly one owner`);
  }
  const spread = report.vips.find((v) => v.mode === 'spread');
  t.equal(Object.keys(spread?.answering ?? {}).length, 3, 'the spread VIP is answered by all three nodes');
  t.equal(
    report.traffic.reduce((a, r) => a + r.failed, 0),
    0,
    'every HTTP request before the failover was answered',
  );
  t.ok(
    report.counters.some((c) => c.rxPackets > 0),
    'XDP counted VIP traffic',
  );
  t.ok(report.failover?.failoverMs !== undefined, `failover measured: ${report.failover?.failoverMs} ms`);
  t.not(report.failover?.newOwner, report.failover?.killed, 'a different node answers after the kill');
  const bgp = report.bgp[0];
  t.equal(bgp?.nexthopsBefore.length, 3, 'the router had 3 ECMP nexthops');
  t.equal(bgp?.nexthopsAfter.length, 2, 'and 2 after the node died');
  const text = renderLabReport(report);
  t.comment(text);
  t.match(text, /Failover: killed n\d/);
  t.match(text, /The problem: with one answering node per VIP, that one node takes all of its traffic/);
  t.match(
    text,
    /lab\/web 10\.77\.0\.\d+: n\d answered 3 of 3 clients, 15 of 15 requests/,
    'single: one node took it all',
  );
  t.match(
    text,
    /herald status --socket \S+ {3}\(on n1\)\nnode n1: LB utilization[^\n]*\nVIP +SERVICES/,
    "one node's herald status",
  );
  const left = execFileSync('ip', ['netns', 'list']).toString();
  const labPrefix = `${namespacePrefix()}labt-`;
  t.notOk(left.includes(labPrefix), 'all lab namespaces removed');
  t.notOk(
    readdirSync('/sys/fs/bpf').some((d) => d.startsWith(labPrefix)),
    'speaker --cleanup removed every pinned map',
  );
});

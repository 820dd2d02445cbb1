import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { LabCluster, type LabNode } from '../../src/lab/cluster.js';
import { readDataplane } from '../../src/lab/observe.js';
import { projectRoot } from '../../src/util/paths.js';
import { pollUntil } from '../../src/util/wait.js';
import { answering } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['nsenter', 'ip', 'curl', 'setpriv'] });

const INTERVAL_MS = 1000;
const FALL = 2;

// The plain-host example exactly as a user copies it (docs/plain-hosts.md): a pool on the LAN
// 192.168.50.0/24, an L2Advertisement, one Service with a health check and no EndpointSlice.
const EXAMPLE = join(projectRoot(), 'examples', 'plain-hosts.yaml');
const config = readFileSync(EXAMPLE, 'utf8');
const VIP = /herald\.dev\/loadBalancerIPs: (\S+)/.exec(config)?.[1] ?? '';

// The speakers run as root with only the capabilities examples/herald.service leaves them.
const unit = readFileSync(join(projectRoot(), 'examples', 'herald.service'), 'utf8');
const caps = (/^CapabilityBoundingSet=(.*)$/m.exec(unit)?.[1] ?? '').split(/\s+/).filter(Boolean);
const bounding = ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');

/** A web server on 0.0.0.0:80 in the node's namespace answering with the node's name. */
function startWeb(cluster: LabCluster, node: LabNode): ChildProcess {
  const script = `require('http').createServer((q, s) => { s.setHeader('connection', 'close'); s.end('${node.name}\\n'); }).listen(80, '0.0.0.0')`;
  return cluster.lan.spawn(node.ns, process.execPath, ['-e', script], { stdio: 'ignore' });
}

t.test(
  'plain hosts: a VIP answers with nothing set by hand, moves on a failed check, comes back on rise',
  async (t) => {
    // Speaker flags are the defaults except what puts two speakers on one machine (names, pins, sockets).
    t.equal(VIP, '192.168.50.240', 'the VIP of examples/plain-hosts.yaml');
    t.same(
      caps,
      ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_PERFMON', 'CAP_SYS_NICE'],
      "the unit's capabilities",
    );
    const cluster = await LabCluster.create({
      tag: 'up',
      nodes: 2,
      clients: 1,
      config,
      vips: [VIP],
      net4: '192.168.50',
      speakerWrapper: ['setpriv', `--bounding-set=${bounding}`, '--inh-caps=-all', '--'],
    });
    t.teardown(async () => {
      if (!t.passing())
        for (const n of cluster.nodes)
          t.comment(`${n.name}:\n${readFileSync(n.logFile, 'utf8').slice(-3000)}`);
      await cluster.destroy();
    });
    const client = cluster.clients[0];
    if (!client) throw new Error('no client');
    const webs = new Map(cluster.nodes.map((n) => [n.name, startWeb(cluster, n)]));
    await cluster.startAll();

    const ask = async (): Promise<string> => {
      const r = await cluster.lan.run(client.ns, 'curl', ['-s', '-m', '0.5', `http://${VIP}/`], 5000);
      return r.code === 0 ? r.stdout.trim() : '';
    };
    const first = await pollUntil(60_000, async () => (await ask()) !== '', 100);
    t.ok(first !== undefined, `the client's HTTP request to ${VIP} is answered (${first} ms after start)`);
    // The owner is the rendezvous owner once both speakers joined: a node alone answers until the other
    // comes (the first answer may be that one's), so both gates open and one answering node first.
    const joined = await pollUntil(
      30_000,
      () => cluster.nodes.every((n) => readDataplane(n).gateOpen) && answering(cluster, VIP).size === 1,
      100,
    );
    t.ok(joined !== undefined, 'both speakers joined, one node answers');
    const owner = [...answering(cluster, VIP).keys()][0] ?? '';
    const reached = await pollUntil(5000, async () => (await ask()) === owner, 100);
    t.ok(reached !== undefined, `answered by ${owner}, the node that answers ARP for ${VIP}`);
    // nsenter, env and setpriv exec one another: the spawned pid is the speaker's
    const pid = cluster.nodes[0]?.speaker?.pid;
    const capEff = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^CapEff:\s*(\S+)$/m)?.[1];
    t.equal(
      capEff,
      '000000c000803000',
      'the speaker ran with CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW, CAP_PERFMON, CAP_SYS_NICE only',
    );
    t.match(
      readFileSync(cluster.nodes[0]?.logFile ?? '', 'utf8'),
      /pulse thread priority raised/,
      'with CAP_SYS_NICE the pulse thread runs at nice -10',
    );
    const other = owner === 'n1' ? 'n2' : 'n1';
    const ownerNode = cluster.nodes.find((n) => n.name === owner) as LabNode;
    t.match(
      (await cluster.lan.run(ownerNode.ns, 'ip', ['-o', 'address', 'show', 'dev', 'lo'])).stdout,
      new RegExp(`${VIP.replaceAll('.', '\\.')}/32`),
      'the owner holds the VIP on lo',
    );
    t.equal(
      (await cluster.lan.run(ownerNode.ns, 'sysctl', ['-n', 'net.ipv4.conf.all.arp_ignore'])).stdout.trim(),
      '1',
      'and keeps its kernel silent for it',
    );

    webs.get(owner)?.kill('SIGKILL');
    const moved = await pollUntil(20_000, async () => (await ask()) === other, 100);
    const bound = INTERVAL_MS * FALL + 1000;
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    t.ok(
      moved !== undefined,
      `answered by ${other} ${moved} ms after ${owner}'s server died (issue bound ${bound} ms; load ${load})`,
    );
    t.ok(
      moved !== undefined && moved <= bound + 2000,
      'within the bound, with 2 s of slack for a loaded machine',
    );
    const status = await cluster.lan.run(
      ownerNode.ns,
      process.execPath,
      [
        join(projectRoot(), 'dist', 'src', 'cli', 'main.js'),
        'status',
        'vips',
        '--json',
        '--socket',
        ownerNode.apiSocket,
      ],
      10_000,
    );
    t.match(
      status.stdout,
      new RegExp(`health check failed on ${owner}: connect refused`),
      'herald status says why',
    );
    t.notMatch(
      (await cluster.lan.run(ownerNode.ns, 'ip', ['-o', 'address', 'show', 'dev', 'lo'])).stdout,
      new RegExp(`${VIP.replaceAll('.', '\\.')}/`),
      'the old owner no longer holds the VIP',
    );

    webs.set(owner, startWeb(cluster, ownerNode));
    const back = await pollUntil(20_000, async () => (await ask()) === owner, 100);
    t.ok(
      back !== undefined,
      `after rise the VIP is back on ${owner} (rendezvous order), ${back} ms after restart (load ${load})`,
    );
  },
);

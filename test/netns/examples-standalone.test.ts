import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { LabCluster } from '../../src/lab/cluster.js';
import { labAllocations } from '../../src/lab/scenario.js';
import { projectRoot } from '../../src/util/paths.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { arping, ndisc, waitUntil } from '../helpers/probes.js';

requirePrerequisites({ root: true, commands: ['arping', 'ndisc6', 'nsenter', 'ip'] });

// examples/standalone.yaml as a user copies it: LAN 192.168.50.0/24 on eth0, nodes node-a and node-b.
const config = readFileSync(join(projectRoot(), 'examples', 'standalone.yaml'), 'utf8');

t.test('examples/standalone.yaml, started on two nodes in namespaces: every VIP is answered', async (t) => {
  const allocations = labAllocations(config);
  const vips = [...new Set([...allocations.values()].flat())].sort();
  t.ok(vips.length >= 4, `the example allocates ${vips.join(', ')}`);
  const cluster = await LabCluster.create({
    tag: 'exs',
    nodes: 2,
    clients: 1,
    config,
    vips,
    net4: '192.168.50',
    xdpMode: 'auto',
  });
  const webs: ChildProcess[] = [];
  t.teardown(async () => {
    if (!t.passing())
      for (const n of cluster.nodes) t.comment(`${n.name}:\n${readFileSync(n.logFile, 'utf8').slice(-3000)}`);
    for (const w of webs) w.kill('SIGKILL');
    await cluster.destroy();
  });
  // shop/web's health check (http:80/healthz) passes on both nodes.
  const healthz = `require('http').createServer((q, s) => s.end('ok')).listen(80, '0.0.0.0')`;
  for (const node of cluster.nodes)
    webs.push(cluster.lan.spawn(node.ns, process.execPath, ['-e', healthz], { stdio: 'ignore' }));
  // The example's Node objects and EndpointSlice name node-a and node-b.
  cluster.nodes.forEach((node, i) => cluster.startSpeaker(node, { name: i === 0 ? 'node-a' : 'node-b' }));
  const client = cluster.clients[0];
  if (!client) throw new Error('no client');

  const answered = async (ip: string): Promise<boolean> =>
    ip.includes(':')
      ? (await ndisc(cluster.lan, client.ns, ip, 1)).length > 0
      : (await arping(cluster.lan, client.ns, ip, { count: 1 })).received > 0;
  for (const ip of vips) {
    const ms = await waitUntil(`${ip} answered`, 60_000, () => answered(ip), 200).catch(() => undefined);
    const services = [...allocations].filter(([, ips]) => ips.includes(ip)).map(([s]) => s);
    t.ok(
      ms !== undefined,
      `${ip} (${services.join(', ')}) answered${ms !== undefined ? ` after ${ms} ms` : ''}`,
    );
  }
});

import t from 'tap';
import { requirePrerequisites } from '../helpers/prereq.js';
import { BgpLab, ROUTER4, ROUTER6, speaker4, speaker6, waitFor } from './bgp-fixture.js';

requirePrerequisites({ root: true, commands: ['gobgpd', 'gobgp', 'ip', 'nsenter'] });

interface GobgpPath {
  nlri: { prefix: string };
  attrs: Array<{
    type: number;
    as_paths?: Array<{ asns: number[] }>;
    communities?: number[];
    value?: Array<{ ASN: number; LocalData1: number; LocalData2: number }>;
    nexthop?: string;
  }>;
}

t.test('GoBGP peer: 4-octet ASNs on both sides, communities in its RIB, IPv6, collision', async (t) => {
  const lab = await BgpLab.create('h5g', 2);
  t.teardown(() => lab.destroy());
  const neighbor = (addr: string, family: string) => `
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${addr}"
    peer-as = 4200000001
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${family}"
`;
  const conf = lab.file(
    'gobgpd.toml',
    `[global.config]
  as = 4200000000
  router-id = "${ROUTER4}"
  port = 179
  local-address-list = ["${ROUTER4}", "${ROUTER6}"]
${neighbor(speaker4(1), 'ipv4-unicast')}${neighbor(speaker6(1), 'ipv6-unicast')}${neighbor(speaker4(2), 'ipv4-unicast')}`,
  );
  const daemon = lab.lan.spawn(lab.router, 'gobgpd', [
    '-f',
    conf,
    '-t',
    'toml',
    '--api-hosts',
    '127.0.0.1:50051',
    '--pprof-disable',
    '-p',
  ]);
  const log: string[] = [];
  daemon.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  daemon.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const gobgp = async (...args: string[]) =>
    (await lab.lan.exec(lab.router, 'gobgp', ['-u', '127.0.0.1', '-p', '50051', ...args])).stdout;
  await waitFor('gobgpd API', async () => (await gobgp('global')).includes('4200000000'));

  const args = (i: number) => [
    '--asn',
    '4200000001',
    '--peer-asn',
    '4200000000',
    '--router-id',
    speaker4(i),
    '--prefix',
    '10.97.0.1',
    '--prefix',
    '10.97.1.0/24',
    '--prefix',
    'fd00:97::1',
    '--community',
    '64513:100',
    '--community',
    '65535:65281',
    '--community',
    'large:4200000001:7:8',
    '--med',
    '50',
  ];
  // Speaker 1 both dials and listens: GoBGP dials too, so connection collisions get resolved for real.
  const s1 = lab.startSpeaker(1, [...args(1), '--peer', ROUTER4, '--peer', ROUTER6, '--listen', '179']);
  lab.startSpeaker(2, [...args(2), '--peer', ROUTER4]);

  await waitFor('3 sessions established at GoBGP', async () => {
    const out = await gobgp('neighbor');
    return (out.match(/Establ/g) ?? []).length === 3 || undefined;
  });
  t.pass('GoBGP shows 3 Established sessions (2 speakers, IPv4 + IPv6)');
  const rib = await waitFor('routes in the GoBGP RIB', async () => {
    const r = JSON.parse(await gobgp('global', 'rib', '-a', 'ipv4', '-j')) as Record<string, GobgpPath[]>;
    return (r['10.97.0.1/32']?.length ?? 0) === 2 && (r['10.97.1.0/24']?.length ?? 0) === 2 ? r : undefined;
  });
  const path = rib['10.97.0.1/32']![0]!;
  const asPath = path.attrs.find((a) => a.type === 2);
  t.same(asPath?.as_paths?.[0]?.asns, [4200000001], '4-octet AS in AS_PATH');
  t.same(path.attrs.find((a) => a.type === 8)?.communities, [64513 * 65536 + 100, 65535 * 65536 + 65281]);
  const large = path.attrs.find((a) => a.type === 32)?.value?.[0];
  t.same(large, { ASN: 4200000001, LocalData1: 7, LocalData2: 8 }, 'large community in the GoBGP RIB');
  t.ok(
    path.attrs.some((a) => a.type === 4),
    'MED present',
  );
  const nhs = rib['10.97.0.1/32']!.map((p) => p.attrs.find((a) => a.type === 3)?.nexthop).sort();
  t.same(nhs, [speaker4(1), speaker4(2)], 'next hop self on each path');
  const rib6 = await waitFor('IPv6 route in GoBGP', async () => {
    const r = JSON.parse(await gobgp('global', 'rib', '-a', 'ipv6', '-j')) as Record<string, GobgpPath[]>;
    return r['fd00:97::1/128'] ? r : undefined;
  });
  t.ok(rib6['fd00:97::1/128']?.length === 1, 'IPv6 prefix learned over the IPv6 session');
  const summary = await gobgp('neighbor', speaker4(1));
  t.match(summary, /4-octet-as:\s+advertised and received/, '4-octet AS capability negotiated');
  t.match(summary, /route-refresh:\s+advertised and received/);
  // Route refresh from GoBGP: we answer with the full Adj-RIB-Out.
  await gobgp('neighbor', speaker4(1), 'softresetin');
  await new Promise((r) => setTimeout(r, 500));
  const after = JSON.parse(await gobgp('global', 'rib', '-a', 'ipv4', '-j')) as Record<string, GobgpPath[]>;
  t.equal(after['10.97.0.1/32']?.length, 2, 'routes intact after a route refresh');
  // Inbound routes: GoBGP announces one to us; it is counted, never installed, and nothing breaks.
  await gobgp('global', 'rib', 'add', '198.18.0.0/24', '-a', 'ipv4');
  await waitFor(
    'the inbound route counted by speaker 1',
    () => s1.lines.some((l) => l.peer === ROUTER4 && Number(l.prefixesReceived) >= 1) || undefined,
  );
  t.equal(await lab.lan.ip(s1.ns, 'route', 'show', '198.18.0.0/24'), '', 'inbound route not installed');
  t.match(
    await gobgp('neighbor'),
    new RegExp(`${speaker4(1).replace(/\./g, '\\.')}.*Establ`),
    'session still up',
  );
});

import t from 'tap';
import { requirePrerequisites } from '../helpers/prereq.js';
import { BgpLab, birdTorConfig, ROUTER4, ROUTER6, speaker4, waitFor } from './bgp-fixture.js';

requirePrerequisites({ root: true, commands: ['bird', 'birdc', 'ip', 'nsenter'] });

t.test('BIRD 2 as ToR: ECMP over 3 Herald speakers, IPv4 and IPv6, communities', async (t) => {
  const lab = await BgpLab.create('h5b', 3);
  t.teardown(() => lab.destroy());
  const birdc = await lab.startBird(birdTorConfig({ bfd: true }));
  const speakers = [1, 2, 3].map((i) =>
    lab.startSpeaker(i, [
      '--asn',
      '64513',
      '--peer-asn',
      '64512',
      '--router-id',
      speaker4(i),
      '--peer',
      ROUTER4,
      '--peer',
      ROUTER6,
      '--prefix',
      '10.99.0.1',
      '--prefix',
      'fd00:99::1',
      '--community',
      '64513:100',
      '--community',
      'large:64513:1:2',
      '--bfd',
      '300:300:3',
    ]),
  );
  await waitFor(
    '3 IPv4 nexthops at the router',
    async () => (await lab.nexthops('10.99.0.1')) === 3 || undefined,
  );
  t.pass('kernel route 10.99.0.1 has 3 nexthops');
  await waitFor(
    '3 IPv6 nexthops at the router',
    async () => (await lab.nexthops('fd00:99::1')) === 3 || undefined,
  );
  t.pass('kernel route fd00:99::1 has 3 nexthops');
  const detail = await birdc('show', 'route', '10.99.0.1/32', 'all');
  t.match(detail, /BGP\.community: \(64513,100\)/, 'community visible in BIRD');
  t.match(detail, /BGP\.large_community: \(64513, 1, 2\)/, 'large community visible in BIRD');
  await waitFor('3 IPv4 BFD sessions Up in BIRD', async () => {
    const out = await birdc('show', 'bfd', 'sessions');
    return (out.match(/10\.250\.0\.\d+\s+br0\s+Up/g) ?? []).length === 3 || undefined;
  });
  t.pass('BFD with BIRD: 3 sessions Up');
  t.match(detail, /BGP\.as_path: 64513/);
  const v6 = await birdc('show', 'route', 'fd00:99::1/128', 'all');
  t.match(v6, /BGP\.next_hop: fd00:250::11 fe80:/, 'IPv6 next hop global + link-local');

  speakers[0]!.child.kill('SIGKILL');
  await waitFor(
    '2 IPv4 nexthops after killing a speaker',
    async () => (await lab.nexthops('10.99.0.1')) === 2 || undefined,
  );
  await waitFor(
    '2 IPv6 nexthops after killing a speaker',
    async () => (await lab.nexthops('fd00:99::1')) === 2 || undefined,
  );
  t.pass('killed speaker withdrawn: 2 nexthops left');

  speakers[1]!.child.kill('SIGTERM');
  await waitFor(
    '1 nexthop after a clean stop',
    async () => (await lab.nexthops('10.99.0.1')) === 1 || undefined,
  );
  t.pass('cleanly stopped speaker withdrawn: 1 nexthop left');
});

t.test('BIRD 2 with TCP MD5: active and passive Herald sessions, a wrong key gets nowhere', async (t) => {
  const lab = await BgpLab.create('h5m', 3);
  t.teardown(() => lab.destroy());
  const birdc = await lab.startBird(
    birdTorConfig({
      password: 'herald-md5',
      extra: `protocol bgp to_s2 {
  local ${ROUTER4} as 64512; neighbor ${speaker4(2)} as 64513; password "herald-md5";
  hold time 9; keepalive time 3; connect retry time 1; connect delay time 1;
  ipv4 { import all; export none; };
}`,
    }),
  );
  const common = ['--asn', '64513', '--peer-asn', '64512', '--prefix', '10.98.0.1'];
  lab.startSpeaker(1, [...common, '--router-id', speaker4(1), '--peer', ROUTER4, '--password', 'herald-md5']);
  const passive = lab.startSpeaker(2, [
    ...common,
    '--router-id',
    speaker4(2),
    '--peer',
    ROUTER4,
    '--password',
    'herald-md5',
    '--listen',
    '179',
    '--passive',
  ]);
  lab.startSpeaker(3, [...common, '--router-id', speaker4(3), '--peer', ROUTER4, '--password', 'wrong-key']);
  await waitFor(
    '2 nexthops (active + passive MD5 sessions)',
    async () => (await lab.nexthops('10.98.0.1')) === 2 || undefined,
  );
  const protocols = await birdc('show', 'protocols');
  t.match(protocols, /to_s2\s+BGP\s+---\s+up/, 'BIRD connected to the passive Herald speaker');
  t.match(protocols, /spk4_1\s+BGP\s+---\s+up/, 'the active Herald speaker connected to BIRD');
  t.ok(
    passive.lines.some((l) => l.event === 'established'),
    'passive speaker reports Established',
  );
  await new Promise((r) => setTimeout(r, 2000));
  t.equal(await lab.nexthops('10.98.0.1'), 2, 'the speaker with the wrong key never got a session');
  const seen = (
    await lab.lan.exec(lab.router, 'nstat', ['-az', 'TcpExtTCPMD5Unexpected', 'TcpExtTCPMD5Failure'])
  ).stdout;
  t.match(seen, /TcpExtTCPMD5Failure\s+[1-9]/, 'the kernel rejected segments with a bad MD5 signature');
});

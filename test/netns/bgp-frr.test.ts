import { chownSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { requirePrerequisites } from '../helpers/prereq.js';
import { BgpLab, ROUTER4, speaker4, waitFor } from './bgp-fixture.js';

requirePrerequisites({
  root: true,
  commands: ['vtysh', 'ip', 'nsenter', '/usr/lib/frr/bgpd'],
});

const FRR_CONF = `frr defaults datacenter
hostname tor
!
bfd
 profile fast
  transmit-interval 300
  receive-interval 300
  detect-multiplier 3
 exit
exit
!
router bgp 64512
 bgp router-id ${ROUTER4}
 no bgp ebgp-requires-policy
 bgp bestpath as-path multipath-relax
 neighbor SPK peer-group
 neighbor SPK remote-as external
 neighbor SPK timers 3 9
 neighbor BFDSPK peer-group
 neighbor BFDSPK remote-as external
 neighbor BFDSPK timers 3 9
 neighbor BFDSPK bfd
 neighbor BFDSPK bfd profile fast
 bgp listen range 10.250.0.11/32 peer-group BFDSPK
 bgp listen range 10.250.0.12/32 peer-group BFDSPK
 bgp listen range 10.250.0.13/32 peer-group SPK
 address-family ipv4 unicast
  maximum-paths 16
 exit-address-family
exit
`;

t.test(
  'FRR 8 ToR: BFD tears down a frozen speaker, BFD down resets our side, graceful restart keeps routes',
  async (t) => {
    // s1, s2 peer with BFD (10.250.0.11-12); s3 (10.250.0.13) runs graceful restart without BFD.
    const started = Date.now();
    const lab = await BgpLab.create('h5f', 3);
    t.teardown(() => lab.destroy());
    const dir = lab.dir;
    chownSync(dir, Number(execId('frr', 'u')), Number(execId('frr', 'g')));
    for (const d of ['zebra', 'bfdd', 'bgpd']) {
      await lab.lan.exec(lab.router, `/usr/lib/frr/${d}`, [
        '-d',
        '-u',
        'frr',
        '-g',
        'frr',
        '--vty_socket',
        dir,
        '-z',
        join(dir, 'zserv.api'),
        '-i',
        join(dir, `${d}.pid`),
        ...(d === 'bfdd' ? ['--bfdctl', join(dir, 'bfdd.sock')] : []),
      ]);
    }
    const conf = lab.file('frr.conf', FRR_CONF);
    const vtysh = async (...cmds: string[]) =>
      (await lab.lan.exec(lab.router, 'vtysh', ['--vty_socket', dir, ...cmds.flatMap((c) => ['-c', c])]))
        .stdout;
    t.comment(`phase (line 73) reached: ${Date.now() - started} ms`);
    await waitFor('bgpd to accept config', async () => {
      await lab.lan.exec(lab.router, 'vtysh', ['--vty_socket', dir, '-f', conf]);
      return (await vtysh('show running-config')).includes('BFDSPK') || undefined;
    });

    const bfdArgs = (i: number) => [
      '--asn',
      `6452${i}`,
      '--router-id',
      speaker4(i),
      '--peer',
      ROUTER4,
      '--peer-asn',
      '64512',
      '--prefix',
      '10.96.0.1',
      '--bfd',
      '300:300:3',
    ];
    const s1 = lab.startSpeaker(1, bfdArgs(1));
    const s2 = lab.startSpeaker(2, bfdArgs(2));
    try {
      t.comment(`phase (line 95) reached: ${Date.now() - started} ms`);
      await waitFor(
        '2 nexthops via zebra',
        async () => (await lab.nexthops('10.96.0.1')) === 2 || undefined,
        20000,
      );
    } catch (e) {
      const diag = await lab.lan.run(lab.router, 'vtysh', [
        '--vty_socket',
        dir,
        '-c',
        'show bgp summary',
        '-c',
        'show bfd peers brief',
        '-c',
        'show ip route',
      ]);
      t.comment(diag.stdout, diag.stderr, s1.stderr.join(''), s2.stderr.join(''));
      throw e;
    }
    t.comment(
      `phase (line 114) reached: ${Date.now() - started} ms`,
      JSON.stringify(s1.lines.map((l) => [l.event, l.state, l.bfd, Number(l.time) - started])),
    );
    await waitFor(
      '2 BFD peers up at FRR',
      async () => ((await vtysh('show bfd peers brief')).match(/\bup\b/g) ?? []).length === 2 || undefined,
    );
    t.pass('BGP + BFD up with both speakers, ECMP route installed by zebra');
    t.comment(`phase (line 119) reached: ${Date.now() - started} ms`);
    await waitFor(
      'our side reports BFD up',
      () => s1.lines.some((l) => l.event === 'session' && l.bfd === 'up') || undefined,
    );

    // Freeze s1: its TCP stays open (no FIN), so only BFD can tell FRR it is gone (hold time is 9 s).
    const frozeAt = Date.now();
    s1.child.kill('SIGSTOP');
    t.comment(`phase (line 127) reached: ${Date.now() - started} ms`);
    await waitFor(
      'FRR to withdraw the frozen speaker',
      async () => (await lab.nexthops('10.96.0.1')) === 1 || undefined,
      8000,
    );
    const withdrawMs = Date.now() - frozeAt;
    t.ok(
      withdrawMs < 3000,
      `withdrawn at the router ${withdrawMs} ms after the freeze (BFD 300 ms × 3; hold 9 s)`,
    );
    s1.child.kill('SIGKILL');

    // BFD down seen by us: freeze FRR's bfdd, our BFD expires and we reset BGP with Cease/BFD Down.
    const bfddPid = Number(readFileSync(join(dir, 'bfdd.pid'), 'utf8').trim());
    process.kill(bfddPid, 'SIGSTOP');
    try {
      t.comment(`phase (line 143) reached: ${Date.now() - started} ms`);
      await waitFor(
        'our session to go down on BFD',
        () => s2.lines.some((l) => l.event === 'down' && /6\/10/.test(String(l.reason))) || undefined,
        5000,
      );
      t.pass('BFD down → our BGP session reset with NOTIFICATION Cease/10 (BFD Down)');
    } finally {
      process.kill(bfddPid, 'SIGCONT');
    }

    // Graceful restart: s3 stops without NOTIFICATION and comes back with the R bit; FRR keeps the route.
    const grArgs = [
      '--asn',
      '64533',
      '--router-id',
      speaker4(3),
      '--peer',
      ROUTER4,
      '--peer-asn',
      '64512',
      '--prefix',
      '10.96.1.1',
      '--graceful-restart',
    ];
    const s3 = lab.startSpeaker(3, grArgs);
    t.comment(`phase (line 168) reached: ${Date.now() - started} ms`);
    await waitFor(
      'GR speaker route',
      async () => (await lab.nexthops('10.96.1.1')) === 1 || undefined,
      15000,
    );
    const gr = await vtysh(`show bgp neighbors ${speaker4(3)}`);
    t.match(
      gr,
      /Graceful Restart Capability: advertised and received/,
      `FRR sees our graceful restart capability`,
    );
    let missingSamples = 0;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples++;
        if ((await lab.nexthops('10.96.1.1')) === 0) missingSamples++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    s3.child.kill('SIGUSR2');
    await new Promise<void>((resolve) => s3.child.once('exit', () => resolve()));
    await new Promise((r) => setTimeout(r, 1000));
    const stale = await vtysh('show bgp ipv4 unicast 10.96.1.1/32');
    t.match(stale, /stale/i, 'FRR marks the path stale while we are away');
    const s3b = lab.startSpeaker(3, [...grArgs, '--restarting']);
    t.comment(`phase (line 195) reached: ${Date.now() - started} ms`);
    await waitFor(
      'restarted speaker re-established',
      () => s3b.lines.some((l) => l.event === 'established') || undefined,
      15000,
    );
    t.comment(`phase (line 200) reached: ${Date.now() - started} ms`);
    await waitFor(
      'path no longer stale after End-of-RIB',
      async () => !/stale/i.test(await vtysh('show bgp ipv4 unicast 10.96.1.1/32')) || undefined,
      5000,
    );
    sampling = false;
    await sampler;
    t.equal(missingSamples, 0, `route present in all ${samples} samples taken across the restart`);
  },
);

function execId(user: string, what: 'u' | 'g'): string {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user}`);
  const parts = line.split(':');
  return (what === 'u' ? parts[2] : parts[3]) ?? '0';
}

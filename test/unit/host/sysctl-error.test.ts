import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { HostVips } from '../../../src/host/vips.js';

t.test('a sysctl that cannot be written is a clear error naming it and the ways out', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'herald-sysctl-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  // A directory where the file should be: reading gives nothing, writing fails (like a read-only /proc/sys).
  mkdirSync(join(root, 'net/ipv4/conf/all/arp_ignore'), { recursive: true });
  const host = new HostVips({ interface: 'lo', statePath: join(root, 'state.json'), sysctlRoot: root });
  t.throws(() => host.prepare(), {
    message:
      /cannot set net\.ipv4\.conf\.all\.arp_ignore=1 for the VIPs held on lo .*sysctl -w .*--no-host-vips/,
  });
});

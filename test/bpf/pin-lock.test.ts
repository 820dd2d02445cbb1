import { execFileSync, spawn } from 'node:child_process';
import t from 'tap';
import { unpinDir } from '../../src/datapath/bpf.js';
import { PinDirLock } from '../../src/datapath/pin-lock.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true });

t.test('one holder per pin directory; released on release() and on process death', async (t) => {
  const dir = `/sys/fs/bpf/hrl-${process.env.HERALD_NS_PREFIX ?? ''}lock-${process.pid}`;
  t.teardown(() => unpinDir(dir));
  const first = PinDirLock.acquire(dir);
  t.throws(() => PinDirLock.acquire(dir), /another speaker holds/, 'a second holder is refused');
  first.release();
  const second = PinDirLock.acquire(dir);
  second.release();
  // A process that dies while holding it leaves no stale lock.
  const script = `import('${new URL('../../src/datapath/pin-lock.js', import.meta.url).href}').then((m) => { m.PinDirLock.acquire(${JSON.stringify(dir)}); process.exit(0); })`;
  execFileSync(process.execPath, ['-e', script]);
  const third = PinDirLock.acquire(dir);
  third.release();
  // Nor does one killed with SIGKILL while it holds it (no exit handler runs): the kernel drops the flock.
  const holder = spawn(
    process.execPath,
    [
      '-e',
      `import('${new URL('../../src/datapath/pin-lock.js', import.meta.url).href}').then((m) => { m.PinDirLock.acquire(${JSON.stringify(dir)}); console.log('held'); setInterval(() => undefined, 1000); })`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => holder.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`the holder exited (${code}) before holding the lock`)));
  });
  t.throws(() => PinDirLock.acquire(dir), /another speaker holds/, 'held by the live process');
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  holder.kill('SIGKILL');
  await exited;
  const fourth = PinDirLock.acquire(dir);
  fourth.release();
});

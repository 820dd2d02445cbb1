import { mkdirSync } from 'node:fs';
import { BpfError, callNative } from './errors.js';
import { datapathNative } from './native.js';

/**
 * One speaker per pin directory: an exclusive flock on the directory, held for the life of the process
 * (the kernel releases it when the process dies, so a crash leaves nothing stale). A second speaker that
 * would share the pinned maps fails here, before it binds, attaches or writes anything.
 */
export class PinDirLock {
  private constructor(
    readonly dir: string,
    private fd: number | undefined,
  ) {}

  static acquire(dir: string): PinDirLock {
    mkdirSync(dir, { recursive: true });
    try {
      return new PinDirLock(
        dir,
        callNative(dir, () => datapathNative().lockExclusive(dir)),
      );
    } catch (error) {
      if (error instanceof BpfError && (error.code === 'EWOULDBLOCK' || error.code === 'EAGAIN')) {
        throw new Error(
          `another speaker holds ${dir} (its pinned XDP maps); stop it first, or give this one its own --pin-dir`,
        );
      }
      throw error;
    }
  }

  release(): void {
    if (this.fd === undefined) return;
    datapathNative().closeFd(this.fd);
    this.fd = undefined;
  }
}

import { XdpResponder } from '../datapath/responder.js';
import { PROGRAM_NAME } from '../datapath/xdp-layout.js';
import { detachXdp, openPinnedProgram, queryXdp } from '../datapath/xdp.js';
import { HostVips } from '../host/vips.js';
import { localInterfaces } from './local-interfaces.js';

/**
 * Uninstall (`herald speaker --cleanup`): detaches Herald's XDP program from the interfaces (every one with
 * an address when none is named) and removes the pinned maps. Foreign XDP programs are left alone.
 * Returns what it did, one line each.
 */
export function uninstallDatapath(interfaces: readonly string[], pinDir: string): string[] {
  const done: string[] = [];
  const names = interfaces.length > 0 ? interfaces : localInterfaces().map((i) => i.name);
  // The pinned program identifies Herald's attachments without CAP_SYS_ADMIN (cleanup from the image).
  const pinned = openPinnedProgram(pinDir);
  try {
    for (const name of names) {
      const current = queryXdp(name, pinned ? [pinned] : []);
      if (current?.progName === PROGRAM_NAME) {
        detachXdp(name, current.mode);
        done.push(`detached ${PROGRAM_NAME} from ${name}`);
      }
    }
  } finally {
    pinned?.close();
  }
  XdpResponder.cleanup(pinDir);
  done.push(`removed pinned maps under ${pinDir}`);
  return done;
}

/**
 * Removes the VIP addresses the speaker added to `vipInterface` (recorded in the state file); addresses
 * it did not add stay. Returns the line to print, or undefined when there was nothing to remove.
 */
export async function uninstallHostVips(
  vipInterface: string,
  statePath: string,
): Promise<string | undefined> {
  const { removed } = await new HostVips({ interface: vipInterface, statePath }).cleanup();
  return removed.length > 0 ? `removed VIPs from ${vipInterface}: ${removed.join(' ')}` : undefined;
}

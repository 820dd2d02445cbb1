import type { BpfProgram } from './bpf.js';
import { BpfError, callNative } from './errors.js';
import { datapathNative } from './native.js';
import { interfaceIndex } from './netdev.js';
import {
  attachAttempts,
  attachmentFromQuery,
  isOccupiedError,
  modeFlag,
  type XdpMode,
} from './xdp-policy.js';

export type { XdpMode } from './xdp-policy.js';

export interface XdpQueryResult {
  mode: XdpMode;
  progId: number;
  /** Kernel program name (truncated to 15 characters by the kernel). */
  progName: string;
}

/** The XDP program attached to `ifname` (in this network namespace), or undefined. */
export function queryXdp(ifname: string): XdpQueryResult | undefined {
  const ifindex = interfaceIndex(ifname);
  return queryIndex(ifname, ifindex);
}

function queryIndex(ifname: string, ifindex: number): XdpQueryResult | undefined {
  const where = `interface ${ifname}`;
  const attachment = attachmentFromQuery(callNative(where, () => datapathNative().xdpQuery(ifindex)));
  if (attachment === undefined) return undefined;
  const info = callNative(where, () => datapathNative().progInfoById(attachment.progId));
  return { ...attachment, progName: info?.name ?? '' };
}

/**
 * Attaches `prog` as the XDP program of `ifname` and returns the mode used. 'auto' (default) tries
 * native, then generic. A program already attached is never clobbered: that is a BpfError with code
 * 'EBUSY' naming it. With `replaceProgId` the kernel swaps exactly that program atomically (EEXIST when
 * a different one is attached).
 */
export function attachXdp(
  ifname: string,
  prog: BpfProgram,
  opts: { mode?: XdpMode | 'auto'; replaceProgId?: number } = {},
): XdpMode {
  const mode = opts.mode ?? 'auto';
  const ifindex = interfaceIndex(ifname);
  const where = `interface ${ifname}`;
  const current = queryIndex(ifname, ifindex);
  if (opts.replaceProgId === undefined && current !== undefined) {
    throw new BpfError(
      `${where}: XDP program ${current.progId} (${current.progName}) is already attached in ${current.mode} mode; ` +
        'refusing to replace it without replaceProgId',
      { errno: 16, code: 'EBUSY', op: 'bpf_xdp_attach' },
    );
  }
  const attempts = attachAttempts(mode, opts.replaceProgId, current);
  let lastError: unknown;
  for (const attempt of attempts) {
    try {
      callNative(`${where} (${attempt.mode})`, () =>
        datapathNative().xdpAttach(ifindex, prog.fd, attempt.flags, attempt.expectedProgId),
      );
      return attempt.mode;
    } catch (error) {
      lastError = error;
      if (error instanceof BpfError && isOccupiedError(error.code)) {
        if (attempt.expectedProgId === 0 || error.code !== 'EEXIST') throw error;
        const attached = current
          ? `program ${current.progId} (${current.progName}) in ${current.mode} mode`
          : 'none';
        throw new BpfError(
          `${error.message}; expected program ${attempt.expectedProgId}, attached: ${attached}`,
          error,
        );
      }
    }
  }
  throw lastError;
}

/**
 * Detaches the XDP program of `ifname`. Without `mode` the attached mode is asked first (a detach with
 * the wrong mode flag silently detaches nothing). With `progId`, only that program is detached (EEXIST
 * otherwise). Returns false when nothing was attached.
 */
export function detachXdp(ifname: string, mode?: XdpMode, opts: { progId?: number } = {}): boolean {
  const ifindex = interfaceIndex(ifname);
  let detachMode = mode;
  if (detachMode === undefined) {
    const current = queryIndex(ifname, ifindex);
    if (current === undefined) return false;
    detachMode = current.mode;
  }
  const flags = modeFlag(detachMode);
  callNative(`interface ${ifname} (${detachMode})`, () =>
    datapathNative().xdpDetach(ifindex, flags, opts.progId ?? 0),
  );
  return true;
}

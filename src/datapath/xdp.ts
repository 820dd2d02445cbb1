import { rmSync } from 'node:fs';
import { join } from 'node:path';
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

/** A program the caller already holds (loaded, or opened from its pin): recognized without a lookup. */
export interface KnownProgram {
  id: number;
  name: string;
  fd: number;
}

/** Where a speaker pins the program it attached, beside its maps. */
export const PROGRAM_PIN_NAME = 'herald_prog';

/**
 * The XDP program attached to `ifname` (in this network namespace), or undefined. Its name comes from
 * `known` when it is one of them; else from the kernel by id, which needs CAP_SYS_ADMIN: without it
 * (a speaker in a pod) an unknown program's name is '' and it is treated as foreign.
 */
export function queryXdp(ifname: string, known: readonly KnownProgram[] = []): XdpQueryResult | undefined {
  const ifindex = interfaceIndex(ifname);
  return queryIndex(ifname, ifindex, known);
}

function queryIndex(
  ifname: string,
  ifindex: number,
  known: readonly KnownProgram[] = [],
): XdpQueryResult | undefined {
  const where = `interface ${ifname}`;
  const attachment = attachmentFromQuery(callNative(where, () => datapathNative().xdpQuery(ifindex)));
  if (attachment === undefined) return undefined;
  const held = known.find((p) => p.id === attachment.progId);
  if (held) return { ...attachment, progName: held.name };
  try {
    const info = callNative(where, () => datapathNative().progInfoById(attachment.progId));
    return { ...attachment, progName: info?.name ?? '' };
  } catch (error) {
    if (error instanceof BpfError && error.code === 'EPERM') return { ...attachment, progName: '' };
    throw error;
  }
}

/** The program pinned under `pinDir` by the speaker that attached it (close it when done), if any. */
export function openPinnedProgram(pinDir: string): (KnownProgram & { close(): void }) | undefined {
  const path = join(pinDir, PROGRAM_PIN_NAME);
  const raw = callNative(path, () => datapathNative().progOpenPinned(path));
  if (raw === undefined) return undefined;
  return { ...raw, close: () => datapathNative().closeFd(raw.fd) };
}

/** Pins `prog` under `pinDir`, replacing the pin of a previous speaker's program. */
export function pinProgram(prog: BpfProgram, pinDir: string): void {
  const path = join(pinDir, PROGRAM_PIN_NAME);
  rmSync(path, { force: true });
  callNative(path, () => datapathNative().progPin(prog.fd, path));
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
  opts: { mode?: XdpMode | 'auto'; replaceProgId?: number; known?: readonly KnownProgram[] } = {},
): XdpMode {
  const mode = opts.mode ?? 'auto';
  const ifindex = interfaceIndex(ifname);
  const where = `interface ${ifname}`;
  const known = opts.known ?? [];
  const current = queryIndex(ifname, ifindex, known);
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
        datapathNative().xdpAttach(
          ifindex,
          prog.fd,
          attempt.flags,
          attempt.expectedProgId,
          known.find((p) => p.id === attempt.expectedProgId)?.fd ?? -1,
        ),
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

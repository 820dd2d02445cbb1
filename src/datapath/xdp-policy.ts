/**
 * Pure XDP attach policy: which netlink flags to try, in which order, and how to read a query result.
 * xdp.ts executes it against the kernel.
 */

export type XdpMode = 'native' | 'generic';

export const XDP_FLAGS_UPDATE_IF_NOEXIST = 1;
export const XDP_FLAGS_SKB_MODE = 2;
export const XDP_FLAGS_DRV_MODE = 4;
export const XDP_FLAGS_HW_MODE = 8;

const XDP_ATTACHED_DRV = 1;
const XDP_ATTACHED_SKB = 2;
const XDP_ATTACHED_HW = 3;
const XDP_ATTACHED_MULTI = 4;

export function modeFlag(mode: XdpMode): number {
  return mode === 'native' ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

export interface AttachAttempt {
  mode: XdpMode;
  flags: number;
  /** Program id the kernel must find attached and replace atomically (0: none, attach only if free). */
  expectedProgId: number;
}

/**
 * Attempts for an attach, in order. Without replaceProgId every attempt carries UPDATE_IF_NOEXIST so a
 * foreign program is never clobbered; 'auto' tries native, then generic. With replaceProgId the kernel
 * swaps exactly that program (in the mode it is attached in, unless a mode is forced).
 */
export function attachAttempts(
  mode: XdpMode | 'auto',
  replaceProgId: number | undefined,
  current: XdpAttachment | undefined,
): AttachAttempt[] {
  if (replaceProgId !== undefined && replaceProgId > 0) {
    const replaceMode: XdpMode =
      mode !== 'auto'
        ? mode
        : current !== undefined && current.progId === replaceProgId
          ? current.mode
          : 'native';
    return [{ mode: replaceMode, flags: modeFlag(replaceMode), expectedProgId: replaceProgId }];
  }
  const modes: XdpMode[] = mode === 'auto' ? ['native', 'generic'] : [mode];
  return modes.map((m) => ({ mode: m, flags: modeFlag(m) | XDP_FLAGS_UPDATE_IF_NOEXIST, expectedProgId: 0 }));
}

/** Errors after which 'auto' gives up instead of trying generic mode: a program is already there. */
export function isOccupiedError(code: string): boolean {
  return code === 'EBUSY' || code === 'EEXIST';
}

export interface XdpAttachment {
  mode: XdpMode;
  progId: number;
}

/** The attachment a bpf_xdp_query result describes (hardware offload reported as native). */
export function attachmentFromQuery(q: {
  attachMode: number;
  progId: number;
  drvProgId: number;
  skbProgId: number;
  hwProgId: number;
}): XdpAttachment | undefined {
  switch (q.attachMode) {
    case XDP_ATTACHED_DRV:
      return { mode: 'native', progId: q.progId || q.drvProgId };
    case XDP_ATTACHED_SKB:
      return { mode: 'generic', progId: q.progId || q.skbProgId };
    case XDP_ATTACHED_HW:
      return { mode: 'native', progId: q.progId || q.hwProgId };
    case XDP_ATTACHED_MULTI:
      if (q.drvProgId) return { mode: 'native', progId: q.drvProgId };
      if (q.skbProgId) return { mode: 'generic', progId: q.skbProgId };
      return q.hwProgId ? { mode: 'native', progId: q.hwProgId } : undefined;
    default:
      return undefined;
  }
}

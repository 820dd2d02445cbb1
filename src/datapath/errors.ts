/** Details the addon attaches to every kernel/libbpf failure. */
export interface BpfErrorDetails {
  errno: number;
  /** Symbolic errno, e.g. 'EBUSY', 'EEXIST', 'ENOTSUPP'. */
  code: string;
  /** The syscall or libbpf function that failed, e.g. 'bpf_xdp_attach'. */
  op: string;
  /** The kernel verifier's log when a program failed to load. */
  verifierLog?: string;
  /** Everything libbpf printed while opening/loading an object that failed. */
  libbpfLog?: string;
}

/** A failure reported by the kernel or libbpf, carrying errno, its symbolic code and the failing op. */
export class BpfError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly op: string;
  readonly verifierLog?: string;
  readonly libbpfLog?: string;

  constructor(message: string, details: BpfErrorDetails) {
    super(message);
    this.name = 'BpfError';
    this.errno = details.errno;
    this.code = details.code;
    this.op = details.op;
    if (details.verifierLog !== undefined) this.verifierLog = details.verifierLog;
    if (details.libbpfLog !== undefined) this.libbpfLog = details.libbpfLog;
  }
}

function isNativeErrno(error: unknown): error is Error & { errno: number; code: string; op: string } {
  if (!(error instanceof Error)) return false;
  const e = error as Error & Record<string, unknown>;
  return typeof e.errno === 'number' && typeof e.code === 'string' && typeof e.op === 'string';
}

/**
 * Runs an addon call and turns its errno-carrying errors into BpfError; `where` (an interface, a path)
 * is prefixed to the message so it says what failed and where.
 */
export function callNative<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (!isNativeErrno(error)) throw error;
    const { verifierLog, libbpfLog } = error as Error & { verifierLog?: unknown; libbpfLog?: unknown };
    throw new BpfError(where ? `${where}: ${error.message}` : error.message, {
      errno: error.errno,
      code: error.code,
      op: error.op,
      ...(typeof verifierLog === 'string' ? { verifierLog } : {}),
      ...(typeof libbpfLog === 'string' ? { libbpfLog } : {}),
    });
  }
}

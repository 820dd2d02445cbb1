/**
 * What a speaker needs from its host before it touches anything, as pure rules over gathered facts
 * (preflight.ts gathers them). Each failed rule is one line a person can act on.
 */

export const BPF_FS_MAGIC = 0xcafe4a11;

/** Linux capability numbers the speaker needs (CAP_SYS_ADMIN stands in for BPF and PERFMON). */
export const CAPS = { CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 };
const NEEDED = ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_PERFMON'] as const;

export interface HostFacts {
  /** Effective capability set (CapEff of /proc/self/status). */
  effectiveCaps: bigint;
  /** Nearest existing directory at or above the pin dir, and its filesystem magic. */
  pinBase: { dir: string; fsType: number };
  pinDir: string;
  /** --config given, or Kubernetes credentials found (kubeconfig or an in-cluster service account). */
  hasConfigSource: boolean;
  /** Interfaces named with --interface that do not exist in this network namespace. */
  missingInterfaces: string[];
  /** Every interface of this network namespace (to name the choices). */
  interfaces: string[];
}

/** Parses the hex CapEff line of /proc/self/status (0 when absent). */
export function parseCapEff(status: string): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m?.[1] ? BigInt(`0x${m[1]}`) : 0n;
}

export function missingCaps(eff: bigint): string[] {
  const has = (n: number) => (eff & (1n << BigInt(n))) !== 0n;
  const sysAdmin = has(CAPS.CAP_SYS_ADMIN);
  return NEEDED.filter((c) => !has(CAPS[c]) && !(sysAdmin && (c === 'CAP_BPF' || c === 'CAP_PERFMON')));
}

/** The first problem, as one line, or undefined when the host is fit to run a speaker. */
export function preflightProblem(f: HostFacts): string | undefined {
  if (!f.hasConfigSource) {
    return (
      'no --config and no Kubernetes credentials (no --kubeconfig, $KUBECONFIG, ~/.kube/config or ' +
      'in-cluster service account); give --config FILE for standalone mode'
    );
  }
  const caps = missingCaps(f.effectiveCaps);
  if (caps.length > 0) {
    return `needs root, or ${NEEDED.join(', ')} (missing: ${caps.join(', ')})`;
  }
  if (f.pinBase.fsType !== BPF_FS_MAGIC) {
    return (
      `${f.pinBase.dir} is not a bpffs (needed for --pin-dir ${f.pinDir}): mount one ` +
      '(mount -t bpf bpf /sys/fs/bpf) or pick a --pin-dir on one; ' +
      '`ip netns exec` remounts /sys without it, use `nsenter --net=/run/netns/NAME` instead'
    );
  }
  if (f.missingInterfaces.length > 0) {
    const s = f.missingInterfaces.length === 1 ? '' : 's';
    return (
      `interface${s} ${f.missingInterfaces.join(', ')} do${s ? '' : 'es'} not exist here ` +
      `(interfaces with an address: ${f.interfaces.join(', ') || 'none'})`
    );
  }
  return undefined;
}

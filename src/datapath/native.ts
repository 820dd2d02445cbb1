import { nativeView } from '../util/native-addon.js';

/** A map as the addon describes it (from a loaded object or a pinned path). */
export interface RawMapInfo {
  name: string;
  fd: number;
  /** Kernel map type number (`enum bpf_map_type`). */
  typeId: number;
  /** libbpf's name for the type, e.g. 'hash', 'percpu_array', 'lru_hash'. */
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** `.rodata`/`.data`/`.bss`/`.kconfig`: never pinned. */
  internal: boolean;
  id: number;
  pinPath?: string;
}

export interface RawProgInfo {
  name: string;
  section: string;
  fd: number;
  typeId: number;
  id: number;
}

/** One address of an interface (getifaddrs; IPv4 entries of an aliased address carry its label). */
export interface InterfaceAddress {
  name: string;
  family: 4 | 6;
  address: string;
  prefixLength: number;
  /** The interface is a loopback (IFF_LOOPBACK: os.networkInterfaces' `internal`). */
  loopback: boolean;
  /** IFF_UP and IFF_RUNNING (os.networkInterfaces() lists only such interfaces). */
  running: boolean;
}

/** Opaque handle of a loaded `struct bpf_object` (closed by objectClose or by garbage collection). */
export interface RawObjectHandle {
  readonly __brand: 'RawObjectHandle';
}

/** `count` items of `size` bytes each, back to back in `bytes`. */
export interface RawPacked {
  bytes: Buffer;
  count: number;
  size: number;
}

export interface RawXdpQuery {
  /** XDP_ATTACHED_NONE 0, DRV 1, SKB 2, HW 3, MULTI 4. */
  attachMode: number;
  progId: number;
  drvProgId: number;
  skbProgId: number;
  hwProgId: number;
}

/**
 * The addon's datapath exports. Every function throws an Error carrying `errno`, `code` and `op` when
 * the kernel or libbpf refuses (see bpf.ts `BpfError`), and a TypeError on wrongly typed arguments.
 */
export interface DatapathNative {
  objectOpen(
    path: string,
    pinDir: string | undefined,
  ): { handle: RawObjectHandle; maps: RawMapInfo[]; programs: RawProgInfo[] };
  objectClose(handle: RawObjectHandle): void;
  numPossibleCpus(): number;
  mapLookup(fd: number, key: Buffer): Buffer | undefined;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapUpdateBatch(fd: number, keys: Buffer, values: Buffer, flags: number): number;
  mapDeleteBatch(fd: number, keys: Buffer): number;
  mapKeys(fd: number, limit: number): RawPacked;
  mapLookupBatch(fd: number, chunk: number): { keys: RawPacked; values: RawPacked } | null;
  mapOpenPinned(path: string): RawMapInfo;
  closeFd(fd: number): void;
  xdpAttach(
    ifindex: number,
    progFd: number,
    flags: number,
    expectedProgId: number,
    expectedProgFd: number,
  ): void;
  xdpDetach(ifindex: number, flags: number, expectedProgId: number): void;
  xdpQuery(ifindex: number): RawXdpQuery;
  progInfoById(id: number): { id: number; name: string; typeId: number } | undefined;
  progPin(progFd: number, path: string): void;
  progOpenPinned(path: string): { fd: number; id: number; name: string } | undefined;
  progTestRun(
    progFd: number,
    frame: Buffer,
    repeat: number,
    outCapacity: number,
  ): { retval: number; data: Buffer; durationNs: number };
  /** Attaches a loaded tp_btf program; the returned link fd holds the attachment until closed. */
  tracingAttach(progFd: number): number;
  packetSend(ifindex: number, frame: Buffer): number;
  packetOpen(ifindex: number, protocol: number): number;
  packetSendBatch(fd: number, ifindex: number, frames: readonly Buffer[], start: number): number;
  packetRecv(fd: number, max: number): Buffer[];
  interfaceIndex(ifname: string): number;
  interfaceMac(ifname: string): Buffer;
  interfaceAddresses(
    skip: readonly string[],
    only?: readonly string[],
  ): {
    addresses: InterfaceAddress[];
    macs: Record<string, Buffer>;
  };
  lockExclusive(path: string): number;
}

const datapathExports: ReadonlyArray<keyof DatapathNative> = [
  'objectOpen',
  'objectClose',
  'numPossibleCpus',
  'mapLookup',
  'mapUpdate',
  'mapDelete',
  'mapUpdateBatch',
  'mapDeleteBatch',
  'mapKeys',
  'mapLookupBatch',
  'mapOpenPinned',
  'closeFd',
  'xdpAttach',
  'xdpDetach',
  'xdpQuery',
  'progInfoById',
  'progPin',
  'progOpenPinned',
  'progTestRun',
  'tracingAttach',
  'packetSend',
  'packetOpen',
  'packetSendBatch',
  'packetRecv',
  'interfaceIndex',
  'interfaceMac',
  'interfaceAddresses',
  'lockExclusive',
];

/** The datapath view of the addon; fails clearly when the built addon lacks an export (stale build). */
export const datapathNative = nativeView<DatapathNative>(datapathExports);

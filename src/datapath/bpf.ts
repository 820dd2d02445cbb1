import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { BpfError, callNative } from './errors.js';
import {
  datapathNative,
  type RawMapInfo,
  type RawObjectHandle,
  type RawPacked,
  type RawProgInfo,
} from './native.js';
import { parsePossibleCpus, replicatePerCpu, splitPerCpu, sumU64Fields } from './percpu.js';

export { BpfError, type BpfErrorDetails } from './errors.js';

/** BPF_ANY / BPF_NOEXIST / BPF_EXIST. */
export type UpdateFlag = 'any' | 'noexist' | 'exist';
const updateFlags: Record<UpdateFlag, number> = { any: 0, noexist: 1, exist: 2 };

/** Map types whose values hold one slot per possible CPU. */
const perCpuTypeIds = new Set([5 /* percpu_hash */, 6 /* percpu_array */, 10 /* lru_percpu_hash */, 21]);

let possibleCpus: number | undefined;

/** Views of the packed items (no copies). */
function unpack(p: RawPacked): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < p.count; i++) out.push(p.bytes.subarray(i * p.size, (i + 1) * p.size));
  return out;
}

/** Closes the fd of a pinned map that was dropped without close(). */
const pinnedFds = new FinalizationRegistry<number>((fd) => {
  try {
    datapathNative().closeFd(fd);
  } catch {
    // nothing useful to do in a finalizer
  }
});

/** Number of possible CPUs: the number of slots in a per-CPU map value. */
export function numPossibleCpus(): number {
  if (possibleCpus === undefined) {
    try {
      possibleCpus = parsePossibleCpus(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
    } catch {
      possibleCpus = callNative('', () => datapathNative().numPossibleCpus());
    }
  }
  return possibleCpus;
}

/** Removes a pin directory and every pin in it (maps then live only while something holds them). */
export function unpinDir(pinDir: string): void {
  rmSync(pinDir, { recursive: true, force: true });
}

/** A BPF map, owned by a loaded BpfObject or opened from a pin. Keys and values are raw Buffers. */
export class BpfMap {
  readonly name: string;
  /** libbpf's type name, e.g. 'hash', 'percpu_array', 'lru_hash'. */
  readonly type: string;
  readonly typeId: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly id: number;
  readonly fd: number;
  readonly pinPath: string | undefined;
  readonly perCpu: boolean;
  private closed = false;

  /** @internal Use BpfObject.map() or BpfMap.openPinned(). */
  constructor(
    info: RawMapInfo,
    private readonly ownsFd: boolean,
    private readonly ownerOpen: () => boolean = () => true,
  ) {
    this.name = info.name;
    this.type = info.type;
    this.typeId = info.typeId;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.id = info.id;
    this.fd = info.fd;
    this.pinPath = info.pinPath;
    this.perCpu = perCpuTypeIds.has(info.typeId);
    if (ownsFd) pinnedFds.register(this, info.fd, this);
  }

  /** Opens a pinned map; close() releases it. */
  static openPinned(path: string): BpfMap {
    return new BpfMap(
      callNative(path, () => datapathNative().mapOpenPinned(path)),
      true,
    );
  }

  /** The value for `key`, or undefined when absent. For a per-CPU map: every CPU's slot, concatenated. */
  lookup(key: Buffer): Buffer | undefined {
    const fd = this.liveFd();
    return callNative(this.where(), () => datapathNative().mapLookup(fd, key));
  }

  /**
   * Sets `key` to `value`. 'noexist' fails with EEXIST when present, 'exist' with ENOENT when absent.
   * For a per-CPU map, a `valueSize` value is written to every CPU; a full per-CPU value is taken as is.
   */
  update(key: Buffer, value: Buffer, flags: UpdateFlag = 'any'): void {
    const fd = this.liveFd();
    const raw =
      this.perCpu && value.length === this.valueSize ? replicatePerCpu(value, numPossibleCpus()) : value;
    callNative(this.where(), () => datapathNative().mapUpdate(fd, key, raw, updateFlags[flags]));
  }

  /**
   * Writes many entries in one call (BPF_MAP_UPDATE_BATCH where the kernel has it for the map type, else
   * one update each inside the addon). Per-CPU values of `valueSize` are replicated to every CPU.
   */
  updateMany(entries: ReadonlyArray<readonly [Buffer, Buffer]>, flags: UpdateFlag = 'any'): void {
    if (entries.length === 0) return;
    const fd = this.liveFd();
    const keys = Buffer.concat(entries.map(([k]) => k));
    const values = Buffer.concat(
      entries.map(([, v]) =>
        this.perCpu && v.length === this.valueSize ? replicatePerCpu(v, numPossibleCpus()) : v,
      ),
    );
    callNative(this.where(), () => datapathNative().mapUpdateBatch(fd, keys, values, updateFlags[flags]));
  }

  /** Deletes many keys in one call; absent keys are skipped. Returns how many were deleted. */
  deleteMany(keys: readonly Buffer[]): number {
    if (keys.length === 0) return 0;
    const fd = this.liveFd();
    const packed = Buffer.concat(keys);
    return callNative(this.where(), () => datapathNative().mapDeleteBatch(fd, packed));
  }

  /** Deletes `key`; false when it was absent. */
  delete(key: Buffer): boolean {
    const fd = this.liveFd();
    return callNative(this.where(), () => datapathNative().mapDelete(fd, key));
  }

  /** Every key, by BPF_MAP_GET_NEXT_KEY. */
  keys(): Buffer[] {
    const fd = this.liveFd();
    return unpack(callNative(this.where(), () => datapathNative().mapKeys(fd, this.maxEntries * 2 + 16)));
  }

  /**
   * Every entry: one batch dump when the kernel supports it for this map type, otherwise keys() and a
   * lookup each (keys deleted in between are skipped). Per-CPU values come concatenated, as lookup().
   */
  entries(): Array<[Buffer, Buffer]> {
    const batch = this.batchEntries();
    if (batch !== undefined) return batch;
    return this.iterEntries();
  }

  /** @internal The batch path alone (undefined when unsupported), `chunk` entries per syscall; for tests. */
  batchEntries(chunk = this.dumpChunk()): Array<[Buffer, Buffer]> | undefined {
    const dump = this.packedEntries(chunk);
    if (dump === undefined) return undefined;
    const values = unpack(dump.values);
    return unpack(dump.keys).map((k, i) => [k, values[i] ?? Buffer.alloc(0)]);
  }

  /**
   * Every entry as two packed buffers (keys, values: entry i at i × size), from one batch dump; undefined
   * when the kernel cannot dump this map type in batches. For readers of large maps that compare dumps
   * without a Buffer per entry.
   */
  packedEntries(chunk = this.dumpChunk()): { keys: RawPacked; values: RawPacked } | undefined {
    const fd = this.liveFd();
    return callNative(this.where(), () => datapathNative().mapLookupBatch(fd, chunk)) ?? undefined;
  }

  private dumpChunk(): number {
    return Math.max(1, Math.min(this.maxEntries, 1024));
  }

  /** @internal The get_next_key path alone; exposed for tests. */
  iterEntries(): Array<[Buffer, Buffer]> {
    const out: Array<[Buffer, Buffer]> = [];
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value !== undefined) out.push([key, value]);
    }
    return out;
  }

  /** A per-CPU map's value split into one `valueSize` Buffer per possible CPU; undefined when absent. */
  lookupPerCpu(key: Buffer): Buffer[] | undefined {
    if (!this.perCpu) throw new Error(`map ${this.name} (${this.type}) is not a per-CPU map`);
    const raw = this.lookup(key);
    return raw === undefined ? undefined : splitPerCpu(raw, this.valueSize, numPossibleCpus());
  }

  /** A per-CPU map's value as little-endian u64 fields summed over CPUs; undefined when absent. */
  lookupPerCpuSum(key: Buffer): bigint[] | undefined {
    const values = this.lookupPerCpu(key);
    return values === undefined ? undefined : sumU64Fields(values);
  }

  /** Releases a map opened from a pin; maps of a BpfObject are released by the object's close(). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsFd) {
      pinnedFds.unregister(this);
      datapathNative().closeFd(this.fd);
    }
  }

  private liveFd(): number {
    if (this.closed || !this.ownerOpen()) throw new Error(`BPF map ${this.name} is closed`);
    return this.fd;
  }

  private where(): string {
    return `map ${this.name}`;
  }
}

export interface TestRunResult {
  /** The program's return value (for XDP: XDP_ABORTED 0, DROP 1, PASS 2, TX 3, REDIRECT 4). */
  retval: number;
  /** The frame after the program ran. */
  data: Buffer;
  /** Average run time per repetition, as the kernel measured it. */
  durationNs: number;
}

/** A loaded program of a BpfObject. */
export class BpfProgram {
  readonly name: string;
  readonly section: string;
  readonly fd: number;
  readonly id: number;

  /** @internal Use BpfObject.program(). */
  constructor(
    info: RawProgInfo,
    private readonly ownerOpen: () => boolean,
  ) {
    this.name = info.name;
    this.section = info.section;
    this.fd = info.fd;
    this.id = info.id;
  }

  /**
   * Runs the program on `frame` with BPF_PROG_TEST_RUN. With `repeat` > 1 the kernel re-runs it on the
   * already rewritten buffer and reports the mean duration.
   */
  testRun(frame: Buffer, opts: { repeat?: number; outCapacity?: number } = {}): TestRunResult {
    if (!this.ownerOpen()) throw new Error(`BPF program ${this.name} is closed`);
    const repeat = opts.repeat ?? 1;
    const outCapacity = opts.outCapacity ?? frame.length + 1024;
    return callNative(`program ${this.name}`, () =>
      datapathNative().progTestRun(this.fd, frame, repeat, outCapacity),
    );
  }
}

/** A loaded BPF object file: its maps (optionally pinned) and programs. */
export class BpfObject {
  private readonly mapsByName = new Map<string, BpfMap>();
  private readonly programsByName = new Map<string, BpfProgram>();
  private open = true;

  private constructor(
    readonly path: string,
    readonly pinDir: string | undefined,
    private readonly handle: RawObjectHandle,
    maps: RawMapInfo[],
    programs: RawProgInfo[],
  ) {
    const isOpen = () => this.open;
    for (const m of maps) this.mapsByName.set(m.name, new BpfMap(m, false, isOpen));
    for (const p of programs) this.programsByName.set(p.name, new BpfProgram(p, isOpen));
  }

  /**
   * Opens and loads `path`. With `pinDir` (a bpffs directory, created if missing) every non-internal
   * map is pinned as `<pinDir>/<mapname>`, and an existing compatible pin of that name is reused, so map
   * contents survive restarts. A verifier rejection throws a BpfError with `verifierLog`.
   */
  static load(path: string, opts: { pinDir?: string } = {}): BpfObject {
    const pinDir = opts.pinDir?.replace(/\/+$/, '');
    if (pinDir !== undefined) {
      try {
        mkdirSync(pinDir, { recursive: true });
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        throw new BpfError(`cannot create pin directory ${pinDir}: ${e.message}`, {
          errno: typeof e.errno === 'number' ? -e.errno : 0,
          code: e.code ?? 'EIO',
          op: 'mkdir',
        });
      }
    }
    const raw = callNative(path, () => datapathNative().objectOpen(path, pinDir));
    return new BpfObject(path, pinDir, raw.handle, raw.maps, raw.programs);
  }

  /** The map named `name` (internal maps such as `.bss` carry libbpf's prefixed names). */
  map(name: string): BpfMap {
    const m = this.mapsByName.get(name);
    if (m === undefined)
      throw new Error(`${this.path} has no map ${name} (maps: ${[...this.mapsByName.keys()].join(', ')})`);
    return m;
  }

  program(name: string): BpfProgram {
    const p = this.programsByName.get(name);
    if (p === undefined)
      throw new Error(
        `${this.path} has no program ${name} (programs: ${[...this.programsByName.keys()].join(', ')})`,
      );
    return p;
  }

  maps(): BpfMap[] {
    return [...this.mapsByName.values()];
  }

  programs(): BpfProgram[] {
    return [...this.programsByName.values()];
  }

  /**
   * Closes the object: its map and program fds are released (pins and XDP attachments stay, since the
   * kernel holds its own references).
   */
  close(): void {
    if (!this.open) return;
    this.open = false;
    datapathNative().objectClose(this.handle);
  }
}

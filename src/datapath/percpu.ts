/**
 * Pure helpers for per-CPU map values: the kernel hands over one slot per possible CPU, each the value
 * size rounded up to 8 bytes.
 */

/** Parses /sys/devices/system/cpu/possible ("0-3", "0,2-5", "0") into the number of possible CPUs. */
export function parsePossibleCpus(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error('empty possible-CPU list');
  let highest = -1;
  for (const part of trimmed.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`malformed possible-CPU list: ${JSON.stringify(text)}`);
    const last = Number(m[2] ?? m[1]);
    if (last < Number(m[1])) throw new Error(`malformed possible-CPU range: ${part}`);
    highest = Math.max(highest, last);
  }
  // The kernel sizes per-CPU values by the highest possible CPU id + 1, not by the count of ids.
  return highest + 1;
}

/** Bytes of one CPU's slot in a per-CPU value. */
export function perCpuSlot(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8;
}

/** Splits a raw per-CPU value into one Buffer of `valueSize` bytes per CPU. */
export function splitPerCpu(raw: Buffer, valueSize: number, cpus: number): Buffer[] {
  const slot = perCpuSlot(valueSize);
  if (raw.length !== slot * cpus)
    throw new Error(`per-CPU value is ${raw.length} bytes, expected ${cpus} CPUs × ${slot}`);
  const out: Buffer[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) out.push(raw.subarray(cpu * slot, cpu * slot + valueSize));
  return out;
}

/** Replicates one value into every CPU's slot (the form an update of a per-CPU map needs). */
export function replicatePerCpu(value: Buffer, cpus: number): Buffer {
  const slot = perCpuSlot(value.length);
  const raw = Buffer.alloc(slot * cpus);
  for (let cpu = 0; cpu < cpus; cpu++) value.copy(raw, cpu * slot);
  return raw;
}

/** Field-wise sum of little-endian u64 fields over per-CPU values (e.g. packet and byte counters). */
export function sumU64Fields(values: readonly Buffer[]): bigint[] {
  const first = values[0];
  if (first === undefined) return [];
  const fields = Math.floor(first.length / 8);
  const sums = new Array<bigint>(fields).fill(0n);
  for (const v of values) {
    for (let i = 0; i < fields; i++) sums[i] = (sums[i] ?? 0n) + v.readBigUInt64LE(i * 8);
  }
  return sums;
}

/**
 * Transmit errors of Herald's XDP verdicts (bpf/herald_tx_errors.bpf.c): frames the kernel dropped after
 * the program returned, which the XDP program itself cannot count (an XDP_TX the driver could not send).
 * Two BTF tracepoint programs count them per interface and action for the interfaces listed with
 * watch(); their maps are pinned beside the responder's, so counts survive restarts. The attachment
 * lasts while this object is open (a link fd, not a pin): a speaker that exits stops counting.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBuildDir } from '../util/paths.js';
import { BpfObject, type BpfMap, numPossibleCpus } from './bpf.js';
import { callNative } from './errors.js';
import { datapathNative } from './native.js';
import { splitPerCpu, sumU64Fields } from './percpu.js';

export const TX_ERRORS_OBJECT_FILE = 'herald_tx_errors.bpf.o';
export const TX_ERRORS_MAP_NAMES = { watch: 'herald_tx_watch', errors: 'herald_tx_errors' } as const;
export const TX_ERRORS_PROGRAMS = ['herald_tx_exc', 'herald_tx_bulk'] as const;

/** XDP verdict numbers (enum xdp_action) by the names the metrics use. */
const ACTION_NAMES = ['aborted', 'drop', 'pass', 'tx', 'redirect'] as const;

export interface TxErrorCount {
  ifindex: number;
  /** The verdict the kernel could not carry out: 'tx', 'aborted', ... or the number of an unknown one. */
  action: string;
  frames: bigint;
}

/** The nsfs inode of a network namespace (what the kernel's net->ns.inum holds). */
export function netnsInode(path = '/proc/self/ns/net'): number {
  return statSync(path).ino;
}

export function actionName(action: number): string {
  return ACTION_NAMES[action] ?? String(action);
}

export function encodeWatchKey(netns: number, ifindex: number): Buffer {
  const key = Buffer.alloc(8);
  key.writeUInt32LE(netns >>> 0, 0);
  key.writeUInt32LE(ifindex, 4);
  return key;
}

export function decodeErrorKey(key: Buffer): { ifindex: number; action: number } {
  return { ifindex: key.readUInt32LE(0), action: key.readUInt32LE(4) };
}

export class XdpTxErrors {
  private readonly watchMap: BpfMap;
  private readonly errorMap: BpfMap;
  private links: number[];

  private constructor(private readonly object: BpfObject) {
    this.watchMap = object.map(TX_ERRORS_MAP_NAMES.watch);
    this.errorMap = object.map(TX_ERRORS_MAP_NAMES.errors);
    this.links = [];
    try {
      for (const name of TX_ERRORS_PROGRAMS) {
        const prog = object.program(name);
        this.links.push(callNative(`program ${name}`, () => datapathNative().tracingAttach(prog.fd)));
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /**
   * Loads and attaches the counting programs; the maps are pinned under pinDir (the responder's) and
   * reused when already pinned. Needs the kernel's BTF (/sys/kernel/btf/vmlinux), CAP_BPF and CAP_PERFMON.
   */
  static open(opts: { pinDir: string; objectPath?: string }): XdpTxErrors {
    const path = opts.objectPath ?? join(nativeBuildDir(), TX_ERRORS_OBJECT_FILE);
    const object = BpfObject.load(path, { pinDir: opts.pinDir });
    try {
      return new XdpTxErrors(object);
    } catch (error) {
      object.close();
      throw error;
    }
  }

  /** Counts exactly these interfaces (ifindexes in the namespace `netns`, default this process's). */
  watch(ifindexes: Iterable<number>, netns = netnsInode()): void {
    const wanted = new Map<string, Buffer>();
    for (const ifindex of ifindexes) {
      const key = encodeWatchKey(netns, ifindex);
      wanted.set(key.toString('hex'), key);
    }
    const stale = this.watchMap.keys().filter((k) => !wanted.delete(k.toString('hex')));
    this.watchMap.deleteMany(stale);
    const one = Buffer.alloc(4);
    one.writeUInt32LE(1);
    this.watchMap.updateMany([...wanted.values()].map((k) => [k, one] as const));
  }

  /** Frames dropped after a verdict, per interface and action, summed over CPUs (since the pins exist). */
  counts(): TxErrorCount[] {
    const cpus = numPossibleCpus();
    return this.errorMap.entries().map(([k, v]) => {
      const { ifindex, action } = decodeErrorKey(k);
      const [frames = 0n] = sumU64Fields(splitPerCpu(v, this.errorMap.valueSize, cpus));
      return { ifindex, action: actionName(action), frames };
    });
  }

  /** Detaches the programs (closes the links) and releases the fds; the pinned counts stay. */
  close(): void {
    for (const fd of this.links) datapathNative().closeFd(fd);
    this.links = [];
    this.object.close();
  }
}

import { join } from 'node:path';
import { BpfMap } from './bpf.js';
import { decodeConfig, encodeConfig, MAP_NAMES } from './xdp-layout.js';

const CONFIG_KEY = Buffer.alloc(4);

/**
 * Writes the XDP liveness heartbeat through the pinned config map, from any thread (the owner watch's
 * pulse thread uses it). The liveness bound is the one the responder set before this was opened.
 */
export class HeartbeatWriter {
  private constructor(
    private readonly map: BpfMap,
    private readonly livenessBoundNs: bigint,
  ) {}

  static openPinned(pinDir: string): HeartbeatWriter {
    const map = BpfMap.openPinned(join(pinDir, MAP_NAMES.config));
    const raw = map.lookup(CONFIG_KEY);
    const bound = raw ? decodeConfig(raw).livenessBoundNs : 0n;
    if (bound === 0n) {
      map.close();
      throw new Error(`${pinDir}: the liveness bound is not set yet`);
    }
    return new HeartbeatWriter(map, bound);
  }

  /** Stamps the heartbeat (kernel monotonic ns); 0 shuts the gate at once. */
  beat(atNs: bigint): void {
    this.map.update(
      CONFIG_KEY,
      encodeConfig({ heartbeatNs: atNs, livenessBoundNs: this.livenessBoundNs }),
      'any',
    );
  }

  close(): void {
    this.map.close();
  }
}

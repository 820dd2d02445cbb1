/** Opens the real XDP program with its maps pinned under a test-private bpffs directory. */
import type { Test } from 'tap';
import { XdpResponder } from '../../src/datapath/responder.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { VIP_MAC } from './xdp-frames.js';

export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;

export const VIP4 = '10.0.0.5';
export const SUPPRESSED4 = '10.0.0.6';
export const VIP6 = '2001:db8::5';
export const SUPPRESSED6 = '2001:db8::6';
export const CLIENT4 = '10.0.0.9';
export const CLIENT6 = '2001:db8::9';

/** Skips (locally) or fails (CI) without root; otherwise a responder with the standard VIPs, live. */
export function openResponder(t: Test, name: string): XdpResponder | undefined {
  requirePrerequisites({ root: true });
  const pinDir = `/sys/fs/bpf/hrl-h2b-${process.pid}-${name}`;
  XdpResponder.cleanup(pinDir);
  const removePins = () => XdpResponder.cleanup(pinDir);
  process.once('exit', removePins); // also when the test dies before its teardown
  const r = XdpResponder.open({ pinDir });
  t.teardown(() => {
    r.close();
    removePins();
    process.removeListener('exit', removePins);
  });
  r.setVip(VIP4, { action: 'answer', mac: VIP_MAC });
  r.setVip(SUPPRESSED4, { action: 'suppress' });
  r.setVip(VIP6, { action: 'answer', mac: VIP_MAC });
  r.setVip(SUPPRESSED6, { action: 'suppress' });
  r.setLivenessBoundMs(600_000);
  r.heartbeat();
  return r;
}

/** Runs the program once on a copy of frame. */
export function run(r: XdpResponder, frame: Buffer): { retval: number; data: Buffer } {
  const { retval, data } = r.program.testRun(Buffer.from(frame));
  return { retval, data };
}

import { FLOW_SLOTS, type FlowEntry } from '../../src/datapath/flow-layout.js';

/** A flow-mode VIP's entry on a node of a flow set of two: itself (index 0) and `other` (index 1). */
export function twoNodeFlowEntry(role: FlowEntry['role'], ownMac: string, other: string): FlowEntry {
  return {
    role,
    ownMac: Buffer.from(ownMac, 'hex'),
    inStat: 3,
    targets: [
      { mac: Buffer.from(ownMac, 'hex'), local: true, stat: 4 },
      { mac: Buffer.from(other, 'hex'), local: false, stat: 5 },
    ],
    slots: new Uint8Array(FLOW_SLOTS).map((_, i) => i % 2),
  };
}

import t from 'tap';
import { vipStatuses } from '../../../src/api/speaker-status.js';
import type { VipDecision } from '../../../src/l2/desired.js';
import { FLOW_SLOTS } from '../../../src/l2/flow-model.js';
import { slotShares } from '../../../src/l2/flow-table.js';

const quiet = () => ({ rxBitsPerSecond: 0, rxPacketsPerSecond: 0, utilization: 0 });

t.test(
  'a flow-mode VIP is listed as flows: the owner and every node of the flow set with its slots',
  async (t) => {
    const flows: VipDecision = {
      ip: '192.0.2.30',
      services: ['shop/web'],
      mode: 'flows',
      owner: 'n2',
      shares: new Map([['n2', 0xffffffffffffffffn]]),
      eligible: ['n1', 'n2', 'n3'],
      interfaces: new Map([['n2', ['eth0']]]),
      reason: 'flows spread over 3 nodes',
      flowSet: new Map([
        ['n1', ['eth0']],
        ['n2', ['eth0']],
        ['n3', ['eth0']],
      ]),
    };
    const status = (node: string) =>
      vipStatuses({ node, decisions: [flows], allocations: [], advertised: new Set(), traffic: quiet })[0];
    const owner = status('n2');
    t.equal(owner?.mode, 'flows');
    t.equal(owner?.owner, 'n2');
    const expected = slotShares(flows.ip, ['n1', 'n2', 'n3']);
    t.same(
      owner?.shares?.map((s) => [s.node, s.slots]),
      [...expected],
      'slot shares as every speaker computes them',
    );
    t.equal(
      owner?.shares?.reduce((a, s) => a + (s.slots ?? 0), 0),
      FLOW_SLOTS,
      'the shares cover every slot',
    );
    t.notOk(
      owner?.shares?.some((s) => s.steeredBytes !== undefined),
      'no steering counters read: none listed',
    );
    const counted = vipStatuses({
      node: 'n2',
      decisions: [flows],
      allocations: [],
      advertised: new Set(),
      traffic: quiet,
      flows: new Map([
        [
          flows.ip,
          {
            ip: flows.ip,
            role: 'owner',
            targets: [
              { node: 'n1', local: false, slots: 1300, packets: 10n, bytes: 1000n },
              { node: 'n2', local: true, slots: 1400, packets: 20n, bytes: 3000n },
            ],
            steeredIn: { packets: 0n, bytes: 0n },
          },
        ],
      ]),
    })[0];
    t.same(
      counted?.shares?.map((s) => [s.node, s.steeredPackets, s.steeredBytes]),
      [
        ['n1', 10, 1000],
        ['n2', 20, 3000],
        ['n3', undefined, undefined],
      ],
      "the owner's steering counters per node of the flow set",
    );
    t.equal(status('n3')?.local, true, 'a flow-set member serves the VIP');
    t.equal(status('n9')?.local, false, 'a node outside the flow set does not');
  },
);

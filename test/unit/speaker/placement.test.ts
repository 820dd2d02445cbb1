import t from 'tap';
import { chooseOwner } from '../../../src/l2/desired.js';
import { rendezvousOrder } from '../../../src/l2/rendezvous.js';
import { ClusterRateView, encodeRateReport } from '../../../src/metrics/gossip.js';
import { decodeNodeMeta } from '../../../src/speaker/node-meta.js';
import { placementInputs } from '../../../src/speaker/placement-coordinator.js';
import { encodePlacement } from '../../../src/placement/codec.js';
import { waitFor } from '../../../src/util/wait.js';
import { IFACE, parseModel, rig } from './fakes.js';

const VIP = '10.0.0.200';
const model = parseModel(`
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: lan }
spec: { addresses: [${VIP}/32] }
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: lan }
spec: { ipAddressPools: [lan], placement: { by: bandwidth, sustain: 0s } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: default, labels: { kubernetes.io/service-name: web } }
endpoints: [{ nodeName: a }, { nodeName: b }]
`);
const [hashOwner, other] = rendezvousOrder(VIP, ['a', 'b']) as [string, string];
const metaOf = (name: string, placementVersion?: number) => ({
  interfaces: [{ ...IFACE, cidrs: [`10.0.0.${name.charCodeAt(0) - 96}/24`] }],
  labels: {},
  ...(placementVersion !== undefined ? { placementVersion } : {}),
});
const moveToOther = {
  version: 1,
  coordinator: 'a',
  entries: new Map([[VIP, { node: other, movedAtMs: 0 }]]),
};

t.test('owner choice: a placed eligible node wins over the hash, anything else falls back', async (t) => {
  const ads = [{ name: 'lan', interfaces: [], spread: false, placement: 'bandwidth' as const }];
  t.same(chooseOwner({ ip: VIP, advertisements: ads, placedOwner: other }, ['a', 'b']), {
    owner: other,
    successor: hashOwner,
    placement: { hashedOwner: hashOwner, placed: true },
    why: `placed on ${other} by bandwidth (hash owner ${hashOwner})`,
  });
  t.equal(chooseOwner({ ip: VIP, advertisements: ads, placedOwner: 'gone' }, ['a', 'b']).owner, hashOwner);
  const hashOnly = [{ name: 'lan', interfaces: [], spread: false }];
  t.same(chooseOwner({ ip: VIP, advertisements: hashOnly, placedOwner: other }, ['a', 'b']).owner, hashOwner);
});

t.test(
  'planned move: the new owner answers only after the old owner gossiped that it applied the map',
  async (t) => {
    const r = rig(other, model);
    t.teardown(() => r.speaker.stop());
    r.membership.set(hashOwner, 'alive', metaOf(hashOwner));
    r.speaker.start();
    await waitFor('hash owner decided', 2000, () => r.speaker.decisions()[0]?.owner === hashOwner);
    t.equal(r.datapath.action(VIP), 'suppress');

    r.membership.emit('message', {
      from: hashOwner,
      payload: encodePlacement(moveToOther),
      key: 'herald.placement',
    });
    await waitFor('placed decision', 2000, () => r.speaker.decisions()[0]?.owner === other);
    t.equal(r.speaker.placementMap().version, 1);
    t.match(r.speaker.decisions()[0]?.reason, /placed on .* by bandwidth/);
    t.equal(r.datapath.action(VIP), 'suppress', 'held: the old owner may still answer');
    const framesBefore = r.frames.length;

    r.membership.set(hashOwner, 'alive', metaOf(hashOwner, 1));
    await waitFor('answers after the handover', 2000, () => r.datapath.action(VIP) === 'answer');
    t.ok(r.frames.length > framesBefore, 'and announces the takeover at once');
    const me = r.membership.members().find((m) => m.name === other);
    t.equal(me && decodeNodeMeta(me.meta)?.placementVersion, 1, 'gossips the version it applied');
  },
);

t.test('planned move: the old owner stops answering as soon as it applies the map', async (t) => {
  const r = rig(hashOwner, model);
  t.teardown(() => r.speaker.stop());
  r.membership.set(other, 'alive', metaOf(other));
  r.speaker.start();
  await waitFor('owner answers', 2000, () => r.datapath.action(VIP) === 'answer');
  t.ok(r.speaker.offerPlacement(moveToOther));
  t.notOk(
    r.speaker.offerPlacement({ ...moveToOther, version: 0, entries: new Map() }),
    'an older map is ignored',
  );
  await waitFor('old owner suppresses', 2000, () => r.datapath.action(VIP) === 'suppress');
  const applied = () => r.membership.members().find((m) => m.name === hashOwner)?.meta ?? Buffer.alloc(0);
  await waitFor('applied version gossiped', 2000, () => decodeNodeMeta(applied())?.placementVersion === 1);
});

t.test('a dead previous owner does not hold the takeover', async (t) => {
  const r = rig(other, model);
  t.teardown(() => r.speaker.stop());
  r.membership.set(hashOwner, 'alive', metaOf(hashOwner));
  r.speaker.start();
  await waitFor('hash owner decided', 2000, () => r.speaker.decisions()[0]?.owner === hashOwner);
  r.speaker.offerPlacement(moveToOther);
  await waitFor('placed decision', 2000, () => r.speaker.decisions()[0]?.owner === other);
  t.equal(r.datapath.action(VIP), 'suppress');
  r.membership.set(hashOwner, 'dead', metaOf(hashOwner));
  await waitFor('answers once the old owner is dead', 2000, () => r.datapath.action(VIP) === 'answer');
});

t.test(
  'coordinator inputs: placed VIPs with their ingress (largest report) and link capacities',
  async (t) => {
    const r = rig(hashOwner, model);
    t.teardown(() => r.speaker.stop());
    r.membership.set(other, 'alive', metaOf(other));
    r.speaker.start();
    await waitFor('decided', 2000, () => r.speaker.decisions().length === 1);
    const rates = new ClusterRateView();
    const report = (node: string, bits: number, capacityBits: number) =>
      encodeRateReport({
        node,
        seq: 1,
        epochUnixMs: 1,
        atUnixMs: 1,
        windowMs: 10_000,
        totalBitsPerSecond: bits,
        totalPacketsPerSecond: 1,
        capacityBits,
        vips: bits > 0 ? [{ ip: VIP, bitsPerSecond: bits, packetsPerSecond: 1 }] : [],
        omittedVips: 0,
      });
    rates.ingest(report(hashOwner, 80e6, 100e6), 1000);
    rates.ingest(report(other, 0, 1e9), 1000);
    const inputs = placementInputs(r.speaker, model, rates, 2000, 30_000);
    t.same(
      inputs.capacities,
      new Map([
        [hashOwner, 12.5e6],
        [other, 125e6],
      ]),
    );
    t.equal(inputs.vips.length, 1);
    t.equal(inputs.vips[0]?.rxBytesPerSecond, 10e6);
    t.equal(inputs.vips[0]?.hashedOwner, hashOwner);
    t.equal(inputs.vips[0]?.knobs?.sustainMs, 0, 'knobs from the advertisement');
    t.same(
      placementInputs(r.speaker, model, rates, 60_000, 30_000).capacities,
      new Map(),
      'stale reports ignored',
    );
  },
);

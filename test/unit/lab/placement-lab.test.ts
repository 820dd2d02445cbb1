import t from 'tap';
import { rendezvousOrder } from '../../../src/l2/rendezvous.js';
import { parseConfigTexts } from '../../../src/config/index.js';
import { placementLabConfig, skewedLoad } from '../../../src/lab/placement-lab.js';
import { frameBytes, parseRates } from '../../../src/lab/udp-load.js';

const nodes = ['n1', 'n2', 'n3'];
const vips = Array.from({ length: 6 }, (_, i) => `10.77.0.${150 + i}`);

t.test('skewedLoad: the two heavy VIPs share their hash owner, the rest are light', async (t) => {
  const load = skewedLoad(vips, nodes, 20e6);
  for (const ip of load.heavy)
    t.equal(rendezvousOrder(ip, nodes)[0], load.hot, `${ip} hashes to ${load.hot}`);
  t.equal(load.rates.get(load.heavy[0]), 8e6);
  t.equal(load.rates.get(load.heavy[1]), 8e6);
  const light = vips.filter((ip) => !load.heavy.includes(ip));
  t.same(
    light.map((ip) => load.rates.get(ip)),
    light.map(() => 0.5e6),
  );
  t.throws(() => skewedLoad(vips.slice(0, 1), nodes, 20e6), /no two of 1 VIPs/);
});

t.test('placementLabConfig is valid and puts every VIP under bandwidth placement in flow mode', async (t) => {
  const { model, problems } = parseConfigTexts([{ text: placementLabConfig(3, 6), fileName: 'lab.yaml' }]);
  t.same(problems, []);
  t.equal(model.services.length, 6);
  t.same(model.l2Advertisements[0]?.spec.placement?.by, 'bandwidth');
  t.same(model.l2Advertisements[0]?.spec.spread, { enabled: true, by: 'flows' });
});

t.test('udp-load: rates parse, wire size counts the headers', async (t) => {
  t.same(
    [...parseRates('10.0.0.1=1000,fd00::1=2e6')],
    [
      ['10.0.0.1', 1000],
      ['fd00::1', 2e6],
    ],
  );
  t.same([...parseRates('10.0.0.1=1e12')], [['10.0.0.1', 200e6]], 'capped');
  t.throws(() => parseRates('10.0.0.1'), /expected IP=BITS_PER_SECOND/);
  t.equal(frameBytes('10.0.0.1', 1200), 1242);
  t.equal(frameBytes('fd00::1', 1200), 1262);
});

import t from 'tap';
import { addressBytes } from '../../../src/util/ip-bytes.js';

t.test('addressBytes: IPv4, IPv6 and v4-mapped text to network-order bytes', async (t) => {
  t.same([...addressBytes('10.80.39.15')], [10, 80, 39, 15]);
  t.same([...addressBytes('0.0.0.0')], [0, 0, 0, 0]);
  t.same([...addressBytes('255.255.255.255')], [255, 255, 255, 255]);
  t.same([...addressBytes('::ffff:10.1.2.3')], [10, 1, 2, 3], 'v4-mapped gives the IPv4 bytes');
  const v6 = addressBytes('fd77::1');
  t.equal(v6.length, 16);
  t.same([v6[0], v6[1], v6[15]], [0xfd, 0x77, 1]);
});

t.test('addressBytes: anything else throws', async (t) => {
  for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '0x0a.0.0.1', '10.0.0.1 ', '', 'fd77:::1'])
    t.throws(() => addressBytes(bad), /not an IP address/, JSON.stringify(bad));
});

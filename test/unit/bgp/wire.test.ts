import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert';
import t, { type Test } from 'tap';
import {
  Afi,
  BgpError,
  decodeMessage,
  encodeMessage,
  endOfRib,
  endOfRibFamily,
  makeOpen,
  makeUpdate,
  MessageFramer,
  packAnnouncements,
  packWithdrawals,
  type BgpMessage,
  type CodecContext,
  type UpdateMessage,
} from '../../../src/bgp/wire/index.js';

const ctx4: CodecContext = { fourOctetAs: true };
const ctx2: CodecContext = { fourOctetAs: false };

function roundTrip(m: BgpMessage, ctx = ctx4): BgpMessage {
  return decodeMessage(encodeMessage(m, ctx), ctx);
}

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function expectError(t: Test, buf: Buffer, code: number, subcode: number, ctx = ctx4): void {
  try {
    decodeMessage(buf, ctx);
    t.fail(`expected NOTIFICATION ${code}/${subcode}, decoded fine`);
  } catch (e) {
    t.ok(e instanceof BgpError, 'throws BgpError');
    const be = e as BgpError;
    t.same([be.code, be.subcode], [code, subcode], be.message);
  }
}

t.test('OPEN round trip with every capability', async (t) => {
  const open = makeOpen({
    asn: 4200000001,
    holdTime: 90,
    routerId: '10.0.0.7',
    enhancedRouteRefresh: true,
    gracefulRestart: {
      restarting: true,
      notification: false,
      restartTimeSec: 120,
      families: [
        { afi: 1, safi: 1, forwardingPreserved: true },
        { afi: 2, safi: 1, forwardingPreserved: false },
      ],
    },
  });
  const back = roundTrip(open);
  t.same(back, open);
  t.equal(open.myAs, 23456, 'AS_TRANS in the 2-octet field');
});

t.test('decodes a GoBGP-style OPEN byte for byte', async (t) => {
  // version 4, AS 65001, hold 90, id 1.1.1.1, caps: MP ipv4/uni, route refresh, 4-octet AS 65001
  const body = hex('04 fde9 005a 01010101 14 0206 0104 00010001 0202 0200 0206 4104 0000fde9');
  const header = Buffer.alloc(19, 0xff);
  header.writeUInt16BE(19 + body.length, 16);
  header.writeUInt8(1, 18);
  const m = decodeMessage(Buffer.concat([header, body]));
  t.match(m, {
    type: 'open',
    myAs: 65001,
    holdTime: 90,
    routerId: '1.1.1.1',
    capabilities: { multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, fourOctetAsn: 65001 },
  });
});

t.test('UPDATE round trip: IPv4 with all attributes', async (t) => {
  const u = makeUpdate({
    withdrawn: ['10.9.0.0/16'],
    nlri: ['192.0.2.10/32', '198.51.100.0/24', '0.0.0.0/0'],
    attributes: {
      origin: 0,
      asPath: [{ type: 'sequence', asns: [4200000001, 65000] }],
      nextHop: '10.0.0.1',
      med: 10,
      localPref: 200,
      communities: [0xfde80064, 0xffffff01],
      largeCommunities: [[4200000001, 1, 2]],
    },
  });
  t.same(roundTrip(u), u);
});

t.test('UPDATE round trip: IPv6 MP_REACH with link-local next hop, MP_UNREACH', async (t) => {
  const u = makeUpdate({
    attributes: {
      origin: 2,
      asPath: [{ type: 'sequence', asns: [65001] }],
      mpReach: {
        afi: 2,
        safi: 1,
        nextHops: ['2001:db8::1', 'fe80::1'],
        nlri: ['2001:db8:1::5/128', '2001:db8::/32'],
      },
    },
  });
  t.same(roundTrip(u), u);
  const w = makeUpdate({ attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: ['2001:db8:1::5/128'] } } });
  t.same(roundTrip(w), w);
});

t.test('2-octet peers get AS_TRANS and AS4_PATH, and we merge it back', async (t) => {
  const u = makeUpdate({
    nlri: ['192.0.2.1/32'],
    attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [4200000001, 65000] }], nextHop: '10.0.0.1' },
  });
  const wire = encodeMessage(u, ctx2);
  t.ok(wire.includes(hex('5ba0 fde8')), 'AS_PATH carries AS_TRANS then 65000');
  const back = decodeMessage(wire, ctx2) as UpdateMessage;
  t.same(back.attributes.asPath, [{ type: 'sequence', asns: [4200000001, 65000] }]);
});

t.test('NOTIFICATION, KEEPALIVE, ROUTE-REFRESH round trip', async (t) => {
  const msgs: BgpMessage[] = [
    { type: 'notification', code: 6, subcode: 2, data: Buffer.from('bye') },
    { type: 'keepalive' },
    { type: 'route-refresh', afi: 2, subtype: 0, safi: 1 },
  ];
  for (const m of msgs) t.same(roundTrip(m), m);
  t.equal(encodeMessage({ type: 'keepalive' }).length, 19);
});

t.test('End-of-RIB markers', async (t) => {
  const v4 = encodeMessage(endOfRib(Afi.IPV4));
  t.equal(v4.length, 23, 'IPv4 EoR is the 23-octet empty UPDATE');
  t.same(endOfRibFamily(decodeMessage(v4) as UpdateMessage), { afi: 1, safi: 1 });
  const v6 = decodeMessage(encodeMessage(endOfRib(Afi.IPV6))) as UpdateMessage;
  t.same(endOfRibFamily(v6), { afi: 2, safi: 1 });
  t.equal(endOfRibFamily(makeUpdate({ nlri: ['10.0.0.0/8'] })), undefined);
});

t.test('packing 10,000 prefixes fills messages and loses nothing', async (t) => {
  const v4 = Array.from(
    { length: 10_000 },
    (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`,
  );
  const attrs = {
    origin: 0 as const,
    asPath: [{ type: 'sequence' as const, asns: [65001] }],
    communities: [1],
  };
  const msgs = packAnnouncements('ipv4', v4, attrs, ['10.0.0.1'], ctx4);
  const sizes = msgs.map((m) => encodeMessage(m).length);
  t.ok(
    sizes.every((s) => s <= 4096),
    'every message within 4096 octets',
  );
  t.ok(msgs.length <= 13, `10k /32 fit in ${msgs.length} messages`);
  t.same(
    msgs.flatMap((m) => (decodeMessage(encodeMessage(m)) as UpdateMessage).nlri),
    v4,
  );
  const v6 = Array.from({ length: 3000 }, (_, i) => `2001:db8::${(i + 1).toString(16)}/128`);
  const m6 = packAnnouncements('ipv6', v6, attrs, ['2001:db8::1', 'fe80::1'], ctx4);
  t.ok(m6.every((m) => encodeMessage(m).length <= 4096));
  t.same(
    m6.flatMap((m) => (decodeMessage(encodeMessage(m)) as UpdateMessage).attributes.mpReach?.nlri ?? []),
    v6,
  );
  const w6 = packWithdrawals('ipv6', v6);
  t.ok(w6.every((m) => encodeMessage(m).length <= 4096));
  t.same(
    w6.flatMap(
      (m) => (decodeMessage(encodeMessage(m)) as UpdateMessage).attributes.mpUnreach?.withdrawn ?? [],
    ),
    v6,
  );
  t.equal(packWithdrawals('ipv4', v4).flatMap((m) => m.withdrawn).length, 10_000);
});

t.test('framer splits a stream at arbitrary chunk boundaries', async (t) => {
  const msgs = [
    encodeMessage({ type: 'keepalive' }),
    encodeMessage(makeOpen({ asn: 1, holdTime: 3, routerId: '1.2.3.4' })),
  ];
  const all = Buffer.concat([...msgs, ...msgs]);
  for (const step of [1, 5, 19, 100]) {
    const f = new MessageFramer();
    const out: Buffer[] = [];
    for (let i = 0; i < all.length; i += step) out.push(...f.push(all.subarray(i, i + step)));
    t.same(
      out.map((b) => b.toString('hex')),
      [...msgs, ...msgs].map((b) => b.toString('hex')),
      `step ${step}`,
    );
  }
});

// ---------------------------------------------------------------- RFC-prescribed errors

function msg(type: number, body: Buffer, lengthOverride?: number): Buffer {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(lengthOverride ?? 19 + body.length, 16);
  h.writeUInt8(type, 18);
  return Buffer.concat([h, body]);
}

const goodOpenBody = hex('04 fde9 005a 01010101 00');
const origin = hex('40 01 01 00');
const asPath = hex('40 02 06 02 01 0000fde9');
const nextHop = hex('40 03 04 0a000001');
function update(attrs: Buffer, nlri = hex('20 c0000201'), withdrawn = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(withdrawn.length, 0);
  const a = Buffer.alloc(2);
  a.writeUInt16BE(attrs.length, 0);
  return msg(2, Buffer.concat([b.subarray(0, 2), withdrawn, a, attrs, nlri]));
}

t.test('header errors (RFC 4271 §6.1)', async (t) => {
  const ka = encodeMessage({ type: 'keepalive' });
  const badMarker = Buffer.from(ka);
  badMarker[3] = 0;
  expectError(t, badMarker, 1, 1);
  expectError(t, msg(4, Buffer.alloc(0), 18), 1, 2);
  expectError(t, msg(4, Buffer.alloc(2)), 1, 2);
  expectError(t, msg(9, Buffer.alloc(0)), 1, 3);
  expectError(t, msg(1, Buffer.alloc(3)), 1, 2);
  expectError(t, msg(3, Buffer.alloc(1)), 1, 2);
  const tooLong = msg(2, Buffer.alloc(4100));
  expectError(t, tooLong, 1, 2);
  t.throws(() => new MessageFramer().push(badMarker), BgpError);
});

t.test('OPEN errors (RFC 4271 §6.2)', async (t) => {
  const v3 = Buffer.from(goodOpenBody);
  v3[0] = 3;
  expectError(t, msg(1, v3), 2, 1);
  const hold1 = Buffer.from(goodOpenBody);
  hold1.writeUInt16BE(2, 3);
  expectError(t, msg(1, hold1), 2, 6);
  const id0 = Buffer.from(goodOpenBody);
  id0.writeUInt32BE(0, 5);
  expectError(t, msg(1, id0), 2, 3);
  const as0 = Buffer.from(goodOpenBody);
  as0.writeUInt16BE(0, 1);
  expectError(t, msg(1, as0), 2, 2);
  expectError(t, msg(1, Buffer.concat([goodOpenBody.subarray(0, 9), hex('03 01 01 00')])), 2, 4);
  expectError(t, msg(1, Buffer.concat([goodOpenBody.subarray(0, 9), hex('05 02 02 00')])), 2, 0);
  expectError(t, msg(1, Buffer.concat([goodOpenBody.subarray(0, 9), hex('04 02 02 41 04')])), 2, 0);
});

t.test('UPDATE errors (RFC 4271 §6.3 with RFC 7606)', async (t) => {
  const ok = decodeMessage(update(Buffer.concat([origin, asPath, nextHop]))) as UpdateMessage;
  t.same(ok.nlri, ['192.0.2.1/32']);
  t.notOk(ok.treatAsWithdraw);
  // session resets
  expectError(t, msg(2, hex('0010 0000')), 3, 1);
  expectError(t, msg(2, hex('0000 0010')), 3, 1);
  expectError(t, update(Buffer.concat([origin, asPath, nextHop]), hex('21 c0000201 00')), 3, 10);
  expectError(t, update(Buffer.concat([origin, asPath, nextHop]), hex('20 c000')), 3, 10);
  expectError(t, update(Buffer.concat([origin, hex('40 63 00')])), 3, 2);
  const mp = hex('80 0f 03 0002 01');
  expectError(t, update(Buffer.concat([mp, mp]), Buffer.alloc(0)), 3, 1);
  expectError(t, update(hex('80 0e 05 0002 01 10 00'), Buffer.alloc(0)), 3, 9);
  expectError(t, update(hex('40 0f 03 0002 01'), Buffer.alloc(0)), 3, 4);
  // treat-as-withdraw
  const cases: Array<[string, Buffer, number]> = [
    ['ORIGIN value 3', Buffer.concat([hex('40 01 01 03'), asPath, nextHop]), 6],
    ['ORIGIN length 2', Buffer.concat([hex('40 01 02 0000'), asPath, nextHop]), 5],
    ['AS_PATH segment overrun', Buffer.concat([origin, hex('40 02 04 02 02 0000'), nextHop]), 11],
    ['NEXT_HOP length 3', Buffer.concat([origin, asPath, hex('40 03 03 0a0000')]), 5],
    ['missing NEXT_HOP', Buffer.concat([origin, asPath]), 3],
    ['missing ORIGIN', Buffer.concat([asPath, nextHop]), 3],
    ['flags on ORIGIN', Buffer.concat([hex('c0 01 01 00'), asPath, nextHop]), 4],
    ['COMMUNITIES length 3', Buffer.concat([origin, asPath, nextHop, hex('c0 08 03 000000')]), 9],
    [
      'LARGE_COMMUNITY length 8',
      Buffer.concat([origin, asPath, nextHop, hex('c0 20 08 0000000000000000')]),
      9,
    ],
    ['attribute overrun', Buffer.concat([origin, asPath, nextHop, hex('c0 08 08 0000')]), 5],
  ];
  for (const [name, attrs, subcode] of cases) {
    const u = decodeMessage(update(attrs)) as UpdateMessage;
    t.ok(u.treatAsWithdraw, `${name}: treat-as-withdraw`);
    t.equal(u.problems[0]?.subcode, subcode, `${name}: subcode ${subcode}`);
  }
  const dup = decodeMessage(
    update(Buffer.concat([origin, hex('40 01 01 02'), asPath, nextHop])),
  ) as UpdateMessage;
  t.equal(dup.attributes.origin, 0, 'duplicate attribute: first one kept');
  const atomic = decodeMessage(
    update(Buffer.concat([origin, asPath, nextHop, hex('40 06 01 00')])),
  ) as UpdateMessage;
  t.notOk(atomic.treatAsWithdraw, 'bad ATOMIC_AGGREGATE is discarded only');
  t.equal(atomic.problems[0]?.action, 'attribute-discard');
  const ibgp = decodeMessage(update(Buffer.concat([origin, asPath, nextHop])), {
    fourOctetAs: true,
    ibgp: true,
  });
  t.ok((ibgp as UpdateMessage).treatAsWithdraw, 'iBGP without LOCAL_PREF');
  expectError(t, msg(5, hex('0001 00 01 00')), 7, 1);
});

// ---------------------------------------------------------------- properties and fuzzing

const v4prefix = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
  .map(([a, len]) => {
    const masked = len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
    return `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`;
  });
const v6prefix = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 0, max: 128 }),
  )
  .map(([groups, len]) => {
    const bits = groups.map((g, i) => {
      const keep = Math.max(0, Math.min(16, len - 16 * i));
      return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
    });
    return decodePrefixText(bits, len);
  });
function decodePrefixText(groups: number[], len: number): string {
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
  const m = decodeMessage(
    encodeMessage(
      makeUpdate({ attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [`${hex6(b)}/${len}`] } } }),
    ),
  ) as UpdateMessage;
  return m.attributes.mpUnreach?.withdrawn[0] ?? '';
}
function hex6(b: Buffer): string {
  return Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i).toString(16)).join(':');
}
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const asn = fc.integer({ min: 1, max: 0xffffffff });

const arbUpdate: fc.Arbitrary<UpdateMessage> = fc
  .record({
    withdrawn: fc.array(v4prefix, { maxLength: 20 }),
    nlri: fc.array(v4prefix, { maxLength: 20 }),
    v6: fc.array(v6prefix, { maxLength: 10 }),
    med: fc.option(u32, { nil: undefined }),
    localPref: fc.option(u32, { nil: undefined }),
    communities: fc.option(fc.array(u32, { minLength: 1, maxLength: 8 }), { nil: undefined }),
    large: fc.option(fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 4 }), { nil: undefined }),
    path: fc.array(asn, { minLength: 1, maxLength: 10 }),
  })
  .map((r) =>
    makeUpdate({
      withdrawn: r.withdrawn,
      nlri: r.nlri,
      attributes: {
        origin: 0,
        asPath: [{ type: 'sequence', asns: r.path }],
        nextHop: '10.0.0.1',
        ...(r.med !== undefined ? { med: r.med } : {}),
        ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
        ...(r.communities ? { communities: r.communities } : {}),
        ...(r.large ? { largeCommunities: r.large } : {}),
        ...(r.v6.length > 0 ? { mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: r.v6 } } : {}),
      },
    }),
  );

t.test('property: UPDATE encode/decode round trip', async (t) => {
  fc.assert(
    fc.property(arbUpdate, (u) => {
      deepStrictEqual(roundTrip(u), u);
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass('300 random UPDATEs survived encode/decode unchanged');
});

/** Codes/subcodes the decoder may answer with, per message type (header errors for all). */
const allowed: Record<number, Set<string>> = {
  1: new Set(['2/0', '2/1', '2/2', '2/3', '2/4', '2/6']),
  2: new Set(['3/1', '3/2', '3/4', '3/9', '3/10']),
  5: new Set(['7/1']),
};
const headerErrors = new Set(['1/1', '1/2', '1/3']);

function fuzzOne(buf: Buffer, ctx: CodecContext): void {
  try {
    const m = decodeMessage(buf, ctx);
    if (m.type === 'update')
      for (const p of m.problems) if (p.code !== 3) throw new Error(`problem code ${p.code}`);
  } catch (e) {
    if (!(e instanceof BgpError)) throw e;
    const key = `${e.code}/${e.subcode}`;
    const type = buf.length >= 19 ? buf.readUInt8(18) : 0;
    if (!headerErrors.has(key) && !allowed[type]?.has(key))
      throw new Error(`type ${type} → ${key}: ${e.message}`);
  }
}

t.test('fuzz: mutated valid messages never throw anything but the prescribed BgpError', async (t) => {
  const seeds = [
    encodeMessage(
      makeOpen({
        asn: 4200000001,
        holdTime: 9,
        routerId: '1.2.3.4',
        gracefulRestart: {
          restarting: false,
          notification: false,
          restartTimeSec: 120,
          families: [{ afi: 1, safi: 1, forwardingPreserved: false }],
        },
      }),
    ),
    update(
      Buffer.concat([origin, asPath, nextHop, hex('c0 08 04 00000001 c0 20 0c 000000010000000200000003')]),
    ),
    encodeMessage(
      makeUpdate({
        attributes: {
          origin: 0,
          asPath: [],
          mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: ['2001:db8::/64'] },
        },
      }),
    ),
    encodeMessage({ type: 'route-refresh', afi: 1, subtype: 0, safi: 1 }),
    encodeMessage({ type: 'notification', code: 6, subcode: 4, data: Buffer.alloc(0) }),
  ];
  let runs = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 4 }),
      (si, flips, fixLength, truncate) => {
        const b = Buffer.from(seeds[si]!);
        for (const [pos, val] of flips) b[19 + (pos % Math.max(1, b.length - 19))] = val;
        const cut = truncate > 0 ? b.subarray(0, Math.max(19, b.length - truncate)) : b;
        if (fixLength) cut.writeUInt16BE(cut.length, 16);
        for (const ctx of [ctx4, ctx2, { fourOctetAs: true, ibgp: true }]) fuzzOne(cut, ctx);
        runs++;
        return true;
      },
    ),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 5 }), (body, type) => {
      fuzzOne(msg(type, Buffer.from(body)), ctx4);
      return true;
    }),
    { numRuns: 3000 },
  );
  t.ok(runs >= 5000);
});

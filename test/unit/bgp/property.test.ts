// Property tests (fast-check): whatever bytes arrive, the decoder and the Framer throw nothing but BgpError;
// and encode∘decode is the identity on generated valid messages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  Afi,
  AsPathSegmentType,
  BgpError,
  Framer,
  MessageType,
  decodeMessage,
  encodeMessage,
  ipv4Prefixes,
  ipv6Prefixes,
  makeContext,
  type BgpMessage,
  type Capability,
  type CodecContext,
  type OpenMessage,
  type PathAttribute,
  type UpdateMessage,
} from '../../../src/bgp/index.js';
import * as W from '../../helpers/wire-builder.js';
import { norm } from './codec-helpers.js';

const contexts: CodecContext[] = [makeContext({ as4: false }), makeContext({ as4: true }), makeContext({ as4: true, extendedMessage: true })];
const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);

/** Valid messages to mutate: the builder's, plus every captured fixture (test/fixtures/bgp). */
function seeds(): Uint8Array[] {
  const out = [
    W.keepalive(),
    W.notification(6, 2, [3, 97, 98, 99]),
    W.routeRefresh(2, 1, 1),
    W.open(23456, 90, '1.2.3.4', [W.param(2, W.cat(W.capMp(1, 1), W.capMp(2, 1), W.cap(2), W.capAs4(4200000000), W.cap(64, [0x80, 120, 0, 1, 1, 0x80]), W.cap(73, [1, 97, 0])))]),
    W.update(W.prefixes(['10.0.0.0/8']), W.cat(W.origin(0), W.asPath([65001, 65002]), W.nextHop('1.1.1.1'), W.med(5), W.communities([1, 2]), W.largeCommunities([[1, 2, 3]]), W.attr(0xc0, 16, [0, 2, 0, 1, 0, 0, 0, 1]), W.attr(0xc0, 7, [0, 0, 0, 1, 1, 1, 1, 1])), W.prefixes(['198.18.0.1/32', '192.0.2.0/24'])),
    W.update([], W.cat(W.origin(0), W.asPath([1]), W.mpReach(2, 1, [...W.ip6('2001:db8::1'), ...W.ip6('fe80::1')], W.prefixes(['2001:db8::/32', '2001:db8:1::1/128'])), W.mpUnreach(2, 1, W.prefixes(['2001:db8:2::/48']))), []),
  ].map(W.bytes);
  const dir = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/bgp');
  try {
    for (const f of readdirSync(dir)) if (f.endsWith('.bin')) out.push(new Uint8Array(readFileSync(join(dir, f))));
  } catch {
    // no captured fixtures in this checkout: the builder's seeds still run
  }
  return out;
}
const SEEDS = seeds();

/** Runs `fn` and fails on anything thrown that is not a BgpError. */
function onlyBgpError(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof BgpError)) throw e;
    assert.ok(e.code >= 1 && e.code <= 7, `code ${e.code}`);
    assert.ok(e.data instanceof Uint8Array);
    assert.ok(['session-reset', 'treat-as-withdraw', 'attribute-discard'].includes(e.action));
    if (e.action === 'treat-as-withdraw') assert.ok(e.update !== undefined);
  }
}

/** A message whose header is right, so the body reaches the type's decoder. */
const withHeader = (type: number, body: Uint8Array) => W.bytes(W.message(type, Array.from(body)));

/** A seed with a few bytes changed, inserted or removed; the length field is repaired half of the time. */
const mutated = fc
  .record({
    seed: fc.integer({ min: 0, max: SEEDS.length - 1 }),
    edits: fc.array(fc.record({ at: fc.nat(), op: fc.integer({ min: 0, max: 3 }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
    fix: fc.boolean(),
  })
  .map(({ seed, edits, fix }) => {
    const b = Array.from(SEEDS[seed]!);
    for (const e of edits) {
      const at = 16 + (e.at % Math.max(1, b.length - 16));
      if (e.op === 0) b[at] = e.value;
      else if (e.op === 1) b.splice(at, 0, e.value);
      else if (e.op === 2) b.splice(at, 1);
      else b[at] = (b[at] ?? 0) ^ (1 << (e.value & 7));
    }
    if (fix && b.length >= 18) {
      b[16] = (b.length >>> 8) & 0xff;
      b[17] = b.length & 0xff;
    }
    return Uint8Array.from(b);
  });

describe('robustness: decodeMessage throws only BgpError', () => {
  it('on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(2), (b, c) => onlyBgpError(() => decodeMessage(b, contexts[c]!))), { numRuns: RUNS });
  });
  it('on random bodies behind a valid header, for every type', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.uint8Array({ maxLength: 400 }), fc.nat(2), (t, body, c) =>
        onlyBgpError(() => decodeMessage(withHeader(t, body), contexts[c]!)),
      ),
      { numRuns: RUNS },
    );
  });
  it('on mutated valid messages (builder seeds and captured fixtures)', () => {
    assert.ok(SEEDS.length > 0);
    fc.assert(fc.property(mutated, fc.nat(2), (b, c) => onlyBgpError(() => decodeMessage(b, contexts[c]!))), { numRuns: RUNS * 3 });
  });
  it('and whatever decodes re-encodes to something that decodes the same', () => {
    fc.assert(
      fc.property(mutated, fc.nat(2), (b, c) => {
        const ctx = contexts[c]!;
        let m: BgpMessage;
        try {
          m = decodeMessage(b, ctx);
        } catch (e) {
          if (e instanceof BgpError) return;
          throw e;
        }
        // What was discarded is gone from the re-encoded message, so it is not listed again.
        const { discarded: _, ...kept } = m as UpdateMessage;
        assert.deepEqual(norm(decodeMessage(encodeMessage(m, ctx), ctx)), norm(m.type === MessageType.Update ? kept : m));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('robustness: the Framer throws only BgpError', () => {
  it('on random streams in random chunks, and every message it delivers has a consistent length', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(mutated, fc.uint8Array({ maxLength: 64 }), fc.constant(W.bytes(W.keepalive()))), { maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 20 }),
        (parts, cuts) => {
          const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let o = 0;
          for (const p of parts) {
            stream.set(p, o);
            o += p.length;
          }
          const f = new Framer();
          onlyBgpError(() => {
            let p = 0;
            for (const c of [...cuts, stream.length]) {
              f.push(stream.subarray(p, p + c), (m) => {
                assert.equal((m[16]! << 8) | m[17]!, m.length);
                onlyBgpError(() => decodeMessage(m, contexts[1]!));
              });
              p += c;
              if (p >= stream.length) break;
            }
          });
        },
      ),
      { numRuns: RUNS },
    );
  });
});

// ---- generators of valid messages ------------------------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const v4list = fc.array(fc.record({ a: u32, l: fc.integer({ min: 0, max: 32 }) }), { maxLength: 40 }).map((xs) =>
  ipv4Prefixes(xs.map((x) => x.a), xs.map((x) => x.l)),
);
const v6list = fc.array(fc.record({ a: fc.uint8Array({ minLength: 16, maxLength: 16 }), l: fc.integer({ min: 0, max: 128 }) }), { maxLength: 20 }).map((xs) => {
  const addrs = new Uint8Array(16 * xs.length);
  xs.forEach((x, i) => addrs.set(x.a, 16 * i));
  return ipv6Prefixes(addrs, xs.map((x) => x.l));
});
const segs = (asn: fc.Arbitrary<number>, confed: boolean) =>
  fc.array(fc.record({ type: fc.integer({ min: AsPathSegmentType.AsSet, max: confed ? AsPathSegmentType.AsConfedSet : AsPathSegmentType.AsSequence }), asns: fc.array(asn, { minLength: 1, maxLength: 8 }) }), { maxLength: 4 });
const partial = fc.constantFrom(0, 0x20);
const KNOWN = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]);

/** Optional attributes other than the mandatory three and MP_*, at most one per kind. */
function optionalAttrs(as4: boolean): fc.Arbitrary<PathAttribute[]> {
  const asn = as4 ? u32 : fc.integer({ min: 0, max: 0xffff });
  const pick: fc.Arbitrary<PathAttribute>[] = [
    u32.map((med) => ({ kind: 'med', flags: 0x80, med })),
    u32.map((localPref) => ({ kind: 'local-pref', flags: 0x40, localPref })),
    fc.constant({ kind: 'atomic-aggregate', flags: 0x40 }),
    fc.record({ asn, address: u32, p: partial }).map(({ asn, address, p }) => ({ kind: 'aggregator', flags: 0xc0 | p, asn, address })),
    fc.record({ c: fc.array(u32, { minLength: 1, maxLength: 10 }), p: partial }).map(({ c, p }) => ({ kind: 'communities', flags: 0xc0 | p, communities: c })),
    fc.uint8Array({ minLength: 1, maxLength: 5 }).map((x) => {
      const value = new Uint8Array(x.length * 8);
      value.set(x);
      return { kind: 'extended-communities', flags: 0xc0, value };
    }),
    segs(u32, false).filter((s) => s.length > 0).map((segments) => ({ kind: 'as4-path', flags: 0xc0, segments })),
    fc.record({ asn: u32, address: u32 }).map(({ asn, address }) => ({ kind: 'as4-aggregator', flags: 0xc0, asn, address })),
    fc.array(fc.record({ globalAdmin: u32, localData1: u32, localData2: u32 }), { minLength: 1, maxLength: 4 }).map((communities) => ({ kind: 'large-communities', flags: 0xc0, communities })),
    fc.record({ code: fc.integer({ min: 19, max: 255 }).filter((c) => !KNOWN.has(c)), t: fc.constantFrom(0x80, 0xc0, 0xe0), value: fc.uint8Array({ maxLength: 300 }) }).map(({ code, t, value }) => ({ kind: 'unknown', code, flags: t, value })),
  ];
  return fc.subarray(pick.map((_, i) => i)).chain((idx) => (idx.length === 0 ? fc.constant([]) : fc.tuple(...idx.map((i) => pick[i]!))));
}

function updates(as4: boolean): fc.Arbitrary<UpdateMessage> {
  const asn = as4 ? u32 : fc.integer({ min: 0, max: 0xffff });
  return fc
    .record({
      withdrawn: v4list,
      nlri: v4list,
      origin: fc.integer({ min: 0, max: 2 }),
      asPath: segs(asn, true),
      asPathExt: fc.boolean(),
      nextHop: u32,
      extra: optionalAttrs(as4),
      reach: fc.option(fc.record({ nlri: v6list, nh: fc.uint8Array({ minLength: 16, maxLength: 16 }), ll: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 })) })),
      unreach: fc.option(v6list),
      shuffle: fc.nat(),
    })
    .map((r) => {
      const attrs: PathAttribute[] = [];
      const announces = r.nlri.count > 0 || (r.reach !== null && r.reach.nlri.count > 0);
      if (announces || r.shuffle % 3 === 0) {
        attrs.push({ kind: 'origin', flags: 0x40, origin: r.origin });
        attrs.push({ kind: 'as-path', flags: r.asPathExt ? 0x50 : 0x40, segments: r.asPath });
        attrs.push({ kind: 'next-hop', flags: 0x40, nextHop: r.nextHop });
      }
      attrs.push(...r.extra);
      if (r.reach !== null) {
        const nh = r.reach.ll === null ? r.reach.nh : new Uint8Array([...r.reach.nh, ...r.reach.ll]);
        attrs.push({ kind: 'mp-reach', flags: 0x80, afi: Afi.Ipv6, safi: 1, nextHop: nh, nlri: r.reach.nlri });
      }
      if (r.unreach !== null) attrs.push({ kind: 'mp-unreach', flags: 0x80, afi: Afi.Ipv6, safi: 1, withdrawn: r.unreach });
      // A deterministic rotation so attribute order varies.
      const k = attrs.length === 0 ? 0 : r.shuffle % attrs.length;
      return { type: MessageType.Update, withdrawn: r.withdrawn, attributes: [...attrs.slice(k), ...attrs.slice(0, k)], nlri: r.nlri };
    });
}

const capabilities: fc.Arbitrary<Capability[]> = fc.array(
  fc.oneof(
    fc.record({ afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }) }).map(({ afi, safi }) => ({ kind: 'multiprotocol', code: 1, afi, safi }) as Capability),
    fc.constantFrom<Capability>({ kind: 'route-refresh', code: 2 }, { kind: 'extended-message', code: 6 }, { kind: 'enhanced-route-refresh', code: 70 }),
    u32.map((asn) => ({ kind: 'four-octet-as', code: 65, asn }) as Capability),
    fc
      .record({ flags: fc.integer({ min: 0, max: 15 }), restartTime: fc.integer({ min: 0, max: 4095 }), families: fc.array(fc.record({ afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }), flags: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }) })
      .map((g) => ({ kind: 'graceful-restart', code: 64, ...g }) as Capability),
    fc.array(fc.record({ afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }), mode: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 4 }).map((families) => ({ kind: 'add-path', code: 69, families }) as Capability),
    fc.record({ hostname: fc.string({ maxLength: 30 }), domainName: fc.string({ maxLength: 30 }) }).map((f) => ({ kind: 'fqdn', code: 73, ...f }) as Capability),
    fc.record({ code: fc.integer({ min: 0, max: 255 }).filter((c) => ![1, 2, 6, 64, 65, 69, 70, 73].includes(c)), value: fc.uint8Array({ maxLength: 40 }) }).map((u) => ({ kind: 'unknown', ...u }) as Capability),
  ),
  { maxLength: 12 },
);

const opens: fc.Arbitrary<OpenMessage> = fc
  .record({
    myAs: fc.integer({ min: 0, max: 0xffff }),
    holdTime: fc.integer({ min: 0, max: 0xffff }).filter((h) => h !== 1 && h !== 2),
    bgpIdentifier: fc.integer({ min: 1, max: 0xffffffff }),
    capabilities,
    split: fc.boolean(),
    extendedParameters: fc.boolean(),
  })
  .map((r) => {
    const m: OpenMessage = { type: MessageType.Open, version: 4, myAs: r.myAs, holdTime: r.holdTime, bgpIdentifier: r.bgpIdentifier, capabilities: r.capabilities, parameters: [] };
    const layout = r.split && r.capabilities.length > 1 ? r.capabilities.map(() => 1) : undefined;
    return { ...m, ...(layout ? { parameterLayout: layout } : {}), ...(r.extendedParameters ? { extendedParameters: true } : {}) };
  })
  .filter((m) => m.capabilities.every((c) => c.kind !== 'fqdn' || Buffer.byteLength(c.hostname) + Buffer.byteLength(c.domainName) <= 253));

const others: fc.Arbitrary<BgpMessage> = fc.oneof(
  fc.constant<BgpMessage>({ type: MessageType.Keepalive }),
  fc.record({ code: fc.integer({ min: 1, max: 7 }), subcode: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 100 }) }).map((n) => ({ type: MessageType.Notification, ...n }) as BgpMessage),
  fc.record({ afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }), subtype: fc.integer({ min: 0, max: 255 }) }).map((r) => ({ type: MessageType.RouteRefresh, ...r }) as BgpMessage),
);

describe('encode∘decode is the identity on generated messages', () => {
  for (const ctx of contexts) {
    it(`UPDATE (as4=${ctx.as4}, max=${ctx.maxMessageLength})`, () => {
      fc.assert(
        fc.property(updates(ctx.as4), (m) => {
          let wire: Uint8Array;
          try {
            wire = encodeMessage(m, ctx);
          } catch (e) {
            // Too long for this context: the encoder must say so, nothing else.
            assert.ok(e instanceof RangeError && /exceeds the maximum/.test(e.message), String(e));
            return;
          }
          const d = decodeMessage(wire, ctx);
          assert.deepEqual(norm(d), norm(m));
          assert.equal(W.hex(encodeMessage(d, ctx)), W.hex(wire));
        }),
        { numRuns: Math.ceil(RUNS / 3) },
      );
    });
  }
  it('OPEN', () => {
    fc.assert(
      fc.property(opens, (m) => {
        const ctx = contexts[0]!;
        const wire = encodeMessage(m, ctx);
        const d = decodeMessage(wire, ctx) as OpenMessage;
        const expected = m.extendedParameters === undefined && wire[28] === 255 ? { ...m, extendedParameters: true } : m;
        assert.deepEqual(norm(d), norm(expected));
        assert.equal(W.hex(encodeMessage(d, ctx)), W.hex(wire));
      }),
      { numRuns: RUNS },
    );
  });
  it('KEEPALIVE, NOTIFICATION, ROUTE-REFRESH', () => {
    fc.assert(
      fc.property(others, (m) => {
        const ctx = contexts[1]!;
        const wire = encodeMessage(m, ctx);
        assert.deepEqual(norm(decodeMessage(wire, ctx)), norm(m));
      }),
      { numRuns: RUNS },
    );
  });
});

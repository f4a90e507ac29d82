// Every error the decoder raises, with its exact NOTIFICATION code/subcode/data (RFC 4271 §6) and RFC 7606
// approach. Inputs come from the independent wire builder.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BgpError,
  decodeMessage,
  isStronger,
  makeContext,
  prefixStrings,
  prefixesToWithdraw,
  type CodecContext,
  type ErrorAction,
  type UpdateMessage,
} from '../../../src/bgp/index.js';
import * as W from '../../helpers/wire-builder.js';

const as4 = makeContext({ as4: true });
const as2 = makeContext({ as4: false });
const ext = makeContext({ as4: true, extendedMessage: true });

interface Case {
  name: string;
  wire: number[];
  ctx?: CodecContext;
  code: number;
  subcode: number;
  data?: number[];
  action: ErrorAction;
  /** For treat-as-withdraw: the prefixes the caller must withdraw. */
  withdraw?: string[];
}

/** Decodes and returns the BgpError, failing if anything else happens. */
function decodeError(wire: number[] | Uint8Array, ctx: CodecContext = as4): BgpError {
  try {
    decodeMessage(wire instanceof Uint8Array ? wire : W.bytes(wire), ctx);
  } catch (e) {
    assert.ok(e instanceof BgpError, `threw ${String(e)}`);
    return e;
  }
  assert.fail('decoded without an error');
}

const base = W.cat(W.origin(0), W.asPath([65002]), W.nextHop('192.0.2.2'));
const nlri = W.prefixes(['198.18.0.1/32', '198.18.0.2/32']);
const nlriText = ['198.18.0.1/32', '198.18.0.2/32'];
/** An UPDATE announcing `nlri` with the base attributes plus `extra`. */
const withAttr = (...extra: number[][]) => W.update([], W.cat(base, ...extra), nlri);
const header = (length: number, type: number, bodyLen = length - 19) => W.cat(new Array(16).fill(0xff), W.u16(length), [type], new Array(Math.max(0, bodyLen)).fill(0));
const openBody = (version: number, hold: number, id: number[], opt: number[]) => W.cat([version], W.u16(65001), W.u16(hold), id, opt);
const rawOpen = (body: number[]) => W.message(1, body);

const cases: Case[] = [
  // ---- message header (RFC 4271 §6.1) ----
  { name: 'marker not all ones', wire: W.cat([0xfe], W.keepalive().slice(1)), code: 1, subcode: 1, data: [], action: 'session-reset' },
  { name: 'fewer octets than a header', wire: W.keepalive().slice(0, 18), code: 1, subcode: 2, data: W.u16(18), action: 'session-reset' },
  { name: 'length field disagrees with the octets given', wire: W.cat(W.keepalive().slice(0, 16), W.u16(20), [4]), code: 1, subcode: 2, data: W.u16(20), action: 'session-reset' },
  { name: 'length field below 19', wire: W.cat(W.keepalive().slice(0, 16), W.u16(18), [4]), code: 1, subcode: 2, data: W.u16(18), action: 'session-reset' },
  { name: 'length above 4096 without extended messages', wire: header(4097, 2), code: 1, subcode: 2, data: W.u16(4097), action: 'session-reset' },
  { name: 'unknown type', wire: W.message(6, []), code: 1, subcode: 3, data: [6], action: 'session-reset' },
  { name: 'type 0', wire: W.message(0, []), code: 1, subcode: 3, data: [0], action: 'session-reset' },
  { name: 'KEEPALIVE with a body', wire: W.message(4, [0]), code: 1, subcode: 2, data: W.u16(20), action: 'session-reset' },
  { name: 'OPEN shorter than 29', wire: W.message(1, new Array(9).fill(0)), code: 1, subcode: 2, data: W.u16(28), action: 'session-reset' },
  { name: 'OPEN above 4096 even with extended messages (RFC 8654)', wire: header(4097, 1), ctx: ext, code: 1, subcode: 2, data: W.u16(4097), action: 'session-reset' },
  { name: 'UPDATE shorter than 23', wire: W.message(2, [0, 0, 0]), code: 1, subcode: 2, data: W.u16(22), action: 'session-reset' },
  { name: 'NOTIFICATION shorter than 21', wire: W.message(3, [6]), code: 1, subcode: 2, data: W.u16(20), action: 'session-reset' },
  { name: 'ROUTE-REFRESH of the wrong length', wire: W.message(5, [0, 1, 0, 1, 0]), code: 1, subcode: 2, data: W.u16(24), action: 'session-reset' },
  { name: 'BoRR of the wrong length (RFC 7313 §5: data is the message)', wire: W.message(5, [0, 1, 1, 1, 0]), code: 7, subcode: 1, data: W.message(5, [0, 1, 1, 1, 0]), action: 'session-reset' },
  { name: 'EoRR of the wrong length', wire: W.message(5, [0, 1, 2, 1, 9, 9]), code: 7, subcode: 1, data: W.message(5, [0, 1, 2, 1, 9, 9]), action: 'session-reset' },

  // ---- OPEN (RFC 4271 §6.2, RFC 5492, RFC 9072) ----
  { name: 'version 3 (data: the version we support)', wire: rawOpen(openBody(3, 90, [1, 2, 3, 4], [0])), code: 2, subcode: 1, data: [0, 4], action: 'session-reset' },
  { name: 'hold time 1', wire: rawOpen(openBody(4, 1, [1, 2, 3, 4], [0])), code: 2, subcode: 6, data: [], action: 'session-reset' },
  { name: 'hold time 2', wire: rawOpen(openBody(4, 2, [1, 2, 3, 4], [0])), code: 2, subcode: 6, data: [], action: 'session-reset' },
  { name: 'BGP identifier 0', wire: rawOpen(openBody(4, 90, [0, 0, 0, 0], [0])), code: 2, subcode: 3, data: [], action: 'session-reset' },
  { name: 'optional parameters length too long', wire: rawOpen(openBody(4, 90, [1, 2, 3, 4], [3, 2, 0])), code: 2, subcode: 0, data: [], action: 'session-reset' },
  { name: 'optional parameters length too short', wire: rawOpen(openBody(4, 90, [1, 2, 3, 4], [0, 2, 0])), code: 2, subcode: 0, data: [], action: 'session-reset' },
  { name: 'optional parameter overruns', wire: rawOpen(openBody(4, 90, [1, 2, 3, 4], [2, 2, 5])), code: 2, subcode: 0, data: [], action: 'session-reset' },
  { name: 'truncated parameter header', wire: rawOpen(openBody(4, 90, [1, 2, 3, 4], [1, 2])), code: 2, subcode: 0, data: [], action: 'session-reset' },
  { name: 'capability overruns its parameter', wire: rawOpen(openBody(4, 90, [1, 2, 3, 4], [4, 2, 2, 65, 4])), code: 2, subcode: 0, data: [65, 4], action: 'session-reset' },
  { name: 'truncated capability header', wire: rawOpen(openBody(4, 90, [1, 2, 3, 4], [3, 2, 1, 65])), code: 2, subcode: 0, data: [65], action: 'session-reset' },
  { name: 'MP capability of length 3', wire: rawOpen(openBody(4, 90, [1, 2, 3, 4], [7, 2, 5, 1, 3, 0, 1, 0])), code: 2, subcode: 0, data: [1, 3, 0, 1, 0], action: 'session-reset' },
  { name: '4-octet AS capability of length 2', wire: W.open(1, 90, '1.2.3.4', [W.param(2, W.cap(65, [0, 1]))]), code: 2, subcode: 0, data: [65, 2, 0, 1], action: 'session-reset' },
  { name: 'route refresh capability with a value', wire: W.open(1, 90, '1.2.3.4', [W.param(2, W.cap(2, [0]))]), code: 2, subcode: 0, data: [2, 1, 0], action: 'session-reset' },
  { name: 'graceful restart of length 3', wire: W.open(1, 90, '1.2.3.4', [W.param(2, W.cap(64, [0, 90, 1]))]), code: 2, subcode: 0, data: [64, 3, 0, 90, 1], action: 'session-reset' },
  { name: 'FQDN whose lengths disagree', wire: W.open(1, 90, '1.2.3.4', [W.param(2, W.cap(73, [1, 97, 1]))]), code: 2, subcode: 0, data: [73, 3, 1, 97, 1], action: 'session-reset' },
  { name: 'RFC 9072 form cut short', wire: rawOpen(openBody(4, 90, [1, 2, 3, 4], [255, 255])), code: 2, subcode: 0, data: [], action: 'session-reset' },

  // ---- UPDATE framing (RFC 4271 §6.3, RFC 7606 §4, §5.3) ----
  { name: 'withdrawn routes length overruns the message', wire: W.message(2, [0, 5, 0, 0]), code: 3, subcode: 1, data: [], action: 'session-reset' },
  { name: 'total attribute length overruns the message', wire: W.message(2, [0, 0, 0, 9, 0x40, 1, 1, 0]), code: 3, subcode: 1, data: [], action: 'session-reset' },
  { name: 'withdrawn prefix longer than 32 bits', wire: W.update([33, 1, 2, 3, 4, 5], [], []), code: 3, subcode: 10, data: [], action: 'session-reset' },
  { name: 'withdrawn prefix overruns its field', wire: W.update([24, 10, 0], [], []), code: 3, subcode: 10, data: [], action: 'session-reset' },
  { name: 'NLRI prefix longer than 32 bits', wire: W.update([], base, [40, 1, 2, 3, 4, 5]), code: 3, subcode: 10, data: [], action: 'session-reset' },
  { name: 'NLRI overruns the message', wire: W.update([], base, [32, 10, 0, 0]), code: 3, subcode: 10, data: [], action: 'session-reset' },
  { name: 'attribute overruns the attribute field (RFC 7606 §4)', wire: W.update([], W.cat(base, [0x40, 5, 4, 0, 0]), nlri), code: 3, subcode: 1, data: [], action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'too few octets left for an attribute header (RFC 7606 §4)', wire: W.update([], W.cat(base, [0x40, 5]), nlri), code: 3, subcode: 1, data: [], action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'extended-length header cut short', wire: W.update([], W.cat(base, [0x50, 5, 0]), nlri), code: 3, subcode: 1, data: [], action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'unrecognised well-known attribute', wire: withAttr(W.attr(0x40, 99, [1])), code: 3, subcode: 2, data: W.attr(0x40, 99, [1]), action: 'session-reset' },

  // ---- per attribute (RFC 7606 §7, RFC 6793 §6, RFC 8092 §6) ----
  { name: 'ORIGIN flags say optional', wire: W.update([], W.cat(W.attr(0xc0, 1, [0]), W.asPath([1]), W.nextHop('1.1.1.1')), nlri), code: 3, subcode: 4, data: W.attr(0xc0, 1, [0]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'ORIGIN of length 2', wire: W.update([], W.cat(W.attr(0x40, 1, [0, 0]), W.asPath([1]), W.nextHop('1.1.1.1')), nlri), code: 3, subcode: 5, data: W.attr(0x40, 1, [0, 0]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'ORIGIN value 3', wire: W.update([], W.cat(W.attr(0x40, 1, [3]), W.asPath([1]), W.nextHop('1.1.1.1')), nlri), code: 3, subcode: 6, data: W.attr(0x40, 1, [3]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'AS_PATH segment of unknown type', wire: W.update([], W.cat(W.origin(0), W.attr(0x40, 2, [5, 1, 0, 0, 0, 1]), W.nextHop('1.1.1.1')), nlri), code: 3, subcode: 11, data: [], action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'AS_PATH segment of zero ASNs', wire: W.update([], W.cat(W.origin(0), W.attr(0x40, 2, [2, 0]), W.nextHop('1.1.1.1')), nlri), code: 3, subcode: 11, data: [], action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'AS_PATH segment overruns', wire: W.update([], W.cat(W.origin(0), W.attr(0x40, 2, [2, 2, 0, 0, 0, 1]), W.nextHop('1.1.1.1')), nlri), code: 3, subcode: 11, data: [], action: 'treat-as-withdraw', withdraw: nlriText },
  { name: '2-octet AS_PATH read as 4-octet', wire: W.update([], W.cat(W.origin(0), W.asPath([1, 2, 3], 2), W.nextHop('1.1.1.1')), nlri), code: 3, subcode: 11, data: [], action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'AS_PATH flags say optional', wire: W.update([], W.cat(W.origin(0), W.attr(0xc0, 2, []), W.nextHop('1.1.1.1')), nlri), code: 3, subcode: 4, data: W.attr(0xc0, 2, []), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'NEXT_HOP of length 5', wire: W.update([], W.cat(W.origin(0), W.asPath([1]), W.attr(0x40, 3, [1, 1, 1, 1, 1])), nlri), code: 3, subcode: 5, data: W.attr(0x40, 3, [1, 1, 1, 1, 1]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'MED of length 3', wire: withAttr(W.attr(0x80, 4, [0, 0, 1])), code: 3, subcode: 5, data: W.attr(0x80, 4, [0, 0, 1]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'MED flagged well-known', wire: withAttr(W.attr(0x40, 4, [0, 0, 0, 1])), code: 3, subcode: 4, data: W.attr(0x40, 4, [0, 0, 0, 1]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'LOCAL_PREF of length 2', wire: withAttr(W.attr(0x40, 5, [0, 1])), code: 3, subcode: 5, data: W.attr(0x40, 5, [0, 1]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'COMMUNITIES of length 5', wire: withAttr(W.attr(0xc0, 8, [0, 0, 0, 1, 0])), code: 3, subcode: 5, data: W.attr(0xc0, 8, [0, 0, 0, 1, 0]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'COMMUNITIES of length 0', wire: withAttr(W.attr(0xc0, 8, [])), code: 3, subcode: 5, data: W.attr(0xc0, 8, []), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'COMMUNITIES flagged non-transitive', wire: withAttr(W.attr(0x80, 8, [0, 0, 0, 1])), code: 3, subcode: 4, data: W.attr(0x80, 8, [0, 0, 0, 1]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'ORIGINATOR_ID of length 3', wire: withAttr(W.attr(0x80, 9, [1, 2, 3])), code: 3, subcode: 5, data: W.attr(0x80, 9, [1, 2, 3]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'CLUSTER_LIST of length 0', wire: withAttr(W.attr(0x80, 10, [])), code: 3, subcode: 5, data: W.attr(0x80, 10, []), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'EXTENDED_COMMUNITIES of length 7', wire: withAttr(W.attr(0xc0, 16, [0, 2, 0, 0, 0, 0, 1])), code: 3, subcode: 5, data: W.attr(0xc0, 16, [0, 2, 0, 0, 0, 0, 1]), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'LARGE_COMMUNITIES of length 11', wire: withAttr(W.attr(0xc0, 32, new Array(11).fill(1))), code: 3, subcode: 5, data: W.attr(0xc0, 32, new Array(11).fill(1)), action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'MP_REACH_NLRI of length 4', wire: withAttr(W.attr(0x80, 14, [0, 2, 1, 0])), code: 3, subcode: 9, data: W.attr(0x80, 14, [0, 2, 1, 0]), action: 'session-reset' },
  { name: 'MP_REACH_NLRI next hop overruns', wire: withAttr(W.attr(0x80, 14, [0, 2, 1, 16, 1, 2])), code: 3, subcode: 9, data: W.attr(0x80, 14, [0, 2, 1, 16, 1, 2]), action: 'session-reset' },
  { name: 'MP_REACH_NLRI IPv6 next hop of 4 octets', wire: withAttr(W.mpReach(2, 1, [1, 2, 3, 4], [])), code: 3, subcode: 9, data: W.mpReach(2, 1, [1, 2, 3, 4], []), action: 'session-reset' },
  { name: 'MP_REACH_NLRI prefix longer than 128 bits', wire: withAttr(W.mpReach(2, 1, W.ip6('::1'), [129, ...new Array(17).fill(0)])), code: 3, subcode: 9, data: W.mpReach(2, 1, W.ip6('::1'), [129, ...new Array(17).fill(0)]), action: 'session-reset' },
  { name: 'MP_REACH_NLRI flagged transitive', wire: withAttr(W.mpReach(2, 1, W.ip6('::1'), [], 0xc0)), code: 3, subcode: 4, data: W.mpReach(2, 1, W.ip6('::1'), [], 0xc0), action: 'session-reset' },
  { name: 'MP_UNREACH_NLRI of length 2', wire: W.update([], W.attr(0x80, 15, [0, 2]), []), code: 3, subcode: 9, data: W.attr(0x80, 15, [0, 2]), action: 'session-reset' },
  { name: 'MP_UNREACH_NLRI prefix overruns', wire: W.update([], W.mpUnreach(2, 1, [64, 0x20, 1]), []), code: 3, subcode: 9, data: W.mpUnreach(2, 1, [64, 0x20, 1]), action: 'session-reset' },
  { name: 'MP_REACH_NLRI twice (RFC 7606 §3(g))', wire: withAttr(W.mpReach(2, 1, W.ip6('::1'), []), W.mpReach(2, 1, W.ip6('::1'), [])), code: 3, subcode: 1, data: [], action: 'session-reset' },
  { name: 'MP_UNREACH_NLRI twice', wire: W.update([], W.cat(W.mpUnreach(2, 1, []), W.mpUnreach(2, 1, [])), []), code: 3, subcode: 1, data: [], action: 'session-reset' },

  // ---- missing well-known attributes (RFC 4271 §6.3, RFC 7606 §3(d)); data is the missing type code ----
  { name: 'NLRI without ORIGIN', wire: W.update([], W.cat(W.asPath([1]), W.nextHop('1.1.1.1')), nlri), code: 3, subcode: 3, data: [1], action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'NLRI without AS_PATH', wire: W.update([], W.cat(W.origin(0), W.nextHop('1.1.1.1')), nlri), code: 3, subcode: 3, data: [2], action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'NLRI without NEXT_HOP', wire: W.update([], W.cat(W.origin(0), W.asPath([1])), nlri), code: 3, subcode: 3, data: [3], action: 'treat-as-withdraw', withdraw: nlriText },
  { name: 'NLRI without any attribute', wire: W.update(W.prefixes(['10.0.0.0/8']), [], nlri), code: 3, subcode: 3, data: [1], action: 'treat-as-withdraw', withdraw: ['10.0.0.0/8', ...nlriText] },
  {
    name: 'MP_REACH_NLRI without AS_PATH',
    wire: W.update([], W.cat(W.origin(0), W.mpReach(2, 1, W.ip6('2001:db8::1'), W.prefixes(['2001:db8:1::/48']))), []),
    code: 3,
    subcode: 3,
    data: [2],
    action: 'treat-as-withdraw',
    withdraw: ['2001:db8:1::/48'],
  },
];

describe('decode errors', () => {
  assert.ok(cases.length > 0);
  for (const c of cases) {
    it(c.name, () => {
      const e = decodeError(c.wire, c.ctx ?? as4);
      assert.deepEqual(
        { code: e.code, subcode: e.subcode, action: e.action },
        { code: c.code, subcode: c.subcode, action: c.action },
        e.message,
      );
      if (c.data !== undefined) assert.equal(W.hex(e.data), W.hex(c.data), 'NOTIFICATION data');
      if (c.action === 'treat-as-withdraw') {
        assert.ok(e.update !== undefined, 'treat-as-withdraw carries the update');
        assert.deepEqual(prefixesToWithdraw(e).flatMap(prefixStrings).sort(), [...(c.withdraw ?? [])].sort());
      } else {
        assert.equal(e.update, undefined);
      }
    });
  }
});

describe('attribute discard (RFC 7606 §2)', () => {
  const discards: [string, number[], CodecContext][] = [
    ['ATOMIC_AGGREGATE of length 1', W.attr(0x40, 6, [0]), as4],
    ['AGGREGATOR of length 6 with 4-octet ASNs', W.attr(0xc0, 7, [0, 1, 1, 2, 3, 4]), as4],
    ['AGGREGATOR of length 8 with 2-octet ASNs', W.attr(0xc0, 7, [0, 0, 0, 1, 1, 2, 3, 4]), as2],
    ['AGGREGATOR flagged non-transitive', W.attr(0x80, 7, [0, 0, 0, 1, 1, 2, 3, 4]), as4],
    ['AS4_PATH with a confederation segment (RFC 6793 §6)', W.attr(0xc0, 17, [3, 1, 0, 0, 0, 1]), as4],
    ['AS4_PATH overrunning its segment', W.attr(0xc0, 17, [2, 2, 0, 0, 0, 1]), as4],
    ['AS4_AGGREGATOR of length 6', W.attr(0xc0, 18, [0, 1, 1, 2, 3, 4]), as4],
  ];
  for (const [name, bad, ctx] of discards) {
    it(`${name}: dropped, the rest of the UPDATE stands`, () => {
      const path = ctx.as4 ? W.asPath([65002]) : W.asPath([65002], 2);
      const m = decodeMessage(W.bytes(W.update([], W.cat(W.origin(0), path, W.nextHop('1.1.1.1'), bad), nlri)), ctx) as UpdateMessage;
      assert.deepEqual(m.attributes.map((a) => a.kind), ['origin', 'as-path', 'next-hop']);
      assert.equal(m.discarded?.length, 1);
      const e = m.discarded![0]!;
      assert.equal(e.action, 'attribute-discard');
      assert.equal(e.code, 3);
      assert.ok([4, 5, 11].includes(e.subcode));
      assert.deepEqual(prefixStrings(m.nlri), nlriText);
    });
  }
});

describe('several problems in one UPDATE (RFC 7606 §3: the strongest approach wins)', () => {
  it('a discard and a withdraw: treat-as-withdraw, the discard listed on the carried update', () => {
    const e = decodeError(W.update([], W.cat(base, W.attr(0x40, 6, [0]), W.attr(0x80, 4, [1])), nlri));
    assert.equal(e.action, 'treat-as-withdraw');
    assert.equal(e.subcode, 5);
    assert.equal(e.update?.discarded?.length, 1);
  });
  it('a withdraw, then a session reset: session reset', () => {
    const e = decodeError(W.update([], W.cat(W.attr(0x40, 1, [7]), W.asPath([1]), W.nextHop('1.1.1.1'), W.attr(0x40, 99, [])), nlri));
    assert.equal(e.action, 'session-reset');
    assert.equal(e.subcode, 2);
  });
  it('the first of two withdraw errors is reported', () => {
    const e = decodeError(W.update([], W.cat(W.attr(0x40, 1, [7]), W.asPath([1]), W.attr(0x40, 3, [1])), nlri));
    assert.equal(e.subcode, 6);
  });
  it('a repeated attribute other than MP_* is ignored after the first (RFC 7606 §3(g))', () => {
    const m = decodeMessage(W.bytes(W.update([], W.cat(base, W.origin(2), W.med(1), W.med(2)), nlri)), as4) as UpdateMessage;
    assert.deepEqual(m.attributes.map((a) => (a.kind === 'origin' ? `origin ${a.origin}` : a.kind === 'med' ? `med ${a.med}` : a.kind)), ['origin 0', 'as-path', 'next-hop', 'med 1']);
  });
  it('withdrawn routes are part of what treat-as-withdraw withdraws', () => {
    const e = decodeError(W.update(W.prefixes(['10.0.0.0/8']), W.cat(W.attr(0x40, 1, [9]), W.asPath([1]), W.nextHop('1.1.1.1'), W.mpUnreach(2, 1, W.prefixes(['2001:db8::/32']))), nlri));
    assert.deepEqual(prefixesToWithdraw(e).flatMap(prefixStrings).sort(), ['10.0.0.0/8', '198.18.0.1/32', '198.18.0.2/32', '2001:db8::/32']);
  });
});

describe('what is not an error', () => {
  const ok = (w: number[], ctx = as4) => assert.doesNotThrow(() => decodeMessage(W.bytes(w), ctx));
  it('withdrawals with no attributes', () => ok(W.update(W.prefixes(['10.0.0.0/8']), [], [])));
  it('MP_REACH_NLRI without NEXT_HOP (RFC 4760)', () => ok(W.update([], W.cat(W.origin(0), W.asPath([1]), W.mpReach(2, 1, W.ip6('::1'), W.prefixes(['2001:db8::/32']))), [])));
  it('attributes without NLRI need no mandatory set', () => ok(W.update([], W.med(5), [])));
  it('hold time 0 and 3', () => {
    ok(W.open(1, 0, '1.2.3.4', []));
    ok(W.open(1, 3, '1.2.3.4', []));
  });
  it('a 4096-octet UPDATE, and 65535 with extended messages', () => {
    const pad = (n: number) => W.update([], W.attr(0xd0, 200, new Array(n - 27).fill(0)), []);
    ok(pad(4096));
    ok(pad(65535), ext);
  });
  it('unused low flag bits are ignored', () => ok(W.update([], W.cat(W.attr(0x4f, 1, [0]), W.asPath([1]), W.nextHop('1.1.1.1')), nlri)));
  it('the Partial bit on a well-known attribute is tolerated', () => ok(W.update([], W.cat(W.attr(0x60, 1, [0]), W.asPath([1]), W.nextHop('1.1.1.1')), nlri)));
});

describe('BgpError', () => {
  it('orders approaches by severity', () => {
    assert.ok(isStronger('session-reset', 'treat-as-withdraw'));
    assert.ok(isStronger('treat-as-withdraw', 'attribute-discard'));
    assert.ok(!isStronger('attribute-discard', 'attribute-discard'));
  });
  it('names the error in its message', () => {
    assert.match(BgpError.badMessageType(9).message, /MessageHeaderError\/BadMessageType/);
  });
});

// The UPDATE packer: every prefix exactly once, every UPDATE within the negotiated maximum and valid, and no
// more UPDATEs than needed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Afi,
  Origin,
  attr,
  decodeMessage,
  findAttribute,
  ipv4Prefixes,
  ipv6Prefixes,
  makeContext,
  packAnnouncements,
  packWithdrawals,
  prefixStrings,
  type CodecContext,
  type PackedUpdates,
  type PrefixList,
  type UpdateMessage,
} from '../../../src/bgp/index.js';
import { ipv4Number, ipv6Bytes } from '../../../src/ip/index.js';
import * as W from '../../helpers/wire-builder.js';

const ctx = makeContext({ as4: true });
const ext = makeContext({ as4: true, extendedMessage: true });
const attrs4 = [attr.origin(Origin.Igp), attr.asSequence([65002]), attr.nextHop(ipv4Number('192.0.2.2'))];
const attrs6 = [attr.origin(Origin.Igp), attr.asSequence([65002])];
const attrsWire4 = W.cat(W.origin(0), W.asPath([65002]), W.nextHop('192.0.2.2'));
const nh6 = ipv6Bytes('2001:db8::2');

function v4(n: number, len = 32): PrefixList {
  return ipv4Prefixes(Array.from({ length: n }, (_, i) => (0xc6120000 + i * (len === 32 ? 1 : 256)) >>> 0), len);
}
function v6(n: number): PrefixList {
  const a = new Uint8Array(16 * n);
  for (let i = 0; i < n; i++) a.set(ipv6Bytes(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`), 16 * i);
  return ipv6Prefixes(a, 128);
}

/** Decodes every packed message and checks the invariants; returns what was announced/withdrawn, in order. */
function check(p: PackedUpdates, c: CodecContext): { announced: string[]; withdrawn: string[]; msgs: UpdateMessage[] } {
  const announced: string[] = [];
  const withdrawn: string[] = [];
  const msgs: UpdateMessage[] = [];
  let total = 0;
  for (const m of p.messages) {
    assert.ok(m.length <= c.maxMessageLength, `UPDATE of ${m.length} octets`);
    total += m.length;
    const u = decodeMessage(m, c) as UpdateMessage;
    msgs.push(u);
    announced.push(...prefixStrings(u.nlri));
    withdrawn.push(...prefixStrings(u.withdrawn));
    for (const a of u.attributes) {
      if (a.kind === 'mp-reach') announced.push(...prefixStrings(a.nlri));
      if (a.kind === 'mp-unreach') withdrawn.push(...prefixStrings(a.withdrawn));
    }
  }
  assert.equal(total, p.bytes.length, 'messages tile the buffer');
  assert.equal(W.hex(Buffer.concat(p.messages)), W.hex(p.bytes));
  return { announced, withdrawn, msgs };
}

describe('packAnnouncements, IPv4', () => {
  it('one prefix: exactly the hand-built UPDATE', () => {
    const p = packAnnouncements(v4(1), attrs4, ctx);
    assert.equal(p.messages.length, 1);
    assert.equal(W.hex(p.bytes), W.hex(W.update([], attrsWire4, W.prefixes(['198.18.0.0/32']))));
  });
  it('100,000 /32s: each once, in order, every UPDATE ≤ 4096, as few UPDATEs as possible', () => {
    const list = v4(100_000);
    const p = packAnnouncements(list, attrs4, ctx);
    const { announced, msgs } = check(p, ctx);
    assert.deepEqual(announced, prefixStrings(list));
    const room = 4096 - 23 - attrsWire4.length;
    const perMsg = Math.floor(room / 5);
    assert.equal(p.messages.length, Math.ceil(100_000 / perMsg));
    assert.equal(p.messages[0]!.length, 23 + attrsWire4.length + perMsg * 5);
    for (const u of msgs) assert.deepEqual(u.attributes.map((a) => a.kind), ['origin', 'as-path', 'next-hop']);
  });
  it('65535-octet UPDATEs with extended messages', () => {
    const p = packAnnouncements(v4(100_000), attrs4, ext);
    const { announced } = check(p, ext);
    assert.equal(announced.length, 100_000);
    assert.equal(p.messages.length, Math.ceil(100_000 / Math.floor((65535 - 23 - attrsWire4.length) / 5)));
  });
  it('mixed prefix lengths: greedy cuts never leave room for the next prefix', () => {
    const lens = Array.from({ length: 5000 }, (_, i) => [8, 16, 24, 32, 0, 12][i % 6]!);
    const list = ipv4Prefixes(Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 0), lens);
    const p = packAnnouncements(list, attrs4, ctx);
    const { announced } = check(p, ctx);
    assert.deepEqual(announced, prefixStrings(list));
    const room = 4096 - 23 - attrsWire4.length;
    const total = list.end - list.start;
    // Each full UPDATE wastes less than one prefix (≤ 5 octets): at most ceil(total/(room-4)) UPDATEs.
    assert.ok(p.messages.length <= Math.ceil(total / (room - 4)));
    assert.ok(p.messages.length >= Math.ceil(total / room));
  });
  it('no prefixes, no UPDATEs', () => {
    assert.equal(packAnnouncements(v4(0), attrs4, ctx).messages.length, 0);
  });
  it('refuses MP attributes in the shared set, and attributes that leave no room', () => {
    assert.throws(() => packAnnouncements(v4(1), [...attrs4, attr.mpReach(Afi.Ipv6, nh6, v6(1))], ctx), RangeError);
    assert.throws(() => packAnnouncements(v4(1), [...attrs4, attr.unknown(200, 0xc0, new Uint8Array(4070))], ctx), RangeError);
  });
});

describe('packWithdrawals, IPv4', () => {
  it('one prefix: exactly the hand-built UPDATE', () => {
    assert.equal(W.hex(packWithdrawals(v4(1, 24), ctx).bytes), W.hex(W.update(W.prefixes(['198.18.0.0/24']), [], [])));
  });
  it('100,000 /32s: each once, minimal count', () => {
    const list = v4(100_000);
    const p = packWithdrawals(list, ctx);
    const { withdrawn, announced } = check(p, ctx);
    assert.deepEqual(withdrawn, prefixStrings(list));
    assert.equal(announced.length, 0);
    assert.equal(p.messages.length, Math.ceil(100_000 / Math.floor((4096 - 23) / 5)));
  });
});

describe('IPv6 (MP_REACH_NLRI / MP_UNREACH_NLRI)', () => {
  it('one /128: MP_REACH_NLRI first (RFC 7606 §5.1), exactly the hand-built UPDATE', () => {
    const p = packAnnouncements(v6(1), attrs6, ctx, { nextHop: nh6 });
    const expected = W.update([], W.cat(W.mpReach(2, 1, W.ip6('2001:db8::2'), W.prefixes(['2001:db8::1/128'])), W.origin(0), W.asPath([65002])), []);
    assert.equal(W.hex(p.bytes), W.hex(expected));
  });
  it('10,000 /128s with a link-local next hop: each once, ≤ 4096, minimal count', () => {
    const nh = new Uint8Array([...W.ip6('2001:db8::2'), ...W.ip6('fe80::2')]);
    const list = v6(10_000);
    const p = packAnnouncements(list, attrs6, ctx, { nextHop: nh });
    const { announced, msgs } = check(p, ctx);
    assert.deepEqual(announced, prefixStrings(list));
    const room = 4096 - 23 - W.cat(W.origin(0), W.asPath([65002])).length - 4 - 5 - 32;
    assert.equal(p.messages.length, Math.ceil(10_000 / Math.floor(room / 17)));
    for (const u of msgs) assert.equal(findAttribute(u, 'mp-reach')!.nextHop.length, 32);
  });
  it('withdrawals: each once, minimal count, a short last message uses the 1-octet attribute length', () => {
    const list = v6(1000);
    const p = packWithdrawals(list, ctx);
    const { withdrawn } = check(p, ctx);
    assert.deepEqual(withdrawn, prefixStrings(list));
    const perMsg = Math.floor((4096 - 23 - 4 - 3) / 17);
    assert.equal(p.messages.length, Math.ceil(1000 / perMsg));
    const last = p.messages[p.messages.length - 1]!;
    const lastCount = 1000 - perMsg * (p.messages.length - 1);
    assert.equal(last.length, 23 + 3 + 3 + lastCount * 17 + (3 + lastCount * 17 > 255 ? 1 : 0));
  });
  it('an IPv6 announcement needs a next hop', () => {
    assert.throws(() => packAnnouncements(v6(1), attrs6, ctx), RangeError);
  });
});

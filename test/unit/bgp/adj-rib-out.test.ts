import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdjRibOut, type ExportPolicy, type Route } from '../../../src/bgp/adj-rib-out.js';
import { Afi, AS_TRANS, MessageType, Origin, Safi } from '../../../src/bgp/constants.js';
import { decodeMessage } from '../../../src/bgp/codec.js';
import { makeContext } from '../../../src/bgp/context.js';
import { Framer } from '../../../src/bgp/framer.js';
import { prefixStrings } from '../../../src/bgp/nlri.js';
import type { CodecContext, PathAttribute, UpdateMessage } from '../../../src/bgp/types.js';

const CTX = makeContext({ as4: true });
const EBGP: ExportPolicy = { localAs: 64500, peerAs: 64501, nextHop4: 0xc0000202, nextHop6: ipv6(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2) };
const IBGP: ExportPolicy = { ...EBGP, peerAs: 64500 };

function ipv6(...bytes: number[]): Uint8Array {
  return Uint8Array.from(bytes);
}

function v4(text: string, extra: Partial<Route> = {}): Route {
  const [addr, len] = text.split('/');
  const n = addr!.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return { prefix: text, family: 4, addr4: n, addr6: null, length: Number(len), localPref: 0, communities: [], largeCommunities: [], ...extra };
}

function v6(text: string, last: number): Route {
  const a = new Uint8Array(16);
  a.set([0x20, 0x01, 0x0d, 0xb8, 0, 1], 0);
  a[15] = last;
  return { prefix: text, family: 6, addr4: 0, addr6: a, length: 128, localPref: 0, communities: [], largeCommunities: [] };
}

/** Splits flushed chunks into messages with the real framer and decodes them. */
function decodeAll(chunks: Uint8Array[], ctx: CodecContext = CTX): UpdateMessage[] {
  const framer = new Framer(ctx.maxMessageLength);
  const out: UpdateMessage[] = [];
  for (const c of chunks) {
    framer.push(c, (m) => {
      const msg = decodeMessage(m, ctx);
      assert.equal(msg.type, MessageType.Update);
      out.push(msg as UpdateMessage);
    });
  }
  return out;
}

function kinds(u: UpdateMessage): string[] {
  return u.attributes.map((a) => a.kind);
}

function find<K extends PathAttribute['kind']>(u: UpdateMessage, kind: K): Extract<PathAttribute, { kind: K }> {
  const a = u.attributes.find((x) => x.kind === kind);
  assert.ok(a, `attribute ${kind} present`);
  return a as Extract<PathAttribute, { kind: K }>;
}

test('eBGP: routes sharing attributes go out in one UPDATE with ORIGIN IGP, our AS, NEXT_HOP self, no LOCAL_PREF', () => {
  const rib = new AdjRibOut();
  rib.setDesired([v4('10.1.0.1/32'), v4('10.1.0.2/32'), v4('10.1.0.0/24')]);
  assert.equal(rib.pendingCount(), 3);
  const r = rib.flush(CTX, EBGP);
  assert.equal(r.updates, 1);
  assert.equal(r.announced, 3);
  const [u] = decodeAll(r.chunks);
  assert.ok(u);
  assert.deepEqual(kinds(u), ['origin', 'as-path', 'next-hop']);
  assert.equal(find(u, 'origin').origin, Origin.Igp);
  assert.deepEqual(find(u, 'as-path').segments.map((s) => s.asns), [[64500]]);
  assert.equal(find(u, 'next-hop').nextHop, 0xc0000202);
  assert.deepEqual(prefixStrings(u.nlri), ['10.1.0.1/32', '10.1.0.2/32', '10.1.0.0/24']);
  assert.equal(rib.pendingCount(), 0);
  assert.equal(rib.sentCount, 3);
});

test('iBGP: empty AS_PATH and LOCAL_PREF; communities and large communities when configured', () => {
  const rib = new AdjRibOut();
  rib.setDesired([
    v4('10.1.0.1/32', { localPref: 150, communities: [0xfbf40064], largeCommunities: [{ globalAdmin: 64500, localData1: 1, localData2: 2 }] }),
  ]);
  const [u] = decodeAll(rib.flush(CTX, IBGP).chunks);
  assert.ok(u);
  assert.deepEqual(kinds(u), ['origin', 'as-path', 'next-hop', 'local-pref', 'communities', 'large-communities']);
  assert.deepEqual(find(u, 'as-path').segments, []);
  assert.equal(find(u, 'local-pref').localPref, 150);
  assert.deepEqual(find(u, 'communities').communities, [0xfbf40064]);
  assert.deepEqual(find(u, 'large-communities').communities, [{ globalAdmin: 64500, localData1: 1, localData2: 2 }]);
});

test('different attribute sets become separate UPDATEs; nothing changed means nothing sent', () => {
  const rib = new AdjRibOut();
  rib.setDesired([v4('10.1.0.1/32'), v4('10.1.0.2/32', { communities: [1] }), v4('10.1.0.3/32')]);
  const r = rib.flush(CTX, EBGP);
  assert.equal(r.updates, 2);
  rib.setDesired([v4('10.1.0.3/32'), v4('10.1.0.2/32', { communities: [1] }), v4('10.1.0.1/32')]);
  const again = rib.flush(CTX, EBGP);
  assert.deepEqual(again, { chunks: [], updates: 0, announced: 0, withdrawn: 0 });
});

test('removed routes are withdrawn together; a changed attribute re-announces only that route', () => {
  const rib = new AdjRibOut();
  rib.setDesired([v4('10.1.0.1/32'), v4('10.1.0.2/32'), v4('10.1.0.3/32')]);
  rib.flush(CTX, EBGP);
  rib.setDesired([v4('10.1.0.1/32', { communities: [7] })]);
  assert.equal(rib.pendingCount(), 3);
  const r = rib.flush(CTX, EBGP);
  assert.equal(r.announced, 1);
  assert.equal(r.withdrawn, 2);
  const msgs = decodeAll(r.chunks);
  assert.equal(msgs.length, 2);
  assert.deepEqual(prefixStrings(msgs[0]!.nlri), ['10.1.0.1/32']);
  assert.deepEqual(find(msgs[0]!, 'communities').communities, [7]);
  assert.deepEqual(prefixStrings(msgs[1]!.withdrawn), ['10.1.0.2/32', '10.1.0.3/32']);
  assert.deepEqual(msgs[1]!.attributes, []);
  assert.equal(rib.sentCount, 1);
});

test('IPv6 routes go in MP_REACH_NLRI with the global next hop, and leave in MP_UNREACH_NLRI', () => {
  const rib = new AdjRibOut();
  rib.setDesired([v6('2001:db8:1::1/128', 1), v6('2001:db8:1::2/128', 2)]);
  const [u] = decodeAll(rib.flush(CTX, EBGP).chunks);
  assert.ok(u);
  const mp = find(u, 'mp-reach');
  assert.equal(mp.afi, Afi.Ipv6);
  assert.equal(mp.safi, Safi.Unicast);
  assert.deepEqual([...mp.nextHop], [...EBGP.nextHop6!]);
  assert.deepEqual(prefixStrings(mp.nlri), ['2001:db8:1::1/128', '2001:db8:1::2/128']);
  assert.equal(u.attributes.some((a) => a.kind === 'next-hop'), false);
  rib.setDesired([]);
  const [w] = decodeAll(rib.flush(CTX, EBGP).chunks);
  assert.ok(w);
  assert.deepEqual(prefixStrings(find(w, 'mp-unreach').withdrawn), ['2001:db8:1::1/128', '2001:db8:1::2/128']);
});

test('a family the session did not negotiate stays pending and is reported, never sent', () => {
  const v4only = makeContext({ as4: true, families: [{ afi: Afi.Ipv4, safi: Safi.Unicast }] });
  const rib = new AdjRibOut();
  rib.setDesired([v4('10.1.0.1/32'), v6('2001:db8:1::1/128', 1)]);
  const r = rib.flush(v4only, EBGP);
  assert.equal(r.announced, 1);
  assert.equal(rib.pendingCount(), 1);
  const why = rib.unsendable(v4only, EBGP);
  assert.equal(why.length, 1);
  assert.equal(why[0]?.prefix, '2001:db8:1::1/128');
  assert.match(why[0]?.why ?? '', /IPv6 unicast/);
  assert.equal(rib.unsendable(CTX, { ...EBGP, nextHop6: null })[0]?.why, 'no global IPv6 address to use as next hop');
});

test('a 4-octet local AS to a peer without the capability: AS_TRANS in AS_PATH, real AS in AS4_PATH (RFC 6793)', () => {
  const old = makeContext({ as4: false });
  const rib = new AdjRibOut();
  rib.setDesired([v4('10.1.0.1/32')]);
  const [u] = decodeAll(rib.flush(old, { ...EBGP, localAs: 4200000000 }).chunks, old);
  assert.ok(u);
  assert.deepEqual(find(u, 'as-path').segments.map((s) => s.asns), [[AS_TRANS]]);
  assert.deepEqual(find(u, 'as4-path').segments.map((s) => s.asns), [[4200000000]]);
});

test('peerReset re-sends everything; refresh re-sends desired routes and keeps pending withdrawals', () => {
  const rib = new AdjRibOut();
  rib.setDesired([v4('10.1.0.1/32'), v4('10.1.0.2/32')]);
  rib.flush(CTX, EBGP);
  rib.peerReset();
  assert.equal(rib.sentCount, 0);
  assert.equal(rib.flush(CTX, EBGP).announced, 2);

  rib.setDesired([v4('10.1.0.1/32')]);
  rib.refresh();
  const r = rib.flush(CTX, EBGP);
  assert.equal(r.announced, 1);
  assert.equal(r.withdrawn, 1);
});

test('10,000 routes are packed into the fewest UPDATEs that fit 4096 octets', () => {
  const rib = new AdjRibOut();
  const routes: Route[] = [];
  for (let i = 0; i < 10_000; i++) routes.push(v4(`10.${i >> 8}.${i & 0xff}.1/32`));
  rib.setDesired(routes);
  const r = rib.flush(CTX, EBGP);
  const msgs = decodeAll(r.chunks);
  assert.equal(msgs.length, r.updates);
  const total = msgs.reduce((n, m) => n + m.nlri.count, 0);
  assert.equal(total, 10_000);
  // 19 header + 4 length fields + 20 attribute octets (ORIGIN 4, AS_PATH 9, NEXT_HOP 7) leave 4053 octets: 810 /32s of 5.
  assert.equal(r.updates, Math.ceil(10_000 / 810));
});

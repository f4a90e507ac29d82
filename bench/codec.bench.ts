// Codec benchmarks (bench/README.md). The messages are the ones GoBGP's baseline measures
// (../shared/bench/gobgp-baseline/bench_test.go): 4-octet ASNs; ORIGIN IGP, AS_PATH [65002], NEXT_HOP
// 192.0.2.2 and 198.18.0.1… /32s; MP_REACH_NLRI with next hop 2001:db8::2 and 2001:db8:1::1… /128s; an OPEN
// with MP IPv4/IPv6 unicast, route refresh and 4-octet AS.
//
// encode.* writes a prebuilt message object into a reusable send buffer (the speaker's path; GoBGP's
// Serialize also starts from a prebuilt object but allocates its output). encode.alloc.* is the same
// into a fresh Uint8Array. decode.* goes from bytes to a fully validated message object.
import type { Register } from './case.js';
import {
  Afi,
  Framer,
  KEEPALIVE,
  MessageType,
  Origin,
  attr,
  capability,
  decodeMessage,
  emptyPrefixList,
  encodeMessage,
  encodeMessageInto,
  ipv4Prefixes,
  ipv6Prefixes,
  makeContext,
  packAnnouncements,
  packWithdrawals,
  type BgpMessage,
  type OpenMessage,
  type UpdateMessage,
} from '../src/bgp/index.js';
import { ipv4Number, ipv6Bytes } from '../src/ip/index.js';

const ctx = makeContext({ as4: true });
const v4none = emptyPrefixList(Afi.Ipv4);

function v4Update(n: number): UpdateMessage {
  const addrs = Array.from({ length: n }, (_, i) => ipv4Number(`198.18.${(i + 1) >> 8}.${(i + 1) & 0xff}`));
  return {
    type: MessageType.Update,
    withdrawn: v4none,
    attributes: [attr.origin(Origin.Igp), attr.asSequence([65002]), attr.nextHop(ipv4Number('192.0.2.2'))],
    nlri: ipv4Prefixes(addrs, 32),
  };
}

function v6Update(n: number): UpdateMessage {
  const addrs = new Uint8Array(16 * n);
  for (let i = 0; i < n; i++) addrs.set(ipv6Bytes(`2001:db8:1::${(i + 1).toString(16)}`), 16 * i);
  return {
    type: MessageType.Update,
    withdrawn: v4none,
    attributes: [attr.origin(Origin.Igp), attr.asSequence([65002]), attr.mpReach(Afi.Ipv6, ipv6Bytes('2001:db8::2'), ipv6Prefixes(addrs, 128))],
    nlri: v4none,
  };
}

const open: OpenMessage = {
  type: MessageType.Open,
  version: 4,
  myAs: 65002,
  holdTime: 90,
  bgpIdentifier: ipv4Number('192.0.2.2'),
  capabilities: [capability.multiprotocol(Afi.Ipv4), capability.multiprotocol(Afi.Ipv6), capability.routeRefresh(), capability.fourOctetAs(65002)],
  parameters: [],
};

const cases: [string, BgpMessage][] = [
  ['keepalive', KEEPALIVE],
  ['open', open],
  ['update.ipv4.1', v4Update(1)],
  ['update.ipv4.100', v4Update(100)],
  ['update.ipv6.1', v6Update(1)],
  ['update.ipv6.100', v6Update(100)],
];

/** Mulberry32: a small seeded PRNG so the framing benchmark sees the same chunking every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function register(bench: Register): void {
  const out = new Uint8Array(0x10000);
  const wires = new Map<string, Uint8Array>();
  for (const [name, msg] of cases) {
    const wire = encodeMessage(msg, ctx);
    decodeMessage(wire, ctx); // must be valid before it is measured
    wires.set(name, wire);
  }
  for (const [name, msg] of cases) bench(`encode.${name}`, () => encodeMessageInto(msg, ctx, out, 0));
  for (const [name] of cases) {
    const wire = wires.get(name)!;
    bench(`decode.${name}`, () => decodeMessage(wire, ctx));
  }
  for (const [name, msg] of cases) bench(`encode.alloc.${name}`, () => encodeMessage(msg, ctx));

  // 1 MiB of mixed messages (the six above, in a seeded random order), cut into seeded random chunks of
  // 1–4096 octets, framed and decoded.
  const rnd = prng(42);
  const parts: Uint8Array[] = [];
  let size = 0;
  const all = [...wires.values()];
  while (size < 1 << 20) {
    const w = all[Math.floor(rnd() * all.length)]!;
    parts.push(w);
    size += w.length;
  }
  const stream = new Uint8Array(size);
  let o = 0;
  for (const w of parts) {
    stream.set(w, o);
    o += w.length;
  }
  const chunks: Uint8Array[] = [];
  for (let p = 0; p < size; ) {
    const n = 1 + Math.floor(rnd() * 4096);
    chunks.push(stream.slice(p, p + n));
    p += n;
  }
  let decoded = 0;
  const sink = (m: Uint8Array) => {
    decodeMessage(m, ctx);
    decoded++;
  };
  bench('frame.mixed.1mb', () => {
    const f = new Framer(ctx.maxMessageLength);
    decoded = 0;
    for (const c of chunks) f.push(c, sink);
    if (decoded !== parts.length) throw new Error(`framed ${decoded} of ${parts.length}`);
    return decoded;
  });

  // All UPDATEs for 100,000 /32s (198.18.0.1 up), starting from uint32 addresses.
  const addrs = new Uint32Array(100_000);
  for (let i = 0; i < addrs.length; i++) addrs[i] = (0xc6120000 + i + 1) >>> 0;
  const attrs = (cases[2]![1] as UpdateMessage).attributes;
  bench('pack.ipv4.100000', () => packAnnouncements(ipv4Prefixes(addrs, 32), attrs, ctx));
  bench('pack.withdraw.ipv4.100000', () => packWithdrawals(ipv4Prefixes(addrs, 32), ctx));
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4Number, ipv6Bytes } from '../../../src/ip/index.js';
import {
  ALL_NODES_IPV6,
  ArpOp,
  EtherType,
  decodeArp,
  decodeEthernet,
  decodeFrame,
  decodeIpv6,
  decodeNd,
  decodeNdOptions,
  encodeEthernet,
  encodeIpv6,
  encodeNa,
  encodeNs,
  formatMac,
  gratuitousArpFrames,
  icmpv6Checksum,
  ipv6MulticastMac,
  linkLocalFromMac,
  parseMac,
  solicitedNodeMulticast,
  unsolicitedNaFrame,
} from '../../../src/l2/frames.js';

const MAC = parseMac('02:aa:00:00:00:01')!;
const VIP6 = ipv6Bytes('fd00:99::100');

/** Reference checksum written independently of the codec: sum of 16-bit words over the pseudo-header + body. */
function refChecksum(src: Uint8Array, dst: Uint8Array, icmp: Uint8Array): number {
  const ph = Buffer.alloc(40 + icmp.length + (icmp.length % 2));
  ph.set(src, 0);
  ph.set(dst, 16);
  ph.writeUInt32BE(icmp.length, 32);
  ph[39] = 58;
  ph.set(icmp, 40);
  let s = 0;
  for (let i = 0; i < ph.length; i += 2) s += ph.readUInt16BE(i);
  while (s >> 16) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

test('MAC text round-trips and rejects garbage', () => {
  assert.equal(formatMac(parseMac('02-AA-00-00-0A-ff')!), '02:aa:00:00:0a:ff');
  for (const bad of ['', '02:aa:00:00:00', '02:aa:00:00:00:01:02', 'zz:aa:00:00:00:01', '2:aa:0:0:0:1']) assert.equal(parseMac(bad), null, bad);
});

test('IPv6 multicast MAC (RFC 2464 §7), solicited-node group and EUI-64 link-local', () => {
  assert.equal(formatMac(ipv6MulticastMac(ALL_NODES_IPV6)), '33:33:00:00:00:01');
  assert.deepEqual([...solicitedNodeMulticast(VIP6)], [...ipv6Bytes('ff02::1:ff00:100')]);
  assert.equal(formatMac(ipv6MulticastMac(solicitedNodeMulticast(VIP6))), '33:33:ff:00:01:00');
  assert.deepEqual([...linkLocalFromMac(MAC)], [...ipv6Bytes('fe80::aa:ff:fe00:1')]);
});

test('gratuitous ARP: a request (RFC 5227 §3 announcement) and a reply, broadcast, sender = target = VIP', () => {
  const [req, rep] = gratuitousArpFrames(MAC, ipv4Number('10.99.0.100'));
  assert.equal(req.toString('hex'), 'ffffffffffff02aa000000010806' + '0001080006040001' + '02aa00000001' + '0a630064' + '000000000000' + '0a630064');
  assert.equal(rep.toString('hex'), 'ffffffffffff02aa000000010806' + '0001080006040002' + '02aa00000001' + '0a630064' + 'ffffffffffff' + '0a630064');
  const d = decodeFrame(rep);
  assert.ok(d.ok && d.value.kind === 'arp');
  assert.equal(d.value.arp.op, ArpOp.Reply);
});

test('ARP decoding refuses short packets, other hardware/protocol types and unknown operations', () => {
  const [req] = gratuitousArpFrames(MAC, 1);
  const arp = decodeEthernet(req);
  assert.ok(arp.ok);
  const p = Buffer.from(arp.value.payload);
  assert.deepEqual(decodeArp(p.subarray(0, 27)), { ok: false, drop: 'arp-truncated' });
  const q = Buffer.from(p);
  q[1] = 6; // IEEE 802 hardware type
  assert.deepEqual(decodeArp(q), { ok: false, drop: 'arp-not-ethernet-ipv4' });
  const r = Buffer.from(p);
  r[7] = 3; // RARP request
  assert.deepEqual(decodeArp(r), { ok: false, drop: 'arp-bad-op' });
});

test('Ethernet: 802.1Q and QinQ tags are skipped and their VLAN IDs kept; short frames are dropped', () => {
  const [req] = gratuitousArpFrames(MAC, 1);
  const tagged = Buffer.concat([req.subarray(0, 12), Buffer.from('88a8000a8100006f', 'hex'), req.subarray(12)]);
  const d = decodeEthernet(tagged);
  assert.ok(d.ok);
  assert.equal(d.value.etherType, EtherType.Arp);
  assert.deepEqual(d.value.vlans, [10, 111]);
  assert.ok(decodeFrame(tagged).ok);
  assert.deepEqual(decodeEthernet(req.subarray(0, 13)), { ok: false, drop: 'ethernet-truncated' });
  assert.deepEqual(decodeEthernet(tagged.subarray(0, 15)), { ok: false, drop: 'ethernet-truncated' });
  assert.deepEqual(decodeFrame(encodeEthernet(MAC, MAC, EtherType.Ipv4, Buffer.alloc(20))), { ok: false, drop: 'ethertype-unsupported' });
});

test('NS / NA: checksum agrees with an independent computation, and fields survive a round trip', () => {
  const src = ipv6Bytes('fd00:99::2');
  const ns = encodeNs({ src, dst: solicitedNodeMulticast(VIP6), target: VIP6, linkLayerAddress: MAC });
  const ip = decodeIpv6(ns);
  assert.ok(ip.ok);
  assert.equal(ip.value.hopLimit, 255);
  const body = Buffer.from(ip.value.payload);
  const sum = body.readUInt16BE(2);
  body.writeUInt16BE(0, 2);
  assert.equal(sum, refChecksum(src, solicitedNodeMulticast(VIP6), body));
  assert.equal(icmpv6Checksum(ip.value.src, ip.value.dst, ip.value.payload), 0);
  const nd = decodeNd(ip.value);
  assert.ok(nd.ok && nd.value.type === 135);
  assert.deepEqual([...nd.value.linkLayerAddress!], [...MAC]);

  const na = decodeIpv6(encodeNa({ src, dst: src, target: VIP6, linkLayerAddress: MAC, router: true, solicited: true, override: false }));
  assert.ok(na.ok);
  const n = decodeNd(na.value);
  assert.ok(n.ok && n.value.type === 136);
  assert.deepEqual([n.value.router, n.value.solicited, n.value.override], [true, true, false]);
});

test('unsolicited NA: to ff02::1 / 33:33:00:00:00:01 with Override set and Solicited clear', () => {
  const ll = linkLocalFromMac(MAC);
  const f = unsolicitedNaFrame(MAC, ll, VIP6);
  const d = decodeFrame(f);
  assert.ok(d.ok && d.value.kind === 'nd' && d.value.nd.type === 136);
  assert.equal(formatMac(d.value.eth.dst), '33:33:00:00:00:01');
  assert.deepEqual([...d.value.ip.dst], [...ALL_NODES_IPV6]);
  assert.deepEqual([d.value.nd.solicited, d.value.nd.override, d.value.nd.router], [false, true, false]);
  assert.equal(f.length, 14 + 40 + 32);
});

/** Re-signs an NS/NA after a field was changed, so only the intended check fails. */
function resign(ipPacket: Buffer): Buffer {
  const icmp = ipPacket.subarray(40);
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(icmpv6Checksum(ipPacket.subarray(8, 24), ipPacket.subarray(24, 40), icmp), 2);
  return ipPacket;
}

test('RFC 4861 §7.1.1 / §7.1.2 validity checks, one reason each', () => {
  const src = ipv6Bytes('fd00:99::2');
  const ns = () => encodeNs({ src, dst: solicitedNodeMulticast(VIP6), target: VIP6, linkLayerAddress: MAC });
  const check = (pkt: Buffer, reason: string) => {
    const ip = decodeIpv6(pkt);
    if (!ip.ok) return assert.equal(ip.drop, reason);
    const nd = decodeNd(ip.value);
    assert.deepEqual(nd, { ok: false, drop: reason });
  };
  let p = ns();
  p[7] = 254;
  check(p, 'nd-bad-hop-limit');
  p = ns();
  p[40 + 2] = p[40 + 2]! ^ 1;
  check(p, 'icmpv6-bad-checksum');
  p = ns();
  p[41] = 1;
  check(resign(p), 'nd-bad-code');
  p = ns();
  p[40 + 8] = 0xff;
  check(resign(p), 'nd-target-multicast');
  p = ns();
  p[40 + 25] = 0; // option length 0
  check(resign(p), 'nd-bad-option');
  p = ns();
  p[40 + 25] = 2; // option claims 16 octets, 8 present
  check(resign(p), 'nd-bad-option');
  // ICMP length < 24: a 20-octet NS body, IPv6 payload length adjusted
  const short = encodeIpv6({ nextHeader: 58, hopLimit: 255, src, dst: VIP6, payload: Buffer.alloc(20) });
  short[40] = 135;
  check(resign(short), 'icmpv6-truncated');
  // unspecified source: destination must be the solicited-node group, and no SLLA
  const dad = (dst: Uint8Array, lla: Uint8Array | null) => encodeNs({ src: new Uint8Array(16), dst, target: VIP6, linkLayerAddress: lla });
  check(dad(VIP6, null), 'ns-unspecified-source-bad-destination');
  check(dad(solicitedNodeMulticast(VIP6), MAC), 'ns-unspecified-source-with-slla');
  const okDad = decodeIpv6(dad(solicitedNodeMulticast(VIP6), null));
  assert.ok(okDad.ok && decodeNd(okDad.value).ok);
  // NA with Solicited set to a multicast destination
  check(encodeNa({ src, dst: ALL_NODES_IPV6, target: VIP6, linkLayerAddress: MAC, router: false, solicited: true, override: true }), 'na-solicited-to-multicast');
  // not ND at all: an echo request
  const echo = encodeIpv6({ nextHeader: 58, hopLimit: 64, src, dst: VIP6, payload: Buffer.from([128, 0, 0, 0, 0, 0, 0, 0]) });
  check(resign(echo), 'icmpv6-not-nd');
  check(encodeIpv6({ nextHeader: 17, hopLimit: 255, src, dst: VIP6, payload: Buffer.alloc(8) }), 'ipv6-not-icmpv6');
  const v4 = ns();
  v4[0] = 0x45;
  check(v4, 'ipv6-bad-version');
  check(ns().subarray(0, 60), 'ipv6-truncated');
});

test('options: several are walked; the link-layer option is the first of its type', () => {
  const opts = Buffer.concat([Buffer.from([14, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([1, 1, 2, 0, 0, 0, 0, 9])]);
  const d = decodeNdOptions(opts);
  assert.ok(d.ok);
  assert.deepEqual(d.value.map((o) => o.type), [14, 1]);
  assert.deepEqual(decodeNdOptions(Buffer.from([1])), { ok: false, drop: 'nd-bad-option' });
  assert.deepEqual(decodeNdOptions(Buffer.alloc(0)), { ok: true, value: [] });
});

test('link-layer padding after the IPv6 payload is ignored (a 60-octet minimum frame pads short packets)', () => {
  const src = ipv6Bytes('fd00:99::2');
  const ns = encodeNs({ src, dst: solicitedNodeMulticast(VIP6), target: VIP6, linkLayerAddress: MAC });
  const framed = encodeEthernet(ipv6MulticastMac(solicitedNodeMulticast(VIP6)), parseMac('02:bb:00:00:00:02')!, EtherType.Ipv6, Buffer.concat([ns, Buffer.alloc(6)]));
  assert.ok(decodeFrame(framed).ok);
});

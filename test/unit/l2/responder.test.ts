// The responder as a table: each row is a frame and the outcome it must give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4Number, ipv6Bytes } from '../../../src/ip/index.js';
import {
  ArpOp,
  BROADCAST_MAC,
  EtherType,
  ZERO_MAC,
  arpFrame,
  decodeFrame,
  encodeEthernet,
  encodeNa,
  encodeNs,
  formatMac,
  gratuitousArpFrames,
  ipv6MulticastMac,
  parseMac,
  solicitedNodeMulticast,
  ALL_NODES_IPV6,
} from '../../../src/l2/frames.js';
import { respond, responderContext, type Outcome } from '../../../src/l2/responder.js';

const OURS = parseMac('02:aa:00:00:00:01')!;
const CLIENT = parseMac('02:bb:00:00:00:02')!;
const OTHER = parseMac('02:cc:00:00:00:03')!;
const VIP4 = ipv4Number('10.99.0.100');
const CLIENT4 = ipv4Number('10.99.0.2');
const VIP6 = ipv6Bytes('fd00:99::100');
const CLIENT6 = ipv6Bytes('fd00:99::2');
const ctx = responderContext(OURS, ['10.99.0.100', 'fd00:99::100']);

const arpReq = (opts: { dst?: Uint8Array; src?: Uint8Array; spa?: number; tpa?: number; op?: number } = {}) =>
  arpFrame(opts.dst ?? BROADCAST_MAC, opts.src ?? CLIENT, {
    op: opts.op ?? ArpOp.Request,
    senderMac: opts.src ?? CLIENT,
    senderIp: opts.spa ?? CLIENT4,
    targetMac: ZERO_MAC,
    targetIp: opts.tpa ?? VIP4,
  });

const ns = (o: { src?: Uint8Array; dst?: Uint8Array; target?: Uint8Array; lla?: Uint8Array | null; ethDst?: Uint8Array; ethSrc?: Uint8Array } = {}) => {
  const dst = o.dst ?? solicitedNodeMulticast(o.target ?? VIP6);
  const ip = encodeNs({ src: o.src ?? CLIENT6, dst, target: o.target ?? VIP6, linkLayerAddress: o.lla === undefined ? CLIENT : o.lla });
  return encodeEthernet(o.ethDst ?? (dst[0] === 0xff ? ipv6MulticastMac(dst) : OURS), o.ethSrc ?? CLIENT, EtherType.Ipv6, ip);
};

interface Row {
  name: string;
  frame: Buffer;
  drop?: string;
  malformed?: boolean;
  requestFor?: string;
  conflict?: { ip: string; mac: string };
  /** checks on the decoded reply */
  reply?: (r: ReturnType<typeof decodeFrame>) => void;
}

const rows: Row[] = [
  {
    name: 'ARP request for the VIP, broadcast → unicast reply from our MAC',
    frame: arpReq(),
    requestFor: '10.99.0.100',
    reply: (d) => {
      assert.ok(d.ok && d.value.kind === 'arp');
      assert.equal(formatMac(d.value.eth.dst), formatMac(CLIENT));
      assert.equal(formatMac(d.value.eth.src), formatMac(OURS));
      assert.deepEqual(
        { op: d.value.arp.op, sha: formatMac(d.value.arp.senderMac), spa: d.value.arp.senderIp, tha: formatMac(d.value.arp.targetMac), tpa: d.value.arp.targetIp },
        { op: ArpOp.Reply, sha: formatMac(OURS), spa: VIP4, tha: formatMac(CLIENT), tpa: CLIENT4 },
      );
    },
  },
  { name: 'ARP request unicast to our MAC (a refresh) → reply', frame: arpReq({ dst: OURS }), requestFor: '10.99.0.100', reply: (d) => assert.ok(d.ok) },
  {
    name: 'ARP probe (sender 0.0.0.0, RFC 5227 §2.1) for the VIP → reply, which defends it',
    frame: arpReq({ spa: 0 }),
    requestFor: '10.99.0.100',
    reply: (d) => assert.ok(d.ok && d.value.kind === 'arp' && d.value.arp.targetIp === 0),
  },
  { name: 'ARP request for another IP', frame: arpReq({ tpa: ipv4Number('10.99.0.1') }), drop: 'not-owned' },
  { name: 'ARP request unicast to another MAC', frame: arpReq({ dst: OTHER }), drop: 'not-for-us' },
  { name: 'ARP reply from a client', frame: arpReq({ op: ArpOp.Reply }), drop: 'not-a-request' },
  { name: 'our own gratuitous ARP looped back', frame: gratuitousArpFrames(OURS, VIP4)[0], drop: 'from-self' },
  {
    name: "another node's gratuitous ARP request for our VIP → conflict, no reply",
    frame: gratuitousArpFrames(OTHER, VIP4)[0],
    drop: 'not-a-request',
    conflict: { ip: '10.99.0.100', mac: '02:cc:00:00:00:03' },
  },
  {
    name: "another node's ARP reply for our VIP → conflict",
    frame: arpFrame(CLIENT, OTHER, { op: ArpOp.Reply, senderMac: OTHER, senderIp: VIP4, targetMac: CLIENT, targetIp: CLIENT4 }),
    drop: 'not-a-request',
    conflict: { ip: '10.99.0.100', mac: '02:cc:00:00:00:03' },
  },
  {
    name: 'ARP request for the VIP from a group sender MAC (would make our reply a broadcast)',
    frame: arpFrame(BROADCAST_MAC, CLIENT, { op: ArpOp.Request, senderMac: BROADCAST_MAC, senderIp: CLIENT4, targetMac: ZERO_MAC, targetIp: VIP4 }),
    drop: 'sender-mac-multicast',
    malformed: true,
  },
  { name: 'NS for the VIP with a multicast source link-layer address', frame: ns({ lla: parseMac('33:33:00:00:00:01')! }), drop: 'sender-mac-multicast', malformed: true },
  { name: 'truncated ARP', frame: arpReq().subarray(0, 30), drop: 'arp-truncated', malformed: true },
  { name: 'runt frame', frame: Buffer.alloc(5), drop: 'ethernet-truncated', malformed: true },
  { name: 'IPv4 frame', frame: encodeEthernet(OURS, CLIENT, EtherType.Ipv4, Buffer.alloc(40)), drop: 'ethertype-unsupported', malformed: true },
  {
    name: 'NS for the VIP with SLLA → solicited NA to the solicitor, S and O set, R clear, TLLA ours, from the VIP',
    frame: ns(),
    requestFor: 'fd00:99::100',
    reply: (d) => {
      assert.ok(d.ok && d.value.kind === 'nd' && d.value.nd.type === 136);
      assert.equal(formatMac(d.value.eth.dst), formatMac(CLIENT));
      assert.deepEqual([...d.value.ip.dst], [...CLIENT6]);
      assert.deepEqual([...d.value.ip.src], [...VIP6]);
      assert.deepEqual([d.value.nd.solicited, d.value.nd.override, d.value.nd.router], [true, true, false]);
      assert.equal(formatMac(d.value.nd.linkLayerAddress!), formatMac(OURS));
    },
  },
  {
    name: 'unicast NS (NUD) without SLLA → NA to the Ethernet source',
    frame: ns({ dst: VIP6, lla: null, ethSrc: OTHER }),
    requestFor: 'fd00:99::100',
    reply: (d) => assert.ok(d.ok && formatMac(d.value.eth.dst) === formatMac(OTHER)),
  },
  {
    name: 'DAD NS (unspecified source) for the VIP → NA to all-nodes, Solicited clear (RFC 4861 §7.2.4)',
    frame: ns({ src: new Uint8Array(16), lla: null }),
    requestFor: 'fd00:99::100',
    reply: (d) => {
      assert.ok(d.ok && d.value.kind === 'nd' && d.value.nd.type === 136);
      assert.deepEqual([...d.value.ip.dst], [...ALL_NODES_IPV6]);
      assert.equal(formatMac(d.value.eth.dst), '33:33:00:00:00:01');
      assert.equal(d.value.nd.solicited, false);
    },
  },
  { name: 'NS for another target', frame: ns({ target: ipv6Bytes('fd00:99::1') }), drop: 'not-owned' },
  { name: 'NS to an unrelated IPv6 destination', frame: ns({ dst: ipv6Bytes('fd00:99::7'), ethDst: OURS }), drop: 'not-for-us' },
  { name: 'NS unicast to another MAC', frame: ns({ dst: VIP6, ethDst: OTHER }), drop: 'not-for-us' },
  {
    name: 'NS with hop limit 64 (off-link forgery)',
    frame: (() => {
      const f = ns();
      f[14 + 7] = 64;
      return f;
    })(),
    drop: 'nd-bad-hop-limit',
    malformed: true,
  },
  {
    name: "another node's NA for our VIP → conflict",
    frame: encodeEthernet(ipv6MulticastMac(ALL_NODES_IPV6), OTHER, EtherType.Ipv6, encodeNa({ src: CLIENT6, dst: ALL_NODES_IPV6, target: VIP6, linkLayerAddress: OTHER, router: false, solicited: false, override: true })),
    drop: 'not-a-request',
    conflict: { ip: 'fd00:99::100', mac: '02:cc:00:00:00:03' },
  },
  {
    name: 'NA for an IP we do not own',
    frame: encodeEthernet(CLIENT, OTHER, EtherType.Ipv6, encodeNa({ src: CLIENT6, dst: CLIENT6, target: CLIENT6, linkLayerAddress: OTHER, router: false, solicited: true, override: true })),
    drop: 'not-a-request',
  },
];

for (const row of rows) {
  test(row.name, () => {
    const out: Outcome = respond(row.frame, ctx);
    assert.equal(out.drop, row.drop);
    assert.equal(out.malformed, row.malformed);
    assert.equal(out.requestFor, row.requestFor);
    assert.deepEqual(out.conflict, row.conflict);
    if (row.reply) {
      assert.ok(out.reply, 'a reply');
      row.reply(decodeFrame(out.reply));
    } else {
      assert.equal(out.reply, undefined);
    }
  });
}

test('the table covers every outcome kind', () => {
  assert.ok(rows.length >= 20);
  const drops = new Set(rows.map((r) => r.drop));
  for (const d of ['not-owned', 'not-for-us', 'not-a-request', 'from-self', undefined]) assert.ok(drops.has(d), String(d));
});

// The pure ARP / NDP responder: one received frame and what this interface answers for → the reply to send,
// or why nothing is sent. It also spots another station claiming one of our IPs (the split-brain guard's
// input). No I/O, no clock, never throws: the engine (engine.ts) feeds it frames and does the sending.
import { formatIPv4, formatIPv6Bytes, ipv4Number, ipv6Bytes } from '../ip/index.js';
import {
  ALL_NODES_IPV6,
  ArpOp,
  BROADCAST_MAC,
  EtherType,
  Icmpv6Type,
  arpFrame,
  bytesEqual,
  decodeFrame,
  encodeEthernet,
  encodeNa,
  ethernetDestinationFor,
  formatMac,
  isMulticastMac,
  isUnspecifiedIpv6,
  solicitedNodeMulticast,
  type DropReason,
} from './frames.js';

/** Why a well-formed frame got no answer. Not an error: most ARP traffic on a segment is not for us. */
export type IgnoreReason =
  /** ARP / NS for an address this interface does not answer for. */
  | 'not-owned'
  /** An ARP reply or NA, or a gratuitous ARP: nothing to answer. */
  | 'not-a-request'
  /** Ethernet destination neither broadcast/multicast nor our MAC, or an NS to another IPv6 address. */
  | 'not-for-us'
  /** A frame sent from our own MAC (our gratuitous frames, or a looped copy). */
  | 'from-self';

export interface ResponderContext {
  /** The receiving interface's MAC: the answer's sender / target link-layer address. */
  readonly mac: Uint8Array;
  /** IPv4 addresses this interface answers for, as unsigned 32-bit numbers. */
  readonly ipv4: ReadonlySet<number>;
  /** IPv6 addresses this interface answers for, as 32-digit lowercase hex. */
  readonly ipv6: ReadonlySet<string>;
}

export interface Outcome {
  reply?: Buffer;
  /** Set when nothing is sent: a `DropReason` for a malformed frame, an `IgnoreReason` for one not for us. */
  drop?: DropReason | IgnoreReason;
  /** True when `drop` is a malformed-frame reason (count it as an error, not as background traffic). */
  malformed?: boolean;
  /** The owned IP an ARP request / NS asked for (`metallb_layer2_requests_received{ip}`). */
  requestFor?: string;
  /** Another MAC claims an IP we answer for (ARP sender or NA target). */
  conflict?: { ip: string; mac: string };
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Builds a context from text: IPs of both families (invalid text throws: they come from our own state). */
export function responderContext(mac: Uint8Array, ips: Iterable<string>): ResponderContext {
  const ipv4 = new Set<number>();
  const ipv6 = new Set<string>();
  for (const ip of ips) {
    if (ip.includes(':')) ipv6.add(hex(ipv6Bytes(ip)));
    else ipv4.add(ipv4Number(ip));
  }
  return { mac, ipv4, ipv6 };
}

export function respond(frame: Uint8Array, ctx: ResponderContext): Outcome {
  const d = decodeFrame(frame);
  if (!d.ok) return { drop: d.drop, malformed: true };
  const { eth } = d.value;
  if (bytesEqual(eth.src, ctx.mac)) return { drop: 'from-self' };

  if (d.value.kind === 'arp') {
    const a = d.value.arp;
    const out: Outcome = {};
    // Someone else uses one of our IPs as its sender address (its own GARP, an ARP reply, a request):
    // exactly what two nodes answering for one VIP looks like from here.
    if (ctx.ipv4.has(a.senderIp) && !bytesEqual(a.senderMac, ctx.mac)) out.conflict = { ip: formatIPv4(a.senderIp), mac: formatMac(a.senderMac) };
    if (a.op !== ArpOp.Request || a.senderIp === a.targetIp) return { ...out, drop: 'not-a-request' };
    // MetalLB answers only requests sent to broadcast or to our MAC; a unicast for another station reaching
    // us (a flooding switch, promiscuous mode) is not ours to answer.
    if (!bytesEqual(eth.dst, BROADCAST_MAC) && !bytesEqual(eth.dst, ctx.mac)) return { ...out, drop: 'not-for-us' };
    if (!ctx.ipv4.has(a.targetIp)) return { ...out, drop: 'not-owned' };
    if (isMulticastMac(a.senderMac)) return { ...out, drop: 'sender-mac-multicast', malformed: true };
    // RFC 826: swap sender and target, fill in our hardware address, send to the requester's hardware
    // address. An RFC 5227 probe (sender IP 0.0.0.0) gets the same answer, which is how the address is defended.
    const reply = arpFrame(a.senderMac, ctx.mac, { op: ArpOp.Reply, senderMac: ctx.mac, senderIp: a.targetIp, targetMac: a.senderMac, targetIp: a.senderIp });
    return { ...out, reply, requestFor: formatIPv4(a.targetIp) };
  }

  const { ip, nd } = d.value;
  const targetKey = hex(nd.target);
  const owned = ctx.ipv6.has(targetKey);
  if (nd.type === Icmpv6Type.NeighborAdvertisement) {
    const claimed = nd.linkLayerAddress ?? eth.src;
    if (owned && !bytesEqual(claimed, ctx.mac)) return { drop: 'not-a-request', conflict: { ip: formatIPv6Bytes(nd.target, 0), mac: formatMac(claimed) } };
    return { drop: 'not-a-request' };
  }
  const out: Outcome = {};
  if (ctx.ipv6.has(hex(ip.src)) && !bytesEqual(eth.src, ctx.mac)) out.conflict = { ip: formatIPv6Bytes(ip.src, 0), mac: formatMac(eth.src) };
  if (!isMulticastMac(eth.dst) && !bytesEqual(eth.dst, ctx.mac)) return { ...out, drop: 'not-for-us' };
  // An NS goes to the target's solicited-node group (resolution, DAD) or to the target itself (NUD).
  if (!bytesEqual(ip.dst, nd.target) && !bytesEqual(ip.dst, solicitedNodeMulticast(nd.target))) return { ...out, drop: 'not-for-us' };
  if (!owned) return { ...out, drop: 'not-owned' };
  // RFC 4861 §7.2.4: to the solicitor with Solicited set; from the unspecified address (DAD) to all-nodes with
  // Solicited clear. Override is set (unlike MetalLB, which clears it): the VIP is not anycast, and a client
  // holding the previous owner's MAC must switch on this answer (RFC 4861 §7.2.7 allows O for such proxies'
  // own addresses; §7.2.8 case (b) needs O to replace an existing entry).
  const dad = isUnspecifiedIpv6(ip.src);
  const dst = dad ? ALL_NODES_IPV6 : ip.src;
  // Source: the target address itself, as Linux answers for its own addresses (RFC 4861 §4.4: an address of
  // the sending node; the VIP is one). A link-local source (MetalLB's choice) is rejected by clients that
  // match the answer's scope to the question's, such as ndisc6 (seen in test/interop/l2-frames.test.ts).
  const src = nd.target;
  const na = encodeNa({ src, dst, target: nd.target, linkLayerAddress: ctx.mac, router: false, solicited: !dad, override: true });
  // Unicast to the solicitor's link-layer address: its Source Link-Layer Address option when present,
  // else the frame's Ethernet source (a NUD probe usually carries no option).
  const unicastMac = nd.linkLayerAddress ?? eth.src;
  if (!dad && isMulticastMac(unicastMac)) return { ...out, drop: 'sender-mac-multicast', malformed: true };
  const reply = encodeEthernet(ethernetDestinationFor(dst, unicastMac), ctx.mac, EtherType.Ipv6, na);
  return { ...out, reply, requestFor: formatIPv6Bytes(nd.target, 0) };
}

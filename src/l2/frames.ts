// Pure encoders and decoders for the frames Layer 2 mode sends and receives: Ethernet II (RFC 894 framing,
// 802.1Q tags skipped), ARP (RFC 826; gratuitous forms of RFC 5227 §3), the IPv6 header (RFC 8200 §3) and
// ICMPv6 Neighbor Solicitation / Advertisement (RFC 4861 §4.3, §4.4) with the ICMPv6 checksum over the
// pseudo-header (RFC 4443 §2.3, RFC 8200 §8.1). No dependencies.
//
// Decoders never throw: whatever bytes arrive, they return `{ok: true, value}` or `{ok: false, drop}` with a
// reason from `DropReason`, so the engine can count malformed frames by reason. Encoders take already-valid
// values (addresses of the right length) and return a fresh Buffer.

/** EtherType values (IEEE 802 numbers registry). */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  Vlan: 0x8100,
  QinQ: 0x88a8,
  Ipv6: 0x86dd,
} as const;

/** ARP operation codes (RFC 826). */
export const ArpOp = { Request: 1, Reply: 2 } as const;

/** ICMPv6 message types of RFC 4861 §4. */
export const Icmpv6Type = { NeighborSolicitation: 135, NeighborAdvertisement: 136 } as const;

/** Neighbor Discovery option types (RFC 4861 §4.6). */
export const NdOptionType = { SourceLinkLayerAddress: 1, TargetLinkLayerAddress: 2 } as const;

export const IPPROTO_ICMPV6 = 58;
/** Hop limit every ND message is sent with and must arrive with (RFC 4861 §7.1: proves it came from on-link). */
export const ND_HOP_LIMIT = 255;

export const ETHERNET_HEADER_LENGTH = 14;
export const ARP_LENGTH = 28;
export const IPV6_HEADER_LENGTH = 40;
/** Fixed part of NS and NA: type, code, checksum, 4 octets (flags/reserved), target (RFC 4861 §4.3, §4.4). */
export const ND_FIXED_LENGTH = 24;

export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ZERO_MAC: Uint8Array = new Uint8Array(6);
export const UNSPECIFIED_IPV6: Uint8Array = new Uint8Array(16);
/** ff02::1, the link-local all-nodes group (RFC 4291 §2.7.1). */
export const ALL_NODES_IPV6: Uint8Array = new Uint8Array([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

/** Why a frame was not used. Malformed ones are counted by reason; the engine never throws on them. */
export type DropReason =
  | 'ethernet-truncated'
  | 'ethertype-unsupported'
  | 'arp-truncated'
  | 'arp-not-ethernet-ipv4'
  | 'arp-bad-op'
  | 'ipv6-truncated'
  | 'ipv6-bad-version'
  | 'ipv6-not-icmpv6'
  | 'icmpv6-truncated'
  | 'icmpv6-bad-checksum'
  | 'icmpv6-not-nd'
  | 'nd-bad-hop-limit'
  | 'nd-bad-code'
  | 'nd-target-multicast'
  | 'nd-bad-option'
  | 'ns-unspecified-source-bad-destination'
  | 'ns-unspecified-source-with-slla'
  | 'na-solicited-to-multicast'
  /** An ARP request or NS asking to be answered at a group MAC (ours would be a broadcast amplifier). */
  | 'sender-mac-multicast';

export type Decoded<T> = { ok: true; value: T } | { ok: false; drop: DropReason };

const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
const drop = <T>(reason: DropReason): Decoded<T> => ({ ok: false, drop: reason });

// ---------------------------------------------------------------------------------------------------------
// Addresses

/** "02:aa:00:00:00:01" (also "-" separated, any case) → 6 octets, or null. */
export function parseMac(s: string): Uint8Array | null {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(s);
  if (!m) return null;
  return new Uint8Array(m.slice(1).map((h) => parseInt(h, 16)));
}

/** Lowercase colon-separated text of the 6 octets at b[off..off+6). */
export function formatMac(b: Uint8Array, off = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push((b[off + i] ?? 0).toString(16).padStart(2, '0'));
  return out.join(':');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A group address has the I/G bit (least significant bit of the first octet) set (IEEE 802). */
export function isMulticastMac(mac: Uint8Array): boolean {
  return ((mac[0] ?? 0) & 1) === 1;
}

export function isMulticastIpv6(a: Uint8Array): boolean {
  return a[0] === 0xff;
}

export function isUnspecifiedIpv6(a: Uint8Array): boolean {
  return bytesEqual(a, UNSPECIFIED_IPV6);
}

/** ff02::1:ffXX:XXXX, the solicited-node group of `a` (RFC 4291 §2.7.1). */
export function solicitedNodeMulticast(a: Uint8Array): Uint8Array {
  return new Uint8Array([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, a[13] ?? 0, a[14] ?? 0, a[15] ?? 0]);
}

/** 33:33 followed by the last four octets of an IPv6 multicast address (RFC 2464 §7). */
export function ipv6MulticastMac(group: Uint8Array): Uint8Array {
  return new Uint8Array([0x33, 0x33, group[12] ?? 0, group[13] ?? 0, group[14] ?? 0, group[15] ?? 0]);
}

/** fe80::/64 with the modified EUI-64 interface identifier of `mac` (RFC 4291 Appendix A, RFC 2464 §4). */
export function linkLocalFromMac(mac: Uint8Array): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a[8] = (mac[0] ?? 0) ^ 0x02;
  a[9] = mac[1] ?? 0;
  a[10] = mac[2] ?? 0;
  a[11] = 0xff;
  a[12] = 0xfe;
  a[13] = mac[3] ?? 0;
  a[14] = mac[4] ?? 0;
  a[15] = mac[5] ?? 0;
  return a;
}

// ---------------------------------------------------------------------------------------------------------
// Ethernet II

export interface EthernetFrame {
  dst: Uint8Array;
  src: Uint8Array;
  /** The EtherType after any 802.1Q / 802.1ad tags. */
  etherType: number;
  /** VLAN IDs of the tags skipped, outermost first (empty when untagged). */
  vlans: number[];
  /** Everything after the header, including any padding up to the 60-octet minimum. */
  payload: Uint8Array;
}

export function decodeEthernet(b: Uint8Array): Decoded<EthernetFrame> {
  if (b.length < ETHERNET_HEADER_LENGTH) return drop('ethernet-truncated');
  let off = 12;
  let etherType = (b[off]! << 8) | b[off + 1]!;
  const vlans: number[] = [];
  // Tags are normally stripped by the NIC and the kernel before an AF_PACKET socket sees the frame; a tag
  // that is still there (a socket on a trunk without offload) is skipped, at most two deep (QinQ).
  while ((etherType === EtherType.Vlan || etherType === EtherType.QinQ) && vlans.length < 2) {
    if (b.length < off + 6) return drop('ethernet-truncated');
    vlans.push(((b[off + 2]! << 8) | b[off + 3]!) & 0x0fff);
    off += 4;
    etherType = (b[off]! << 8) | b[off + 1]!;
  }
  return ok({ dst: b.subarray(0, 6), src: b.subarray(6, 12), etherType, vlans, payload: b.subarray(off + 2) });
}

export function encodeEthernet(dst: Uint8Array, src: Uint8Array, etherType: number, payload: Uint8Array): Buffer {
  const f = Buffer.alloc(ETHERNET_HEADER_LENGTH + payload.length);
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  f.writeUInt16BE(etherType, 12);
  f.set(payload, ETHERNET_HEADER_LENGTH);
  return f;
}

// ---------------------------------------------------------------------------------------------------------
// ARP (RFC 826), Ethernet hardware and IPv4 protocol addresses only

export interface ArpPacket {
  op: number;
  senderMac: Uint8Array;
  /** Sender protocol address as an unsigned 32-bit number. */
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

export function decodeArp(b: Uint8Array): Decoded<ArpPacket> {
  if (b.length < ARP_LENGTH) return drop('arp-truncated');
  const htype = (b[0]! << 8) | b[1]!;
  const ptype = (b[2]! << 8) | b[3]!;
  // RFC 826 allows any hardware/protocol pair; Layer 2 mode answers for IPv4 on Ethernet only.
  if (htype !== 1 || ptype !== EtherType.Ipv4 || b[4] !== 6 || b[5] !== 4) return drop('arp-not-ethernet-ipv4');
  const op = (b[6]! << 8) | b[7]!;
  if (op !== ArpOp.Request && op !== ArpOp.Reply) return drop('arp-bad-op');
  return ok({ op, senderMac: b.subarray(8, 14), senderIp: u32(b, 14), targetMac: b.subarray(18, 24), targetIp: u32(b, 24) });
}

export function encodeArp(p: ArpPacket): Buffer {
  const b = Buffer.alloc(ARP_LENGTH);
  b.writeUInt16BE(1, 0); // htype Ethernet
  b.writeUInt16BE(EtherType.Ipv4, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(p.op, 6);
  b.set(p.senderMac.subarray(0, 6), 8);
  b.writeUInt32BE(p.senderIp >>> 0, 14);
  b.set(p.targetMac.subarray(0, 6), 18);
  b.writeUInt32BE(p.targetIp >>> 0, 24);
  return b;
}

/** A whole ARP frame. Ethernet pads to 60 octets on the wire; AF_PACKET and the NIC add the padding. */
export function arpFrame(dst: Uint8Array, src: Uint8Array, p: ArpPacket): Buffer {
  return encodeEthernet(dst, src, EtherType.Arp, encodeArp(p));
}

/**
 * The two gratuitous ARP forms MetalLB sends for `ip` from `mac`, both broadcast with sender IP = target IP:
 * the ARP Announcement of RFC 5227 §3 (a request, target MAC zero as §2.3 says) and the reply form that some
 * clients honour instead (MetalLB issue #172).
 */
export function gratuitousArpFrames(mac: Uint8Array, ip: number): [request: Buffer, reply: Buffer] {
  return [
    arpFrame(BROADCAST_MAC, mac, { op: ArpOp.Request, senderMac: mac, senderIp: ip, targetMac: ZERO_MAC, targetIp: ip }),
    arpFrame(BROADCAST_MAC, mac, { op: ArpOp.Reply, senderMac: mac, senderIp: ip, targetMac: BROADCAST_MAC, targetIp: ip }),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// IPv6 header (RFC 8200 §3)

export interface Ipv6Packet {
  trafficClass: number;
  flowLabel: number;
  nextHeader: number;
  hopLimit: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** Exactly payloadLength octets (link-layer padding after them is cut off). */
  payload: Uint8Array;
}

export function decodeIpv6(b: Uint8Array): Decoded<Ipv6Packet> {
  if (b.length < IPV6_HEADER_LENGTH) return drop('ipv6-truncated');
  if (b[0]! >> 4 !== 6) return drop('ipv6-bad-version');
  const payloadLength = (b[4]! << 8) | b[5]!;
  // Jumbograms (payload length 0, RFC 2675) never carry ND: they would fail the length check below anyway.
  if (IPV6_HEADER_LENGTH + payloadLength > b.length) return drop('ipv6-truncated');
  return ok({
    trafficClass: ((b[0]! & 0x0f) << 4) | (b[1]! >> 4),
    flowLabel: ((b[1]! & 0x0f) << 16) | (b[2]! << 8) | b[3]!,
    nextHeader: b[6]!,
    hopLimit: b[7]!,
    src: b.subarray(8, 24),
    dst: b.subarray(24, 40),
    payload: b.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
  });
}

export function encodeIpv6(p: Omit<Ipv6Packet, 'trafficClass' | 'flowLabel'> & { trafficClass?: number; flowLabel?: number }): Buffer {
  const b = Buffer.alloc(IPV6_HEADER_LENGTH + p.payload.length);
  const tc = p.trafficClass ?? 0;
  const fl = p.flowLabel ?? 0;
  b.writeUInt32BE(((6 << 28) | ((tc & 0xff) << 20) | (fl & 0xfffff)) >>> 0, 0);
  b.writeUInt16BE(p.payload.length, 4);
  b[6] = p.nextHeader;
  b[7] = p.hopLimit;
  b.set(p.src.subarray(0, 16), 8);
  b.set(p.dst.subarray(0, 16), 24);
  b.set(p.payload, IPV6_HEADER_LENGTH);
  return b;
}

/**
 * The Internet checksum (RFC 1071) of an ICMPv6 message with the pseudo-header of RFC 8200 §8.1 (source,
 * destination, upper-layer length, next header 58), as RFC 4443 §2.3 requires. Over a message whose checksum
 * field holds the right value the result is 0; to fill the field, compute with it zeroed.
 */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, icmp: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 16; i += 2) sum += ((src[i]! << 8) | src[i + 1]!) + ((dst[i]! << 8) | dst[i + 1]!);
  const len = icmp.length;
  sum += (len >>> 16) + (len & 0xffff) + IPPROTO_ICMPV6;
  for (let i = 0; i + 1 < len; i += 2) sum += (icmp[i]! << 8) | icmp[i + 1]!;
  if (len & 1) sum += icmp[len - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

// ---------------------------------------------------------------------------------------------------------
// Neighbor Discovery (RFC 4861)

export interface NdOption {
  type: number;
  /** The option's octets after type and length (length·8 − 2 of them). */
  data: Uint8Array;
}

interface NdCommon {
  target: Uint8Array;
  options: NdOption[];
  /** The link-layer address of the first Source (NS) / Target (NA) Link-Layer Address option, if any. */
  linkLayerAddress: Uint8Array | null;
}

export interface NeighborSolicitation extends NdCommon {
  type: typeof Icmpv6Type.NeighborSolicitation;
}

export interface NeighborAdvertisement extends NdCommon {
  type: typeof Icmpv6Type.NeighborAdvertisement;
  router: boolean;
  solicited: boolean;
  override: boolean;
}

export type NdMessage = NeighborSolicitation | NeighborAdvertisement;

/** Options of RFC 4861 §4.6: each has a non-zero length (units of 8 octets) and fits in the message. */
export function decodeNdOptions(b: Uint8Array): Decoded<NdOption[]> {
  const out: NdOption[] = [];
  let off = 0;
  while (off < b.length) {
    if (off + 2 > b.length) return drop('nd-bad-option');
    const len = b[off + 1]! * 8;
    if (len === 0 || off + len > b.length) return drop('nd-bad-option');
    out.push({ type: b[off]!, data: b.subarray(off + 2, off + len) });
    off += len;
  }
  return ok(out);
}

export function encodeNdOption(type: number, data: Uint8Array): Buffer {
  const len = Math.ceil((data.length + 2) / 8) * 8;
  const b = Buffer.alloc(len);
  b[0] = type;
  b[1] = len / 8;
  b.set(data, 2);
  return b;
}

/**
 * Decodes an NS or NA from its IPv6 packet and applies the validity checks of RFC 4861 §7.1.1 (NS) and §7.1.2
 * (NA): hop limit 255, checksum, code 0, ICMP length ≥ 24, target not multicast, options of non-zero length;
 * for NS from the unspecified address, destination a solicited-node group and no source link-layer option;
 * for NA to a multicast destination, Solicited clear. Other ICMPv6 types are `icmpv6-not-nd`.
 */
export function decodeNd(ip: Ipv6Packet): Decoded<NdMessage> {
  if (ip.nextHeader !== IPPROTO_ICMPV6) return drop('ipv6-not-icmpv6');
  const icmp = ip.payload;
  if (icmp.length < 4) return drop('icmpv6-truncated');
  const type = icmp[0]!;
  if (type !== Icmpv6Type.NeighborSolicitation && type !== Icmpv6Type.NeighborAdvertisement) return drop('icmpv6-not-nd');
  if (ip.hopLimit !== ND_HOP_LIMIT) return drop('nd-bad-hop-limit');
  if (icmpv6Checksum(ip.src, ip.dst, icmp) !== 0) return drop('icmpv6-bad-checksum');
  if (icmp[1] !== 0) return drop('nd-bad-code');
  if (icmp.length < ND_FIXED_LENGTH) return drop('icmpv6-truncated');
  const target = icmp.subarray(8, 24);
  if (isMulticastIpv6(target)) return drop('nd-target-multicast');
  const opts = decodeNdOptions(icmp.subarray(ND_FIXED_LENGTH));
  if (!opts.ok) return opts;
  const lla = type === Icmpv6Type.NeighborSolicitation ? NdOptionType.SourceLinkLayerAddress : NdOptionType.TargetLinkLayerAddress;
  const llo = opts.value.find((o) => o.type === lla);
  // An Ethernet link-layer address option is exactly 8 octets (RFC 2464 §6); a longer one belongs to another
  // link type and is not an address we could answer to.
  const linkLayerAddress = llo !== undefined && llo.data.length >= 6 ? llo.data.subarray(0, 6) : null;
  if (type === Icmpv6Type.NeighborSolicitation) {
    if (isUnspecifiedIpv6(ip.src)) {
      if (!bytesEqual(ip.dst, solicitedNodeMulticast(target))) return drop('ns-unspecified-source-bad-destination');
      if (llo !== undefined) return drop('ns-unspecified-source-with-slla');
    }
    return ok({ type, target, options: opts.value, linkLayerAddress });
  }
  const flags = icmp[4]!;
  const solicited = (flags & 0x40) !== 0;
  if (solicited && isMulticastIpv6(ip.dst)) return drop('na-solicited-to-multicast');
  return ok({ type, target, options: opts.value, linkLayerAddress, router: (flags & 0x80) !== 0, solicited, override: (flags & 0x20) !== 0 });
}

export interface NdEncodeOptions {
  src: Uint8Array;
  dst: Uint8Array;
  target: Uint8Array;
  /** Our MAC, sent as the Source (NS) or Target (NA) link-layer address option; omitted when null. */
  linkLayerAddress: Uint8Array | null;
}

/** An IPv6 packet carrying an NS (RFC 4861 §4.3), checksum filled in. */
export function encodeNs(o: NdEncodeOptions): Buffer {
  return encodeNdPacket(o, Icmpv6Type.NeighborSolicitation, 0, NdOptionType.SourceLinkLayerAddress);
}

/** An IPv6 packet carrying an NA (RFC 4861 §4.4), checksum filled in. */
export function encodeNa(o: NdEncodeOptions & { router: boolean; solicited: boolean; override: boolean }): Buffer {
  const flags = (o.router ? 0x80 : 0) | (o.solicited ? 0x40 : 0) | (o.override ? 0x20 : 0);
  return encodeNdPacket(o, Icmpv6Type.NeighborAdvertisement, flags, NdOptionType.TargetLinkLayerAddress);
}

function encodeNdPacket(o: NdEncodeOptions, type: number, flags: number, llaType: number): Buffer {
  const opt = o.linkLayerAddress === null ? Buffer.alloc(0) : encodeNdOption(llaType, o.linkLayerAddress.subarray(0, 6));
  const icmp = Buffer.alloc(ND_FIXED_LENGTH + opt.length);
  icmp[0] = type;
  icmp[4] = flags;
  icmp.set(o.target.subarray(0, 16), 8);
  icmp.set(opt, ND_FIXED_LENGTH);
  icmp.writeUInt16BE(icmpv6Checksum(o.src, o.dst, icmp), 2);
  return encodeIpv6({ nextHeader: IPPROTO_ICMPV6, hopLimit: ND_HOP_LIMIT, src: o.src, dst: o.dst, payload: icmp });
}

/** Ethernet destination for an IPv6 destination: the RFC 2464 §7 group MAC for multicast, else `unicastMac`. */
export function ethernetDestinationFor(dst: Uint8Array, unicastMac: Uint8Array): Uint8Array {
  return isMulticastIpv6(dst) ? ipv6MulticastMac(dst) : unicastMac;
}

/** The unsolicited NA MetalLB sends on takeover: to all-nodes, Override set, Solicited clear (RFC 4861 §7.2.6). */
export function unsolicitedNaFrame(mac: Uint8Array, src: Uint8Array, target: Uint8Array): Buffer {
  const ip = encodeNa({ src, dst: ALL_NODES_IPV6, target, linkLayerAddress: mac, router: false, solicited: false, override: true });
  return encodeEthernet(ipv6MulticastMac(ALL_NODES_IPV6), mac, EtherType.Ipv6, ip);
}

// ---------------------------------------------------------------------------------------------------------
// Whole frames

export type DecodedFrame =
  | { kind: 'arp'; eth: EthernetFrame; arp: ArpPacket }
  | { kind: 'nd'; eth: EthernetFrame; ip: Ipv6Packet; nd: NdMessage };

/** Ethernet → ARP, or Ethernet → IPv6 → NS/NA with every validity check. Never throws. */
export function decodeFrame(b: Uint8Array): Decoded<DecodedFrame> {
  const eth = decodeEthernet(b);
  if (!eth.ok) return eth;
  if (eth.value.etherType === EtherType.Arp) {
    const arp = decodeArp(eth.value.payload);
    return arp.ok ? ok({ kind: 'arp', eth: eth.value, arp: arp.value }) : arp;
  }
  if (eth.value.etherType === EtherType.Ipv6) {
    const ip = decodeIpv6(eth.value.payload);
    if (!ip.ok) return ip;
    const nd = decodeNd(ip.value);
    return nd.ok ? ok({ kind: 'nd', eth: eth.value, ip: ip.value, nd: nd.value }) : nd;
  }
  return drop('ethertype-unsupported');
}

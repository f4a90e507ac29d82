// Layer 2 frame path: the cost of one received frame through the pure responder (decode, validity checks,
// reply built), which bounds how large an ARP/NS flood the engine absorbs per core.
import type { Register } from './case.js';
import { ipv4Number, ipv6Bytes } from '../src/ip/index.js';
import { ArpOp, BROADCAST_MAC, EtherType, ZERO_MAC, arpFrame, encodeEthernet, encodeNs, ipv6MulticastMac, solicitedNodeMulticast } from '../src/l2/frames.js';
import { respond, responderContext } from '../src/l2/responder.js';

const OURS = new Uint8Array([2, 0xaa, 0, 0, 0, 1]);
const CLIENT = new Uint8Array([2, 0xbb, 0, 0, 0, 2]);
const VIP6 = ipv6Bytes('fd00:99::100');
const ctx = responderContext(OURS, ['10.99.0.100', 'fd00:99::100', ...Array.from({ length: 1000 }, (_, i) => `10.98.${i >> 8}.${i & 255}`)]);
const arpReq = arpFrame(BROADCAST_MAC, CLIENT, { op: ArpOp.Request, senderMac: CLIENT, senderIp: ipv4Number('10.99.0.2'), targetMac: ZERO_MAC, targetIp: ipv4Number('10.99.0.100') });
const arpOther = arpFrame(BROADCAST_MAC, CLIENT, { op: ArpOp.Request, senderMac: CLIENT, senderIp: ipv4Number('10.99.0.2'), targetMac: ZERO_MAC, targetIp: ipv4Number('10.99.0.7') });
const sn = solicitedNodeMulticast(VIP6);
const ns = encodeEthernet(ipv6MulticastMac(sn), CLIENT, EtherType.Ipv6, encodeNs({ src: ipv6Bytes('fd00:99::2'), dst: sn, target: VIP6, linkLayerAddress: CLIENT }));
const badNs = Buffer.from(ns);
badNs[14 + 7] = 64;

export function register(bench: Register): void {
  bench('l2 respond: ARP request for an owned IP (reply built)', () => respond(arpReq, ctx));
  bench('l2 respond: ARP request for another IP (ignored)', () => respond(arpOther, ctx));
  bench('l2 respond: NS for an owned IP (checksum checked, NA built)', () => respond(ns, ctx));
  bench('l2 respond: NS with hop limit 64 (malformed, dropped)', () => respond(badNs, ctx));
}

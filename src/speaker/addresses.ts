// The node's own addresses, as the speaker needs them: the BGP Identifier (router-id) when the config gives
// none, and the next hops of the export policy (NEXT_HOP self, RFC 4271 §5.1.3; the MP_REACH next hop of
// IPv6 routes, RFC 2545 §3). Pure functions over an `os.networkInterfaces()`-shaped table, so tests pass
// their own table and nothing here touches the system.
import type { NetworkInterfaceInfo } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';
import { formatIPv4, ipv4Number, ipv6Bytes } from '../ip/index.js';

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) → `10.0.0.1`; other text unchanged. */
export function unmapAddress(a: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m ? m[1]! : a;
}

/** Canonical text for comparing addresses (IPv6 through its 16 octets, so `2001:DB8:0::1` equals `2001:db8::1`). */
export function addressKey(a: string): string {
  const u = unmapAddress(a.split('%', 1)[0]!);
  if (isIPv4(u)) return u;
  if (isIPv6(u)) return Buffer.from(ipv6Bytes(u)).toString('hex');
  return u;
}

/**
 * An IPv6 address usable as a global next hop: not link-local (fe80::/10), loopback, unspecified, multicast
 * or IPv4-mapped. Unique local addresses (fc00::/7) count: they are routable within the site, and the
 * kernel gives them global scope too.
 */
export function isGlobalIpv6(a: string): boolean {
  if (!isIPv6(a)) return false;
  const b = ipv6Bytes(a.split('%', 1)[0]!);
  if (b.every((x) => x === 0)) return false; // ::
  if (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) return false; // ::1
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return false; // fe80::/10
  if (b[0] === 0xff) return false; // multicast
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return false; // ::ffff:0:0/96
  return true;
}

/** Name of the interface holding `address`, if any. */
export function interfaceOf(ifaces: InterfaceTable, address: string): string | undefined {
  const key = addressKey(address);
  for (const [name, list] of Object.entries(ifaces)) {
    if (list?.some((i) => addressKey(i.address) === key)) return name;
  }
  return undefined;
}

export interface NextHops {
  /** NEXT_HOP for IPv4 routes (unsigned 32-bit), or null. */
  readonly nextHop4: number | null;
  /** 16-octet global next hop for IPv6 routes, or null. */
  readonly nextHop6: Uint8Array | null;
  /** The text of each, for /status. */
  readonly nextHop4Text: string | null;
  readonly nextHop6Text: string | null;
}

/**
 * Next hops for a session whose socket's local address is `local`: that address for its own family, and for
 * the other family an address of the same interface (the peer reaches us over that link). No address of a
 * family means routes of that family cannot be sent; the Adj-RIB-Out reports why (/status).
 */
export function nextHopsFor(local: string, ifaces: InterfaceTable): NextHops {
  const addr = unmapAddress(local.split('%', 1)[0]!);
  const iface = interfaceOf(ifaces, addr);
  const onIface = iface === undefined ? [] : (ifaces[iface] ?? []);
  let v4: string | null = isIPv4(addr) ? addr : null;
  let v6: string | null = isIPv6(addr) && isGlobalIpv6(addr) ? addr : null;
  if (v4 === null) v4 = onIface.find((i) => i.family === 'IPv4')?.address ?? null;
  if (v6 === null) v6 = onIface.find((i) => i.family === 'IPv6' && isGlobalIpv6(i.address))?.address ?? null;
  return {
    nextHop4: v4 === null ? null : ipv4Number(v4),
    nextHop6: v6 === null ? null : ipv6Bytes(v6),
    nextHop4Text: v4,
    nextHop6Text: v6,
  };
}

export interface RouterIdChoice {
  readonly id: number;
  readonly text: string;
  readonly source: 'router-id' | 'source-address' | 'interface' | 'node-name';
}

/**
 * The BGP Identifier (RFC 4271 §4.2, RFC 6286) for a peer: `router-id` from the config, else the peer's
 * IPv4 `source-address`, else the first non-loopback IPv4 address of the node (interfaces in the table's
 * order, which is the kernel's). A node without IPv4 gets the CRC-32 of its name, as MetalLB does, so the
 * identifier is at least stable across restarts.
 */
export function chooseRouterId(
  peer: { readonly routerID: string | null; readonly sourceAddress: string | null },
  ifaces: InterfaceTable,
  nodeName: string,
): RouterIdChoice {
  if (peer.routerID !== null) return { id: ipv4Number(peer.routerID), text: peer.routerID, source: 'router-id' };
  if (peer.sourceAddress !== null && isIPv4(peer.sourceAddress)) {
    return { id: ipv4Number(peer.sourceAddress), text: peer.sourceAddress, source: 'source-address' };
  }
  for (const list of Object.values(ifaces)) {
    const a = list?.find((i) => i.family === 'IPv4' && !i.internal && !i.address.startsWith('127.'));
    if (a) return { id: ipv4Number(a.address), text: a.address, source: 'interface' };
  }
  // MetalLB writes the CRC as 4 little-endian octets into the identifier field.
  const c = crc32(new TextEncoder().encode(nodeName));
  let id = (((c & 0xff) << 24) | (((c >>> 8) & 0xff) << 16) | (((c >>> 16) & 0xff) << 8) | (c >>> 24)) >>> 0;
  if (id === 0) id = 1; // RFC 6286 §2.1: the identifier must not be 0
  return { id, text: formatIPv4(id), source: 'node-name' };
}

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bitwise: it runs once per peer. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

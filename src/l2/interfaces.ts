// Which interfaces answer for a VIP. MetalLB v0.12 answers on every up, broadcast interface that is not
// enslaved, whatever the VIP (metallb-compat.md §3.5), hence wrong-interface answers on multi-NIC hosts. ingot
// answers only where the VIP is on-link: on the interfaces with an address whose subnet contains it. Only when
// no interface has such a subnet (a VIP from a range routed to the node's segment) does it fall back to
// MetalLB's set. `--l2-interfaces` restricts both rules to the named interfaces.
//
// `chooseInterfaces` is pure over `InterfaceFacts`; `readInterfaceFacts` is the I/O that builds them from an
// os.networkInterfaces()-shaped table and /sys/class/net (both injectable).
import type { NetworkInterfaceInfo } from 'node:os';
import { networkInterfaces } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ipv4Number, ipv6Bytes } from '../ip/index.js';

/** net_device flags as /sys/class/net/IFACE/flags shows them (linux/if.h). */
export const IfFlags = { Up: 0x1, Broadcast: 0x2, Loopback: 0x8, NoArp: 0x80 } as const;

export interface InterfaceAddress {
  address: string;
  family: 4 | 6;
  prefixLength: number;
}

export interface InterfaceFacts {
  name: string;
  ifindex: number;
  mac: string;
  /** /sys/class/net/IFACE/flags */
  flags: number;
  /** A bridge port or bond member (/sys/class/net/IFACE/master, brport or bonding_slave exists). */
  enslaved: boolean;
  addresses: InterfaceAddress[];
}

export type Eligibility = 'ok' | 'down' | 'loopback' | 'no-broadcast' | 'noarp' | 'enslaved' | 'no-mac';

/** Whether an interface can answer ARP/NDP at all, and if not, why (shown in /status). */
export function eligibility(i: InterfaceFacts): Eligibility {
  if ((i.flags & IfFlags.Loopback) !== 0) return 'loopback';
  if ((i.flags & IfFlags.Up) === 0) return 'down';
  if ((i.flags & IfFlags.Broadcast) === 0) return 'no-broadcast';
  if ((i.flags & IfFlags.NoArp) !== 0) return 'noarp';
  // Frames of a bridge port or bond member are handled by the master; answering on the member would use the
  // member's MAC (wrong for a bond, invisible for a bridge).
  if (i.enslaved) return 'enslaved';
  if (i.mac === '00:00:00:00:00:00' || i.mac === '') return 'no-mac';
  return 'ok';
}

function addressBits(address: string): { family: 4 | 6; bytes: Uint8Array } | null {
  try {
    if (address.includes(':')) return { family: 6, bytes: ipv6Bytes(address.split('%', 1)[0]!) };
    const n = ipv4Number(address);
    return { family: 4, bytes: new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]) };
  } catch {
    return null;
  }
}

function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole] ?? 0) & mask) === ((b[whole] ?? 0) & mask);
}

/**
 * True when one of the interface's subnets contains `ip`. Host routes (/32, /128) do not count: a VIP put on an
 * interface as a single address (kube-proxy's IPVS dummy, our own loopback setup) says nothing about the link.
 * IPv6 link-local subnets do not count either.
 */
export function subnetContains(i: InterfaceFacts, ip: string): boolean {
  const v = addressBits(ip);
  if (v === null) return false;
  for (const a of i.addresses) {
    if (a.family !== v.family || a.prefixLength >= (v.family === 4 ? 32 : 128)) continue;
    const b = addressBits(a.address);
    if (b === null || (b.family === 6 && b.bytes[0] === 0xfe && (b.bytes[1]! & 0xc0) === 0x80)) continue;
    if (samePrefix(b.bytes, v.bytes, a.prefixLength)) return true;
  }
  return false;
}

export interface Choice {
  interfaces: string[];
  /** 'subnet': an interface's subnet holds the VIP; 'fallback': none does, so every eligible one. */
  rule: 'subnet' | 'fallback';
}

/**
 * The interfaces that answer for `ip`: the eligible ones (restricted to `only` when given) whose subnet
 * contains it, else every eligible one; for IPv6, only interfaces with an IPv6 address (NDP needs IPv6 on the
 * link; MetalLB requires a link-local one). Sorted by name so the answer is stable.
 */
export function chooseInterfaces(ip: string, table: readonly InterfaceFacts[], only?: readonly string[]): Choice {
  const v6 = ip.includes(':');
  const pool = table
    .filter((i) => eligibility(i) === 'ok')
    .filter((i) => only === undefined || only.length === 0 || only.includes(i.name))
    .filter((i) => !v6 || i.addresses.some((a) => a.family === 6))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const matching = pool.filter((i) => subnetContains(i, ip));
  if (matching.length > 0) return { interfaces: matching.map((i) => i.name), rule: 'subnet' };
  return { interfaces: pool.map((i) => i.name), rule: 'fallback' };
}

/** Parses `--l2-interfaces eth0,eth1`: trimmed, empty entries dropped, duplicates removed. */
export function parseInterfaceList(text: string): string[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names) {
    // Linux: at most 15 octets (IFNAMSIZ - 1), no '/', no whitespace, not "." or "..".
    if (n.length > 15 || /[/\s]/.test(n) || n === '.' || n === '..') throw new RangeError(`--l2-interfaces: '${n}' is not an interface name`);
  }
  return [...new Set(names)];
}

export interface SysReader {
  readFile(path: string): string | null;
  exists(path: string): boolean;
}

export const realSys: SysReader = {
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
  exists: (path) => existsSync(path),
};

/**
 * Facts for every interface in `table` that /sys knows (an interface that vanished in between is left out).
 * `sysDir` is /sys/class/net; tests pass a directory of their own.
 */
export function readInterfaceFacts(
  table: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
  sys: SysReader = realSys,
  sysDir = '/sys/class/net',
): InterfaceFacts[] {
  const out: InterfaceFacts[] = [];
  // os.networkInterfaces() lists only interfaces with an address; /sys lists the rest, but an interface
  // without any address has no subnet and (for IPv6) no link-local, so it can only be a fallback for IPv4.
  for (const [name, infos] of Object.entries(table)) {
    if (infos === undefined) continue;
    const dir = join(sysDir, name);
    const ifindex = Number((sys.readFile(join(dir, 'ifindex')) ?? '').trim());
    const flags = Number((sys.readFile(join(dir, 'flags')) ?? '').trim());
    if (!Number.isInteger(ifindex) || ifindex <= 0 || !Number.isInteger(flags)) continue;
    const mac = ((sys.readFile(join(dir, 'address')) ?? infos[0]?.mac ?? '').trim()).toLowerCase();
    const enslaved = sys.exists(join(dir, 'master')) || sys.exists(join(dir, 'brport')) || sys.exists(join(dir, 'bonding_slave'));
    const addresses: InterfaceAddress[] = [];
    for (const a of infos) {
      const prefix = a.cidr === null ? NaN : Number(a.cidr.slice(a.cidr.lastIndexOf('/') + 1));
      if (!Number.isInteger(prefix)) continue;
      addresses.push({ address: a.address, family: a.family === 'IPv6' ? 6 : 4, prefixLength: prefix });
    }
    out.push({ name, ifindex, mac, flags, enslaved, addresses });
  }
  return out;
}

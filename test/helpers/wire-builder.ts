// Independent builder of expected BGP wire bytes for tests. Deliberately naive: plain number arrays and
// concatenation, lengths computed from the parts, nothing shared with src/bgp. If the encoder and this file
// agree, two different implementations of RFC 4271 agree.

export type Bytes = readonly number[];

/** Concatenates byte arrays. */
export function cat(...parts: Bytes[]): number[] {
  const out: number[] = [];
  for (const p of parts) out.push(...p);
  return out;
}
export const u8 = (n: number): number[] => [n & 0xff];
export const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
export const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
export const bytes = (b: Bytes): Uint8Array => Uint8Array.from(b);
export const hex = (b: Bytes | Uint8Array): string => Buffer.from(Array.from(b)).toString('hex');

/** "a.b.c.d" → 4 octets. */
export function ip4(s: string): number[] {
  return s.split('.').map((x) => Number(x));
}
/** IPv4 text → unsigned 32-bit number. */
export function ip4n(s: string): number {
  return ip4(s).reduce((a, x) => a * 256 + x, 0);
}
/** IPv6 text (with one optional "::") → 16 octets. */
export function ip6(s: string): number[] {
  const [head = '', tail] = s.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}
/** "addr/len" → NLRI encoding: length octet + ceil(len/8) address octets. */
export function prefix(p: string): number[] {
  const [addr = '', len = ''] = p.split('/');
  const n = Number(len);
  const a = addr.includes(':') ? ip6(addr) : ip4(addr);
  return [n, ...a.slice(0, Math.ceil(n / 8))];
}
export const prefixes = (ps: string[]): number[] => cat(...ps.map(prefix));

/** A whole message: marker, length, type, body. */
export function message(type: number, body: Bytes): number[] {
  return cat(new Array<number>(16).fill(0xff), u16(19 + body.length), u8(type), body);
}
export const keepalive = (): number[] => message(4, []);
export const notification = (code: number, subcode: number, data: Bytes = []): number[] => message(3, cat([code, subcode], data));
export const routeRefresh = (afi: number, safi: number, subtype = 0): number[] => message(5, cat(u16(afi), [subtype, safi]));

/** A capability TLV. */
export const cap = (code: number, value: Bytes = []): number[] => cat([code, value.length], value);
export const capMp = (afi: number, safi: number): number[] => cap(1, cat(u16(afi), [0, safi]));
export const capAs4 = (asn: number): number[] => cap(65, u32(asn));
/** An optional parameter (classic form). */
export const param = (type: number, value: Bytes): number[] => cat([type, value.length], value);
/** An OPEN with classic optional parameters. */
export function open(myAs: number, hold: number, id: string, params: Bytes[]): number[] {
  const p = cat(...params);
  return message(1, cat([4], u16(myAs), u16(hold), ip4(id), [p.length], p));
}
/** An OPEN with RFC 9072 extended optional parameters (each param: type, 2-octet length, value). */
export function openExtended(myAs: number, hold: number, id: string, params: { type: number; value: Bytes }[]): number[] {
  const p = cat(...params.map((x) => cat([x.type], u16(x.value.length), x.value)));
  return message(1, cat([4], u16(myAs), u16(hold), ip4(id), [255, 255], u16(p.length), p));
}

/** A path attribute; the Extended Length flag (0x10) picks the 2-octet length form. */
export function attr(flags: number, code: number, value: Bytes): number[] {
  return flags & 0x10 ? cat([flags, code], u16(value.length), value) : cat([flags, code, value.length], value);
}
export const origin = (o: number): number[] => attr(0x40, 1, [o]);
/** AS_PATH/AS4_PATH value from segments with `w`-octet ASNs. */
export const segments = (segs: { type: number; asns: number[] }[], w: 2 | 4): number[] =>
  cat(...segs.map((s) => cat([s.type, s.asns.length], ...s.asns.map((a) => (w === 4 ? u32(a) : u16(a))))));
export const asPath = (asns: number[], w: 2 | 4 = 4): number[] =>
  attr(0x40, 2, asns.length === 0 ? [] : segments([{ type: 2, asns }], w));
export const nextHop = (ip: string): number[] => attr(0x40, 3, ip4(ip));
export const med = (n: number): number[] => attr(0x80, 4, u32(n));
export const localPref = (n: number): number[] => attr(0x40, 5, u32(n));
export const communities = (cs: number[]): number[] => attr(0xc0, 8, cat(...cs.map(u32)));
export const largeCommunities = (cs: [number, number, number][]): number[] => attr(0xc0, 32, cat(...cs.map((c) => cat(...c.map(u32)))));
export function mpReach(afi: number, safi: number, nh: Bytes, nlri: Bytes, flags = 0x80): number[] {
  const v = cat(u16(afi), [safi, nh.length], nh, [0], nlri);
  return attr(v.length > 255 ? flags | 0x10 : flags, 14, v);
}
export function mpUnreach(afi: number, safi: number, withdrawn: Bytes, flags = 0x80): number[] {
  const v = cat(u16(afi), [safi], withdrawn);
  return attr(v.length > 255 ? flags | 0x10 : flags, 15, v);
}

/** An UPDATE from its three fields. */
export function update(withdrawn: Bytes, attrs: Bytes, nlri: Bytes): number[] {
  return message(2, cat(u16(withdrawn.length), withdrawn, u16(attrs.length), attrs, nlri));
}

/**
 * A BoRR ROUTE-REFRESH (RFC 7313 §3.2: AFI 1, subtype 1, SAFI 1) padded to `length` octets: a bad length
 * (RFC 7313 §5: NOTIFICATION 7/1), up to as long as a message may be.
 */
export function longBorr(length: number): Uint8Array {
  const b = new Uint8Array(length);
  b.fill(0xff, 0, 16);
  b[16] = length >>> 8;
  b[17] = length & 0xff;
  b[18] = 5; // ROUTE-REFRESH (RFC 2918)
  b[20] = 1;
  b[21] = 1;
  b[22] = 1;
  return b;
}

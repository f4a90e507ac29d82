// The liveness packet between Layer 2 speakers: one authenticated UDP datagram carrying the sender's identity,
// its replay-protection triple (incarnation, sequence, timestamp) and its view (who it hears, which IPs it
// claims since when). Pure encode/decode; the HMAC is node:crypto's (no dependency). Layout (big-endian):
//
//   0  magic "IGLM"            4  version (1)      5  type (1 heartbeat, 2 leave)
//   6  flags (bit 0: the sender's node is excluded from load balancers)
//   7  sender name length n   8  sender name (UTF-8, 1..253 octets: a Kubernetes node name)
//   +  incarnation u64 (random per process start)  +  sequence u64 (starts at 1, +1 per packet)
//   +  timestamp u64 (sender wall clock, ms since the epoch)
//   +  lag u16 (sender's measured timer lateness, ms, saturating)
//   +  alive count u16, then per member: length u8 + name
//   +  claim count u16, then per claim: family u8 (4|6), address (4|16 octets), since u64 (wall ms)
//   +  HMAC-SHA256 (32 octets) over every octet before it
//
// The MAC is checked before anything past the fixed header is parsed, so unauthenticated bytes never reach the
// body parser. A claim list of 4,000 IPv4 addresses still fits one datagram (65,507 octets); see README.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { formatIP, parseIP } from '../ip/index.js';

export const MAGIC = 0x49474c4d; // "IGLM"
export const VERSION = 1;
export const MAC_LENGTH = 32;
export const MAX_DATAGRAM = 65507;

export type PacketType = 'heartbeat' | 'leave';

export interface Packet {
  readonly type: PacketType;
  readonly sender: string;
  /** The sender's node carries node.kubernetes.io/exclude-from-external-load-balancers. */
  readonly excluded: boolean;
  /** Random per process start: a new value means the sender restarted (its sequence starts again). */
  readonly incarnation: bigint;
  readonly seq: number;
  /** Sender's wall clock, ms since the epoch. */
  readonly timestamp: number;
  /** Sender's measured timer lateness in ms (how busy it is). */
  readonly lag: number;
  /** Members the sender currently hears (its view), sorted. */
  readonly alive: readonly string[];
  /** IPs the sender announces: canonical IP text → wall-clock ms when it took the IP. */
  readonly claims: ReadonlyMap<string, number>;
}

/** Why a datagram was dropped (the label of ingot_layer2_member_packets_dropped_total). */
export type DropReason =
  | 'malformed'
  | 'badVersion'
  | 'unauthenticated'
  | 'unknownMember'
  | 'self'
  | 'stale'
  | 'replay';

export const DROP_REASONS: readonly DropReason[] = ['malformed', 'badVersion', 'unauthenticated', 'unknownMember', 'self', 'stale', 'replay'];

export type DecodeResult = { readonly ok: true; readonly packet: Packet } | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

const TYPE_CODE: Record<PacketType, number> = { heartbeat: 1, leave: 2 };

/** Shortest accepted key: MetalLB's controller generates 16 random bytes (22 base64 characters). */
export const MIN_KEY_LENGTH = 16;

/** A precise error for a key that would make the MAC worthless (empty or short), null when usable. */
export function keyProblem(key: Buffer): string | null {
  if (key.length < MIN_KEY_LENGTH) return `memberlist secret key has ${key.length} bytes; at least ${MIN_KEY_LENGTH} are required`;
  return null;
}

function mac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Encodes and signs a packet. Throws RangeError only on a caller bug (name too long, datagram too big). */
export function encodePacket(p: Packet, key: Buffer): Buffer {
  const parts: Buffer[] = [];
  const name = Buffer.from(p.sender, 'utf8');
  if (name.length < 1 || name.length > 253) throw new RangeError(`sender name length ${name.length} not in 1..253`);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(MAGIC, 0);
  head.writeUInt8(VERSION, 4);
  head.writeUInt8(TYPE_CODE[p.type], 5);
  head.writeUInt8(p.excluded ? 1 : 0, 6);
  head.writeUInt8(name.length, 7);
  parts.push(head, name);
  const fixed = Buffer.alloc(8 + 8 + 8 + 2);
  fixed.writeBigUInt64BE(BigInt.asUintN(64, p.incarnation), 0);
  fixed.writeBigUInt64BE(BigInt(p.seq), 8);
  fixed.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(p.timestamp))), 16);
  fixed.writeUInt16BE(Math.min(0xffff, Math.max(0, Math.round(p.lag))), 24);
  parts.push(fixed);
  const alive = p.alive.map((n) => Buffer.from(n, 'utf8')).filter((b) => b.length >= 1 && b.length <= 253);
  const count = Buffer.alloc(2);
  count.writeUInt16BE(Math.min(alive.length, 0xffff));
  parts.push(count);
  for (const b of alive.slice(0, 0xffff)) parts.push(Buffer.from([b.length]), b);
  const claims: Buffer[] = [];
  for (const [text, since] of p.claims) {
    const ip = parseIP(text);
    if (ip === null) continue; // the caller's claims come from parsed config; a bad one is skipped, not sent
    const c = Buffer.alloc(1 + (ip.family === 4 ? 4 : 16) + 8);
    c.writeUInt8(ip.family, 0);
    if (ip.family === 4) c.writeUInt32BE(Number(ip.value), 1);
    else {
      c.writeBigUInt64BE(ip.value >> 64n, 1);
      c.writeBigUInt64BE(ip.value & 0xffffffffffffffffn, 9);
    }
    c.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(since))), c.length - 8);
    claims.push(c);
  }
  if (claims.length > 0xffff) throw new RangeError(`${claims.length} claims do not fit one packet`);
  const cc = Buffer.alloc(2);
  cc.writeUInt16BE(claims.length);
  parts.push(cc, ...claims);
  const body = Buffer.concat(parts);
  if (body.length + MAC_LENGTH > MAX_DATAGRAM) throw new RangeError(`packet of ${body.length + MAC_LENGTH} octets exceeds a UDP datagram`);
  return Buffer.concat([body, mac(key, body)]);
}

/** A bounds-checked reader: every read past the end throws Short, caught once in decodePacket. */
class Short extends Error {}
class Reader {
  constructor(
    private readonly b: Buffer,
    public off: number,
    private readonly end: number,
  ) {}
  need(n: number): void {
    if (this.off + n > this.end) throw new Short(`truncated at octet ${this.off} (need ${n} more)`);
  }
  u8(): number {
    this.need(1);
    return this.b.readUInt8(this.off++);
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.b.readBigUInt64BE(this.off);
    this.off += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
}

const MIN_LENGTH = 8 + 1 + 26 + 2 + 2 + MAC_LENGTH;

/** Verifies and decodes a datagram. Never throws: every failure is a drop reason with a precise detail. */
export function decodePacket(buf: Buffer, key: Buffer): DecodeResult {
  if (buf.length < MIN_LENGTH) return { ok: false, reason: 'malformed', detail: `length ${buf.length} below the minimum ${MIN_LENGTH}` };
  if (buf.readUInt32BE(0) !== MAGIC) return { ok: false, reason: 'malformed', detail: `magic 0x${buf.readUInt32BE(0).toString(16)} is not "IGLM"` };
  if (buf.readUInt8(4) !== VERSION) return { ok: false, reason: 'badVersion', detail: `version ${buf.readUInt8(4)}, expected ${VERSION}` };
  const bodyEnd = buf.length - MAC_LENGTH;
  const got = buf.subarray(bodyEnd);
  const want = mac(key, buf.subarray(0, bodyEnd));
  if (!timingSafeEqual(got, want)) return { ok: false, reason: 'unauthenticated', detail: 'HMAC-SHA256 mismatch (wrong key or altered packet)' };
  try {
    const r = new Reader(buf, 5, bodyEnd);
    const typeCode = r.u8();
    const type: PacketType | null = typeCode === 1 ? 'heartbeat' : typeCode === 2 ? 'leave' : null;
    if (type === null) return { ok: false, reason: 'malformed', detail: `type ${typeCode} unknown` };
    const flags = r.u8();
    const nameLen = r.u8();
    if (nameLen === 0) return { ok: false, reason: 'malformed', detail: 'empty sender name' };
    const sender = r.bytes(nameLen).toString('utf8');
    const incarnation = r.u64();
    const seq64 = r.u64();
    const ts64 = r.u64();
    if (seq64 > BigInt(Number.MAX_SAFE_INTEGER) || ts64 > BigInt(Number.MAX_SAFE_INTEGER)) {
      return { ok: false, reason: 'malformed', detail: 'sequence or timestamp beyond 2^53' };
    }
    const lag = r.u16();
    const aliveCount = r.u16();
    const alive: string[] = [];
    for (let i = 0; i < aliveCount; i++) {
      const n = r.u8();
      if (n === 0) return { ok: false, reason: 'malformed', detail: `alive entry ${i} has an empty name` };
      alive.push(r.bytes(n).toString('utf8'));
    }
    const claimCount = r.u16();
    const claims = new Map<string, number>();
    for (let i = 0; i < claimCount; i++) {
      const family = r.u8();
      let text: string;
      if (family === 4) text = formatIP(4, BigInt(r.bytes(4).readUInt32BE(0)));
      else if (family === 6) {
        const b = r.bytes(16);
        text = formatIP(6, (b.readBigUInt64BE(0) << 64n) | b.readBigUInt64BE(8));
      } else return { ok: false, reason: 'malformed', detail: `claim ${i} has address family ${family}` };
      const since = r.u64();
      if (since > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'malformed', detail: `claim ${i} since beyond 2^53` };
      claims.set(text, Number(since));
    }
    if (r.off !== bodyEnd) return { ok: false, reason: 'malformed', detail: `${bodyEnd - r.off} trailing octets before the MAC` };
    return {
      ok: true,
      packet: { type, sender, excluded: (flags & 1) !== 0, incarnation, seq: Number(seq64), timestamp: Number(ts64), lag, alive, claims },
    };
  } catch (err) {
    if (err instanceof Short) return { ok: false, reason: 'malformed', detail: err.message };
    return { ok: false, reason: 'malformed', detail: String(err) };
  }
}

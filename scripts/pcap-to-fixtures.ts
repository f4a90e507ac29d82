// Splits the BGP sessions in a tcpdump capture into messages and writes the distinct, interesting ones as
// fixtures: test/fixtures/bgp/<kind>.<source>-<version>.<detail>.bin, plus a manifest (for tshark-to-json.ts)
// with each fixture's session context. See test/fixtures/bgp/README.md.
//
// Deliberately self-contained and independent of src/bgp: the fixtures are evidence *for* the codec, so they
// must not be cut by it. Only what is needed is parsed: classic pcap, Ethernet (+802.1Q) / Linux cooked,
// IPv4 / IPv6, TCP with in-order reassembly (retransmissions and out-of-order segments handled by sequence
// number), then BGP's 19-byte header (RFC 4271 §4.1) to cut the stream.
//
// Usage: node --import tsx scripts/pcap-to-fixtures.ts <pcap> <outdir> <manifest.json> \
//          --map 10.0.0.1=frr-8.4.4 --map 2001:db8::1=frr-8.4.4 ...
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

interface Segment {
  frame: number;
  time: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  syn: boolean;
  ack: boolean;
  payload: Uint8Array;
}

export interface BgpMessage {
  frame: number; // frame in which the message's last byte arrived
  time: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  conn: string; // direction-independent connection key, with a generation for reused 4-tuples
  bytes: Uint8Array;
}

// ---- pcap -----------------------------------------------------------------------------------------------------------
export function* readPcap(buf: Uint8Array): Generator<{ frame: number; time: number; linktype: number; data: Uint8Array }> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, false);
  let le: boolean;
  let nano = false;
  if (magic === 0xa1b2c3d4) le = false;
  else if (magic === 0xd4c3b2a1) le = true;
  else if (magic === 0xa1b23c4d) (le = false), (nano = true);
  else if (magic === 0x4d3cb2a1) (le = true), (nano = true);
  else throw new Error(`not a classic pcap file (magic ${magic.toString(16)}); pcapng is not supported`);
  const linktype = dv.getUint32(20, le) & 0x0fffffff;
  let off = 24;
  let frame = 0;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    off += 16;
    frame++;
    yield { frame, time: sec + frac / (nano ? 1e9 : 1e6), linktype, data: buf.subarray(off, off + incl) };
    off += incl;
  }
}

function ip4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function ip6(b: Uint8Array, o: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[o + 2 * i] ?? 0) << 8) | (b[o + 2 * i + 1] ?? 0));
  // RFC 5952 §4.2.3: compress the longest run (>= 2) of zero words, the first one on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) (best = i), (bestLen = j - i);
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Ethernet/cooked → IP → TCP; returns undefined for anything that is not a TCP segment. */
export function parseFrame(frame: number, time: number, linktype: number, d: Uint8Array): Segment | undefined {
  let off: number;
  let ethertype: number;
  if (linktype === 1) {
    off = 14;
    ethertype = ((d[12] ?? 0) << 8) | (d[13] ?? 0);
    while (ethertype === 0x8100 || ethertype === 0x88a8) {
      ethertype = ((d[off + 2] ?? 0) << 8) | (d[off + 3] ?? 0);
      off += 4;
    }
  } else if (linktype === 113) {
    off = 16;
    ethertype = ((d[14] ?? 0) << 8) | (d[15] ?? 0);
  } else if (linktype === 101) {
    off = 0;
    ethertype = ((d[0] ?? 0) >> 4) === 6 ? 0x86dd : 0x0800;
  } else {
    throw new Error(`unsupported pcap link type ${linktype}`);
  }
  let src: string;
  let dst: string;
  let proto: number;
  let end: number;
  if (ethertype === 0x0800) {
    const ihl = ((d[off] ?? 0) & 0x0f) * 4;
    const total = ((d[off + 2] ?? 0) << 8) | (d[off + 3] ?? 0);
    const fragField = ((d[off + 6] ?? 0) << 8) | (d[off + 7] ?? 0);
    if ((fragField & 0x3fff) !== 0) return undefined; // fragments never carry BGP here (TCP uses PMTU)
    proto = d[off + 9] ?? 0;
    src = ip4(d, off + 12);
    dst = ip4(d, off + 16);
    end = off + total;
    off += ihl;
  } else if (ethertype === 0x86dd) {
    const plen = ((d[off + 4] ?? 0) << 8) | (d[off + 5] ?? 0);
    proto = d[off + 6] ?? 0;
    src = ip6(d, off + 8);
    dst = ip6(d, off + 24);
    end = off + 40 + plen;
    off += 40;
    // Hop-by-hop, routing and destination options share the (next, len-in-8-octets) layout (RFC 8200 §4).
    while (proto === 0 || proto === 43 || proto === 60) {
      proto = d[off] ?? 0;
      off += ((d[off + 1] ?? 0) + 1) * 8;
    }
  } else {
    return undefined;
  }
  if (proto !== 6) return undefined;
  const sport = ((d[off] ?? 0) << 8) | (d[off + 1] ?? 0);
  const dport = ((d[off + 2] ?? 0) << 8) | (d[off + 3] ?? 0);
  const seq = (((d[off + 4] ?? 0) << 24) | ((d[off + 5] ?? 0) << 16) | ((d[off + 6] ?? 0) << 8) | (d[off + 7] ?? 0)) >>> 0;
  const dataOff = ((d[off + 12] ?? 0) >> 4) * 4;
  const flags = d[off + 13] ?? 0;
  return { frame, time, src, dst, sport, dport, seq, syn: (flags & 0x02) !== 0, ack: (flags & 0x10) !== 0, payload: d.subarray(off + dataOff, end) };
}

// ---- TCP reassembly + BGP framing --------------------------------------------------------------------------------------
interface Direction {
  conn: string;
  next: number | undefined; // next expected sequence number
  pending: Map<number, Segment>; // out-of-order segments by sequence number
  buf: Uint8Array;
}

const MARKER_LEN = 16;
const HEADER_LEN = 19;

export function extractMessages(pcap: Uint8Array): BgpMessage[] {
  const dirs = new Map<string, Direction>();
  const generation = new Map<string, number>();
  const out: BgpMessage[] = [];

  const connKey = (s: Segment): string => {
    const a = `${s.src}:${s.sport}`;
    const b = `${s.dst}:${s.dport}`;
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  };

  const deliver = (dir: Direction, seg: Segment, data: Uint8Array): void => {
    const merged = new Uint8Array(dir.buf.length + data.length);
    merged.set(dir.buf);
    merged.set(data, dir.buf.length);
    let off = 0;
    while (merged.length - off >= HEADER_LEN) {
      for (let i = 0; i < MARKER_LEN; i++) {
        if (merged[off + i] !== 0xff) throw new Error(`lost BGP framing on ${dir.conn} at frame ${seg.frame}`);
      }
      const len = ((merged[off + 16] ?? 0) << 8) | (merged[off + 17] ?? 0);
      if (len < HEADER_LEN) throw new Error(`bad BGP length ${len} on ${dir.conn} at frame ${seg.frame}`);
      if (merged.length - off < len) break;
      out.push({
        frame: seg.frame,
        time: seg.time,
        src: seg.src,
        dst: seg.dst,
        sport: seg.sport,
        dport: seg.dport,
        conn: dir.conn,
        bytes: merged.slice(off, off + len),
      });
      off += len;
    }
    dir.buf = merged.slice(off);
  };

  for (const f of readPcap(pcap)) {
    const seg = parseFrame(f.frame, f.time, f.linktype, f.data);
    if (!seg || (seg.sport !== 179 && seg.dport !== 179)) continue;
    const key = `${seg.src}:${seg.sport}>${seg.dst}:${seg.dport}`;
    let dir = dirs.get(key);
    if (seg.syn) {
      // A new connection on this 4-tuple: start a fresh stream (a new generation of the connection key).
      const ck = connKey(seg);
      if (!dir || dir.next !== (seg.seq + 1) >>> 0) {
        // SYN opens a new generation of this 4-tuple; the SYN-ACK joins the generation its SYN opened.
        const gen = seg.ack ? (generation.get(ck) ?? 0) : (generation.get(ck) ?? 0) + 1;
        generation.set(ck, gen);
        dir = { conn: `${ck}#${gen}`, next: (seg.seq + 1) >>> 0, pending: new Map(), buf: new Uint8Array(0) };
        dirs.set(key, dir);
      }
      continue;
    }
    if (!dir || dir.next === undefined || seg.payload.length === 0) continue; // mid-stream start: ignored
    dir.pending.set(seg.seq, seg);
    // Drain everything now contiguous; trim retransmitted overlap.
    for (;;) {
      let progressed = false;
      for (const [seq, s] of dir.pending) {
        const rel = (seq - dir.next) | 0; // signed distance, wrap-safe (RFC 793 sequence arithmetic)
        if (rel > 0) continue;
        dir.pending.delete(seq);
        const skip = -rel;
        if (skip < s.payload.length) {
          const data = s.payload.subarray(skip);
          dir.next = (dir.next + data.length) >>> 0;
          deliver(dir, s, data);
        }
        progressed = true;
      }
      if (!progressed) break;
    }
  }
  return out;
}

// ---- light classification (names only; the expected decode comes from tshark) --------------------------------------
interface OpenInfo {
  as: number;
  as4: boolean;
  extendedMessage: boolean;
  families: string[];
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

function u32(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

function capsOf(m: Uint8Array): Array<{ code: number; value: Uint8Array }> {
  // RFC 5492 §4 optional parameters; RFC 9072 §2 extended length when the first octet is 255 and type 255.
  const caps: Array<{ code: number; value: Uint8Array }> = [];
  let optLen = m[28] ?? 0;
  let off = 29;
  let ext = false;
  if (optLen === 255 && m[29] === 255) {
    ext = true;
    optLen = u16(m, 30);
    off = 32;
  }
  const end = off + optLen;
  while (off < end) {
    const type = m[off] ?? 0;
    const len = ext ? u16(m, off + 1) : (m[off + 1] ?? 0);
    const vo = off + (ext ? 3 : 2);
    if (type === 2) {
      let c = vo;
      while (c < vo + len) {
        const clen = m[c + 1] ?? 0;
        caps.push({ code: m[c] ?? 0, value: m.subarray(c + 2, c + 2 + clen) });
        c += 2 + clen;
      }
    }
    off = vo + len;
  }
  return caps;
}

export function openInfo(m: Uint8Array): OpenInfo {
  const caps = capsOf(m);
  let as = u16(m, 20);
  let as4 = false;
  const families: string[] = [];
  for (const c of caps) {
    if (c.code === 65) (as4 = true), (as = u32(c.value, 0));
    if (c.code === 1) families.push(`${u16(c.value, 0)}/${c.value[3] ?? 0}`);
  }
  return { as, as4, extendedMessage: caps.some((c) => c.code === 6), families };
}

const AFI_NAME: Record<number, string> = { 1: 'ipv4', 2: 'ipv6' };
/** Attribute codes the codec decodes (issue 2); anything else is an "unknown attribute" fixture. */
const KNOWN_ATTRS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17, 18, 32]);

function updateDetail(m: Uint8Array): string {
  const wlen = u16(m, 19);
  const alen = u16(m, 21 + wlen);
  const nlriLen = m.length - 23 - wlen - alen;
  if (wlen === 0 && alen === 0 && nlriLen === 0) return 'eor-ipv4'; // RFC 4724 §2
  const tags: string[] = [];
  const codes = new Set<number>();
  let mpReachAfi = 0;
  let mpReachNhLen = 0;
  let mpUnreachAfi = 0;
  let mpUnreachEmpty = false;
  let off = 23 + wlen;
  const end = off + alen;
  while (off < end) {
    const flags = m[off] ?? 0;
    const code = m[off + 1] ?? 0;
    const extLen = (flags & 0x10) !== 0;
    const len = extLen ? u16(m, off + 2) : (m[off + 2] ?? 0);
    const vo = off + (extLen ? 4 : 3);
    codes.add(code);
    if (code === 14) (mpReachAfi = u16(m, vo)), (mpReachNhLen = m[vo + 3] ?? 0);
    if (code === 15) (mpUnreachAfi = u16(m, vo)), (mpUnreachEmpty = len === 3);
    off = vo + len;
  }
  if (codes.size === 1 && codes.has(15) && mpUnreachEmpty && wlen === 0 && nlriLen === 0) {
    return `eor-${AFI_NAME[mpUnreachAfi] ?? `afi${mpUnreachAfi}`}`;
  }
  if (wlen > 0) tags.push('withdraw-ipv4');
  if (codes.has(15)) tags.push(`${AFI_NAME[mpUnreachAfi] ?? 'afi'}-mpunreach`);
  if (nlriLen > 0) tags.push('ipv4');
  if (codes.has(14)) {
    tags.push(`${AFI_NAME[mpReachAfi] ?? 'afi'}-mpreach`);
    if (mpReachNhLen === 32) tags.push('ll-nexthop'); // global + link-local (RFC 2545 §3)
  }
  if (codes.has(5)) tags.push('localpref');
  if (codes.has(4)) tags.push('med');
  if (codes.has(8)) tags.push('comm');
  if (codes.has(32)) tags.push('lcomm');
  if (codes.has(16)) tags.push('extcomm');
  if (codes.has(17)) tags.push('as4path');
  if (codes.has(7)) tags.push('aggregator');
  if (codes.has(18)) tags.push('as4aggregator');
  if ([...codes].some((c) => !KNOWN_ATTRS.has(c))) tags.push('unknown-attr');
  if (codes.has(6)) tags.push('atomic');
  return tags.join('-');
}

const NOTIFY_NAMES: Record<string, string> = {
  '1/1': 'header-conn-not-synced',
  '1/2': 'header-bad-length',
  '1/3': 'header-bad-type',
  '2/1': 'open-unsupported-version',
  '2/2': 'open-bad-peer-as',
  '2/3': 'open-bad-bgp-id',
  '2/4': 'open-unsupported-param',
  '2/6': 'open-unacceptable-hold',
  '2/7': 'open-unsupported-capability',
  '4/0': 'hold-timer-expired',
  '5/0': 'fsm-error',
  '6/1': 'cease-max-prefixes',
  '6/2': 'cease-admin-shutdown',
  '6/3': 'cease-peer-deconfigured',
  '6/4': 'cease-admin-reset',
  '6/5': 'cease-connection-rejected',
  '6/6': 'cease-other-config-change',
  '6/7': 'cease-collision',
  '6/8': 'cease-out-of-resources',
  '6/9': 'cease-hard-reset',
};

function classify(msg: BgpMessage, own: OpenInfo | undefined, peer: OpenInfo | undefined): { kind: string; detail: string } {
  const m = msg.bytes;
  const type = m[18];
  const session = own && peer ? (own.as === peer.as ? 'ibgp' : 'ebgp') : 'unknown';
  switch (type) {
    case 1: {
      const info = openInfo(m);
      const fams = info.families.map((f) => (f === '1/1' ? 'ipv4' : f === '2/1' ? 'ipv6' : f.replace('/', '-'))).join('-');
      const transport = msg.src.includes(':') ? 'v6transport' : 'v4transport';
      return { kind: 'open', detail: `${session}-${fams || 'nomp'}-${transport}${info.as4 ? '' : '-no-as4'}` };
    }
    case 2:
      return { kind: 'update', detail: `${session}-${updateDetail(m)}` };
    case 3: {
      const key = `${m[19]}/${m[20]}`;
      const name = NOTIFY_NAMES[key] ?? `code${m[19]}-sub${m[20]}`;
      return { kind: 'notification', detail: m.length > 21 && key === '6/2' ? `${name}-message` : name };
    }
    case 4:
      return { kind: 'keepalive', detail: 'plain' };
    case 5: {
      const sub = ['normal', 'borr', 'eorr'][m[21] ?? 0] ?? `subtype${m[21]}`;
      return { kind: 'route-refresh', detail: `${sub}-${AFI_NAME[u16(m, 19)] ?? 'afi'}` };
    }
    default:
      return { kind: `type${type}`, detail: 'unknown' };
  }
}

// ---- main ---------------------------------------------------------------------------------------------------------------
export interface ManifestEntry {
  name: string;
  hex: string;
  frame: number;
  from: string;
  to: string;
  context: { as4: boolean; extendedMessage: boolean };
}

function main(argv: string[]): void {
  const [pcapPath, outDir, manifestPath, ...rest] = argv;
  if (!pcapPath || !outDir || !manifestPath) {
    throw new Error('usage: pcap-to-fixtures.ts <pcap> <outdir> <manifest.json> --map IP=source-version ...');
  }
  const sources = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--map') {
      const [ip, src] = (rest[++i] ?? '').split('=');
      if (ip && src) sources.set(ip, src);
    }
  }
  const msgs = extractMessages(readFileSync(pcapPath));
  // The OPEN each side sent on each connection gives the session context (RFC 6793 §4: AS4 only when both
  // advertise it; RFC 8654 §3: extended message likewise).
  const opens = new Map<string, OpenInfo>();
  for (const m of msgs) if (m.bytes[18] === 1) opens.set(`${m.conn}@${m.src}`, openInfo(m.bytes));
  mkdirSync(outDir, { recursive: true });
  const seenBytes = new Set<string>();
  const seenNames = new Set<string>();
  const manifest: ManifestEntry[] = [];
  for (const m of msgs) {
    const source = sources.get(m.src);
    if (!source) continue;
    const hex = Buffer.from(m.bytes).toString('hex');
    // Identical bytes from different implementations are kept once per implementation: each is evidence.
    if (seenBytes.has(`${source} ${hex}`)) continue;
    seenBytes.add(`${source} ${hex}`);
    const own = opens.get(`${m.conn}@${m.src}`);
    const peer = opens.get(`${m.conn}@${m.dst}`);
    const { kind, detail } = classify(m, own, peer);
    const name = `${kind}.${source}.${detail}`;
    if (seenNames.has(name)) continue; // the first of each kind is enough; later ones add no coverage
    seenNames.add(name);
    writeFileSync(join(outDir, `${name}.bin`), m.bytes);
    manifest.push({
      name,
      hex,
      frame: m.frame,
      from: `${m.src}:${m.sport}`,
      to: `${m.dst}:${m.dport}`,
      context: { as4: (own?.as4 ?? true) && (peer?.as4 ?? true), extendedMessage: (own?.extendedMessage ?? false) && (peer?.extendedMessage ?? false) },
    });
  }
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
  process.stderr.write(`${msgs.length} BGP messages, ${manifest.length} fixtures written to ${outDir}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));

// Renders a decoded BGP message in the codec-independent schema of test/fixtures/bgp/README.md, so that a
// decode can be compared with the expected decode that Wireshark's dissector produced for a fixture.
//
// Everything that turns codec values into text (prefixes, addresses, communities) is written here again on
// purpose instead of calling the codec's own formatters: a formatter bug in the codec must show up as a
// mismatch, not be reproduced on both sides.
import type { BgpMessage, Capability, PathAttribute, PrefixList } from '../../src/bgp/index.js';

export type View = { [k: string]: unknown };

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** RFC 5952 text form: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
export function ipv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((b[off + 2 * i] ?? 0) << 8) | (b[off + 2 * i + 1] ?? 0));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const h = g.map((x) => x.toString(16));
  return best < 0 ? h.join(':') : `${h.slice(0, best).join(':')}::${h.slice(best + bestLen).join(':')}`;
}

/** Walks the NLRI wire encoding (RFC 4271 §4.3: length octet, then ceil(length/8) octets). */
export function prefixes(list: PrefixList): string[] {
  const out: string[] = [];
  const b = list.bytes;
  const width = list.afi === 2 ? 16 : 4;
  let p = list.start;
  while (p < list.end) {
    const len = b[p] ?? 0;
    const n = (len + 7) >> 3;
    const addr = new Uint8Array(width);
    addr.set(b.subarray(p + 1, p + 1 + n));
    const text = width === 4 ? ipv4(((addr[0]! << 24) | (addr[1]! << 16) | (addr[2]! << 8) | addr[3]!) >>> 0) : ipv6(addr);
    out.push(`${text}/${len}`);
    p += 1 + n;
  }
  if (out.length !== list.count) throw new Error(`prefix list says ${list.count} prefixes, bytes hold ${out.length}`);
  return out;
}

function capabilityView(c: Capability): View {
  switch (c.kind) {
    case 'multiprotocol':
      return { code: c.code, name: c.kind, afi: c.afi, safi: c.safi };
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      return { code: c.code, name: c.kind };
    case 'four-octet-as':
      return { code: c.code, name: c.kind, asn: c.asn };
    case 'graceful-restart':
      // RFC 4724 §3: R is the top bit of the 4 flag bits, N (RFC 8538 §2) the next one.
      return {
        code: c.code,
        name: c.kind,
        restartState: (c.flags & 0x8) !== 0,
        notification: (c.flags & 0x4) !== 0,
        restartTime: c.restartTime,
        families: c.families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingState: (f.flags & 0x80) !== 0 })),
      };
    case 'add-path':
      return { code: c.code, name: c.kind, families: c.families.map((f) => ({ afi: f.afi, safi: f.safi, mode: f.mode })) };
    case 'fqdn':
      return { code: c.code, name: c.kind, hostname: c.hostname, domain: c.domainName };
    case 'unknown':
      return { code: c.code, name: 'unknown', value: hex(c.value) };
  }
}

const ORIGINS = ['IGP', 'EGP', 'INCOMPLETE'];
const SEGMENTS: Record<number, string> = { 1: 'AS_SET', 2: 'AS_SEQUENCE', 3: 'AS_CONFED_SEQUENCE', 4: 'AS_CONFED_SET' };

function segmentsView(segs: ReadonlyArray<{ type: number; asns: readonly number[] }>): View[] {
  return segs.map((s) => ({ type: SEGMENTS[s.type] ?? 'unknown', asns: [...s.asns] }));
}

function attributesView(attrs: readonly PathAttribute[]): View {
  const v: View = {};
  for (const a of attrs) {
    switch (a.kind) {
      case 'origin':
        v.origin = ORIGINS[a.origin] ?? 'unknown';
        break;
      case 'as-path':
        v.asPath = segmentsView(a.segments);
        break;
      case 'next-hop':
        v.nextHop = ipv4(a.nextHop);
        break;
      case 'med':
        v.med = a.med;
        break;
      case 'local-pref':
        v.localPref = a.localPref;
        break;
      case 'atomic-aggregate':
        v.atomicAggregate = true;
        break;
      case 'aggregator':
        v.aggregator = { asn: a.asn, address: ipv4(a.address) };
        break;
      case 'as4-aggregator':
        v.as4Aggregator = { asn: a.asn, address: ipv4(a.address) };
        break;
      case 'communities':
        v.communities = a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`);
        break;
      case 'large-communities':
        v.largeCommunities = a.communities.map((c) => `${c.globalAdmin}:${c.localData1}:${c.localData2}`);
        break;
      case 'extended-communities': {
        const list: string[] = [];
        for (let i = 0; i < a.value.length; i += 8) list.push(hex(a.value.subarray(i, i + 8)));
        v.extendedCommunities = list;
        break;
      }
      case 'mp-reach': {
        const hops: string[] = [];
        const nh = a.nextHop;
        if (a.afi === 2) for (let i = 0; i + 16 <= nh.length; i += 16) hops.push(ipv6(nh, i));
        else if (nh.length === 4) hops.push(ipv4(((nh[0]! << 24) | (nh[1]! << 16) | (nh[2]! << 8) | nh[3]!) >>> 0));
        else hops.push(hex(nh));
        v.mpReach = { afi: a.afi, safi: a.safi, nextHops: hops, nlri: prefixes(a.nlri) };
        break;
      }
      case 'mp-unreach':
        v.mpUnreach = { afi: a.afi, safi: a.safi, withdrawn: prefixes(a.withdrawn) };
        break;
      case 'as4-path':
        v.as4Path = segmentsView(a.segments);
        break;
      case 'unknown': {
        const list = (v.unknown as View[] | undefined) ?? [];
        list.push({ code: a.code, flags: a.flags, value: hex(a.value) });
        v.unknown = list;
        break;
      }
    }
  }
  return v;
}

/** The decoded message in the fixture schema (the "message" member of a fixture's .json). */
export function bgpView(m: BgpMessage): View {
  switch (m.type) {
    case 1:
      return {
        type: 'OPEN',
        version: m.version,
        myAs: m.myAs,
        holdTime: m.holdTime,
        bgpId: ipv4(m.bgpIdentifier),
        capabilities: m.capabilities.map(capabilityView),
      };
    case 2: {
      const attributes = attributesView(m.attributes);
      const v: View = { type: 'UPDATE', withdrawn: prefixes(m.withdrawn), attributes, nlri: prefixes(m.nlri) };
      // RFC 4724 §2 End-of-RIB: an empty UPDATE (IPv4), or one whose only attribute is an empty MP_UNREACH.
      if (m.withdrawn.count === 0 && m.nlri.count === 0) {
        const only = m.attributes.length === 1 ? m.attributes[0] : undefined;
        if (m.attributes.length === 0) v.endOfRib = { afi: 1, safi: 1 };
        else if (only?.kind === 'mp-unreach' && only.withdrawn.count === 0) v.endOfRib = { afi: only.afi, safi: only.safi };
      }
      return v;
    }
    case 3: {
      const v: View = { type: 'NOTIFICATION', code: m.code, subcode: m.subcode, data: hex(m.data) };
      // RFC 9003 §2: Cease / Administrative Shutdown (2) or Reset (4) data = length octet + UTF-8 text.
      if (m.code === 6 && (m.subcode === 2 || m.subcode === 4) && m.data.length > 0) {
        const n = m.data[0]!;
        v.shutdownCommunication = Buffer.from(m.data.subarray(1, 1 + n)).toString('utf8');
      }
      return v;
    }
    case 4:
      return { type: 'KEEPALIVE' };
    case 5:
      return { type: 'ROUTE_REFRESH', afi: m.afi, subtype: m.subtype, safi: m.safi };
    default:
      throw new Error(`unknown message type ${(m as { type: unknown }).type}`);
  }
}

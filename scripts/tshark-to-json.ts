// Writes the expected decode (<name>.json) of every fixture listed in a manifest from pcap-to-fixtures.ts,
// using Wireshark's BGP dissector as the independent source of truth: each fixture's bytes are matched to the
// PDU tshark dissected with the same raw bytes, and tshark's field values are mapped to the schema in
// test/fixtures/bgp/README.md. Nothing here uses src/bgp.
//
// Usage: tshark -r bgp.pcap -T json -x --no-duplicate-keys -O bgp -Y bgp > tshark.json
//        node --import tsx scripts/tshark-to-json.ts tshark.json manifest.json test/fixtures/bgp
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManifestEntry } from './pcap-to-fixtures.js';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const asList = (v: Json | undefined): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Obj, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new Error(`tshark field ${k} missing or not a string: ${JSON.stringify(v)}`);
  return v;
}
const num = (o: Obj, k: string): number => Number(str(o, k));

/** tshark `_raw` values are [hex, offset, length, bitmask, type]; repeated fields give a list of those. */
function raws(v: Json | undefined): string[] {
  if (v === undefined) return [];
  if (Array.isArray(v) && typeof v[0] === 'string') return [v[0]];
  return asList(v).map((r) => {
    if (!Array.isArray(r) || typeof r[0] !== 'string') throw new Error(`unexpected raw value ${JSON.stringify(r)}`);
    return r[0];
  });
}

function rawEntries(v: Json | undefined): Array<{ hex: string; offset: number }> {
  if (v === undefined) return [];
  const list = Array.isArray(v) && typeof v[0] === 'string' ? [v] : asList(v);
  return list.map((r) => {
    if (!Array.isArray(r) || typeof r[0] !== 'string' || typeof r[1] !== 'number') throw new Error(`bad raw ${JSON.stringify(r)}`);
    return { hex: r[0], offset: r[1] };
  });
}

/** Prefix lists are objects keyed by "prefix/len" (plus *_raw siblings). */
function prefixes(v: Json | undefined): string[] {
  if (!isObj(v)) return [];
  return Object.keys(v).filter((k) => !k.endsWith('_raw'));
}

const CAP_NAMES: Record<number, string> = {
  1: 'multiprotocol',
  2: 'route-refresh',
  6: 'extended-message',
  64: 'graceful-restart',
  65: 'four-octet-as',
  69: 'add-path',
  70: 'enhanced-route-refresh',
  73: 'fqdn',
};

function capability(c: Obj, raw: string): Obj {
  const code = num(c, 'bgp.cap.type');
  const value = raw.slice(4); // after code and length octets
  const out: Obj = { code, name: CAP_NAMES[code] ?? 'unknown' };
  switch (code) {
    case 1:
      out.afi = num(c, 'bgp.cap.mp.afi');
      out.safi = num(c, 'bgp.cap.mp.safi');
      break;
    case 2:
    case 6:
    case 70:
      break;
    case 65:
      out.asn = num(c, 'bgp.cap.4as');
      break;
    case 64: {
      const t = c['bgp.cap.gr.timers_tree'];
      if (!isObj(t)) throw new Error('GR capability without timers');
      // RFC 4724 §3 (restart state R) and RFC 8538 §2 (notification N) are the two top flag bits.
      out.restartState = t['bgp.cap.gr.timers.restart_flag'] === '1';
      out.notification = t['bgp.cap.gr.timers.notification_flag'] === '1';
      out.restartTime = num(t, 'bgp.cap.gr.timers.restart_time');
      const afis = asList(c['bgp.cap.gr.afi']);
      const safis = asList(c['bgp.cap.gr.safi']);
      const flags = asList(c['bgp.cap.gr.flag']);
      out.families = afis.map((a, i) => ({
        afi: Number(a),
        safi: Number(safis[i]),
        forwardingState: (Number(flags[i]) & 0x80) !== 0,
      }));
      break;
    }
    case 69: {
      // RFC 7911 §4: (AFI, SAFI, Send/Receive) triples
      const afis = asList(c['bgp.cap.ap.afi']);
      const safis = asList(c['bgp.cap.ap.safi']);
      const modes = asList(c['bgp.cap.ap.sendreceive']);
      out.families = afis.map((a, i) => ({ afi: Number(a), safi: Number(safis[i]), mode: Number(modes[i]) }));
      break;
    }
    case 73:
      out.hostname = str(c, 'bgp.cap.orf.fqdn.hostname');
      out.domain = typeof c['bgp.cap.orf.fqdn.domain_name'] === 'string' ? c['bgp.cap.orf.fqdn.domain_name'] : '';
      break;
    default:
      out.value = value;
  }
  return out;
}

function open(b: Obj): Obj {
  const caps: Obj[] = [];
  const opt = b['bgp.open.opt'];
  if (isObj(opt)) {
    const params = asList(opt['bgp.open.opt.param']);
    for (const p of params) {
      if (!isObj(p)) continue;
      if (p['bgp.open.opt.param.type'] !== '2') throw new Error('non-capability optional parameter: extend the schema');
      const cs = asList(p['bgp.cap']);
      const rs = raws(p['bgp.cap_raw']);
      cs.forEach((c, i) => {
        if (isObj(c)) caps.push(capability(c, rs[i] ?? ''));
      });
    }
  }
  return {
    type: 'OPEN',
    version: num(b, 'bgp.open.version'),
    myAs: num(b, 'bgp.open.myas'),
    holdTime: num(b, 'bgp.open.holdtime'),
    bgpId: str(b, 'bgp.open.identifier'),
    capabilities: caps,
  };
}

const ORIGINS = ['IGP', 'EGP', 'INCOMPLETE'];
const SEGMENT_TYPES: Record<string, string> = { '1': 'AS_SET', '2': 'AS_SEQUENCE', '3': 'AS_CONFED_SEQUENCE', '4': 'AS_CONFED_SET' };

function asPath(a: Obj): Json[] {
  return asList(a['bgp.update.path_attribute.as_path_segment']).map((s) => {
    if (!isObj(s)) throw new Error('bad segment');
    const asns = asList(s['bgp.update.path_attribute.as_path_segment.as4'] ?? s['bgp.update.path_attribute.as_path_segment.as2']);
    return { type: SEGMENT_TYPES[str(s, 'bgp.update.path_attribute.as_path_segment.type')] ?? 'unknown', asns: asns.map(Number) };
  });
}

function update(b: Obj): Obj {
  const out: Obj = { type: 'UPDATE', withdrawn: prefixes(b['bgp.update.withdrawn_routes']) };
  const attrs: Obj = {};
  const pa = b['bgp.update.path_attributes'];
  const list = isObj(pa) ? asList(pa['bgp.update.path_attribute']) : [];
  const rawList = isObj(pa) ? raws(pa['bgp.update.path_attribute_raw']) : [];
  list.forEach((a, i) => {
    if (!isObj(a)) return;
    const code = num(a, 'bgp.update.path_attribute.type_code');
    const p = 'bgp.update.path_attribute.';
    switch (code) {
      case 1:
        attrs.origin = ORIGINS[num(a, `${p}origin`)] ?? 'unknown';
        break;
      case 2:
        attrs.asPath = asPath(a);
        break;
      case 3:
        attrs.nextHop = str(a, `${p}next_hop`);
        break;
      case 4:
        attrs.med = num(a, `${p}multi_exit_disc`);
        break;
      case 5:
        attrs.localPref = num(a, `${p}local_pref`);
        break;
      case 6:
        attrs.atomicAggregate = true;
        break;
      case 7:
        attrs.aggregator = { asn: num(a, `${p}aggregator_as`), address: str(a, `${p}aggregator_origin`) };
        break;
      case 8: {
        // tshark splits COMMUNITIES into `community` (shown as AS:value) and `community_wellknown` (RFC 1997
        // well-known values such as NO_EXPORT); both carry their offset, which restores the wire order.
        const cs = a[`${p}communities`];
        const parts: Array<[number, string]> = [];
        if (isObj(cs)) {
          for (const key of [`${p}community_raw`, `${p}community_wellknown_raw`]) {
            for (const r of rawEntries(cs[key])) parts.push([r.offset, r.hex]);
          }
        }
        parts.sort((x, y) => x[0] - y[0]);
        attrs.communities = parts.map(([, h]) => `${parseInt(h.slice(0, 4), 16)}:${parseInt(h.slice(4, 8), 16)}`);
        break;
      }
      case 14: {
        const tree = a[`${p}mp_reach_nlri.next_hop_tree`];
        const hops: string[] = [];
        if (isObj(tree)) {
          for (const [k, v] of Object.entries(tree)) if (!k.endsWith('_raw') && typeof v === 'string') hops.push(v);
        }
        attrs.mpReach = {
          afi: num(a, `${p}mp_reach_nlri.afi`),
          safi: num(a, `${p}mp_reach_nlri.safi`),
          nextHops: hops,
          nlri: prefixes(a[`${p}mp_reach_nlri`]),
        };
        break;
      }
      case 15:
        attrs.mpUnreach = {
          afi: num(a, `${p}mp_unreach_nlri.afi`),
          safi: num(a, `${p}mp_unreach_nlri.safi`),
          withdrawn: prefixes(a[`${p}mp_unreach_nlri`]),
        };
        break;
      case 16: {
        const ec = a['bgp.ext_communities'];
        // Shown as the 8 octets in hex: readable enough, and the view needs no per-type table (RFC 4360 §2).
        attrs.extendedCommunities = isObj(ec) ? raws(ec['bgp.ext_community_raw']) : [];
        break;
      }
      case 17:
        attrs.as4Path = asPath(a);
        break;
      case 18:
        attrs.as4Aggregator = { asn: num(a, `${p}aggregator_as`), address: str(a, `${p}aggregator_origin`) };
        break;
      case 32:
        attrs.largeCommunities = asList(a['bgp.large_communities_tree']).map((t) => {
          if (!isObj(t)) throw new Error('bad large community');
          return `${str(t, 'bgp.large_communities.ga')}:${str(t, 'bgp.large_communities.ldp1')}:${str(t, 'bgp.large_communities.ldp2')}`;
        });
        break;
      default: {
        const raw = rawList[i] ?? '';
        const ext = (num(a, 'bgp.update.path_attribute.flags') & 0x10) !== 0;
        const unknown = (attrs.unknown as Json[] | undefined) ?? [];
        unknown.push({ code, flags: num(a, 'bgp.update.path_attribute.flags'), value: raw.slice(ext ? 8 : 6) });
        attrs.unknown = unknown;
      }
    }
  });
  out.attributes = attrs;
  out.nlri = prefixes(b['bgp.update.nlri']);
  // RFC 4724 §2: an UPDATE with nothing in it is the IPv4 End-of-RIB; one whose only attribute is an empty
  // MP_UNREACH_NLRI is the End-of-RIB of that family.
  const keys = Object.keys(attrs);
  const mpu = attrs.mpUnreach;
  if ((out.withdrawn as Json[]).length === 0 && (out.nlri as Json[]).length === 0) {
    if (keys.length === 0) out.endOfRib = { afi: 1, safi: 1 };
    else if (keys.length === 1 && isObj(mpu) && (mpu.withdrawn as Json[]).length === 0) out.endOfRib = { afi: mpu.afi ?? 0, safi: mpu.safi ?? 0 };
  }
  return out;
}

function notification(b: Obj, hex: string): Obj {
  const code = num(b, 'bgp.notify.major_error');
  const minorKey = Object.keys(b).find((k) => k.startsWith('bgp.notify.minor_error') && !k.endsWith('_raw'));
  const out: Obj = { type: 'NOTIFICATION', code, subcode: minorKey ? num(b, minorKey) : 0, data: hex.slice(42) };
  // RFC 9003 §2: Cease/Administrative Shutdown and Reset may carry a length-prefixed UTF-8 message.
  if (typeof b['bgp.notify.communication'] === 'string') out.shutdownCommunication = b['bgp.notify.communication'];
  return out;
}

function convert(b: Obj, hex: string): Obj {
  switch (str(b, 'bgp.type')) {
    case '1':
      return open(b);
    case '2':
      return update(b);
    case '3':
      return notification(b, hex);
    case '4':
      return { type: 'KEEPALIVE' };
    case '5':
      return {
        type: 'ROUTE_REFRESH',
        afi: num(b, 'bgp.route_refresh.afi'),
        // RFC 7313 §3: 0 = normal request, 1 = BoRR, 2 = EoRR (tshark: "subtype", the old reserved octet)
        subtype: num(b, 'bgp.route_refresh.subtype'),
        safi: num(b, 'bgp.route_refresh.safi'),
      };
    default:
      throw new Error(`unexpected BGP type ${str(b, 'bgp.type')}`);
  }
}

function main(argv: string[]): void {
  const [tsharkPath, manifestPath, outDir] = argv;
  if (!tsharkPath || !manifestPath || !outDir) throw new Error('usage: tshark-to-json.ts tshark.json manifest.json outdir');
  const packets = JSON.parse(readFileSync(tsharkPath, 'utf8')) as Array<{ _source: { layers: Obj } }>;
  const byHex = new Map<string, Obj>();
  for (const p of packets) {
    const layers = p._source.layers;
    const pdus = asList(layers.bgp);
    const rs = raws(layers.bgp_raw);
    pdus.forEach((pdu, i) => {
      const h = rs[i];
      if (isObj(pdu) && h && !byHex.has(h)) byHex.set(h, pdu);
    });
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ManifestEntry[];
  let missing = 0;
  for (const m of manifest) {
    const pdu = byHex.get(m.hex);
    if (!pdu) {
      process.stderr.write(`tshark has no PDU with the bytes of ${m.name}\n`);
      missing++;
      continue;
    }
    const expected = { source: `${m.from} -> ${m.to}, frame ${m.frame}`, context: m.context, message: convert(pdu, m.hex) };
    writeFileSync(join(outDir, `${m.name}.json`), `${JSON.stringify(expected, null, 2)}\n`);
  }
  if (missing > 0) throw new Error(`${missing} fixtures without a tshark decode`);
  process.stderr.write(`${manifest.length} expected decodes written to ${outDir}\n`);
}

main(process.argv.slice(2));

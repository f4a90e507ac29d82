// Capabilities advertisement (RFC 5492): one code octet, one length octet, the value. Known codes decode to
// typed objects; anything else, or a known code whose value we could not re-encode identically, is kept as
// `{kind: 'unknown', code, value}` and written back unchanged.
import { AddPathMode, Afi, CapabilityCode, OpenSubcode, Safi } from './constants.js';
import { BgpError } from './errors.js';
import type { AddPathFamily, Capability, GracefulRestartFamily } from './types.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function malformed(code: number, b: Uint8Array, start: number, end: number, why: string): BgpError {
  // RFC 5492 gives no subcode for a malformed capability; "OPEN Message Error / Unspecific" with the
  // offending capability as data is what FRR and BIRD send too.
  return BgpError.open(OpenSubcode.Unspecific, `capability ${code}: ${why}`, b.slice(start, end));
}

/**
 * Decodes the capability whose code octet is at `b[p]` (value `b[p+2 .. p+2+len)`), bounded by `end`.
 * Returns the capability; the caller advances by 2 + b[p+1].
 */
export function decodeCapability(b: Uint8Array, p: number, end: number): Capability {
  if (p + 2 > end) throw BgpError.open(OpenSubcode.Unspecific, 'truncated capability header', b.slice(p, end));
  const code = b[p]!;
  const len = b[p + 1]!;
  const v = p + 2;
  const ve = v + len;
  if (ve > end) throw malformed(code, b, p, end, 'value overruns its parameter');
  switch (code) {
    case 1: // MultiProtocol
      if (len !== 4) throw malformed(code, b, p, ve, `length ${len} is not 4`);
      // b[v+2] is reserved (RFC 4760 §8): ignored, written back as 0.
      return multiprotocol((b[v]! << 8) | b[v + 1]!, b[v + 3]!);
    case 2: // RouteRefresh
      if (len !== 0) throw malformed(code, b, p, ve, `length ${len} is not 0`);
      return ROUTE_REFRESH;
    case 6: // ExtendedMessage
      if (len !== 0) throw malformed(code, b, p, ve, `length ${len} is not 0`);
      return EXTENDED_MESSAGE;
    case 70: // EnhancedRouteRefresh
      if (len !== 0) throw malformed(code, b, p, ve, `length ${len} is not 0`);
      return ENHANCED_ROUTE_REFRESH;
    case 65: // FourOctetAs
      if (len !== 4) throw malformed(code, b, p, ve, `length ${len} is not 4`);
      return { kind: 'four-octet-as', code, asn: ((b[v]! << 24) | (b[v + 1]! << 16) | (b[v + 2]! << 8) | b[v + 3]!) >>> 0 };
    case 64: // GracefulRestart
    case 69: // AddPath
    case 73: // Fqdn
      return decodeRareCapability(code, len, b, p, v, ve);
    default:
      return unknown(code, b, v, ve);
  }
}

/** The capabilities with variable-length values, kept out of decodeCapability so the hot switch stays small. */
function decodeRareCapability(code: number, len: number, b: Uint8Array, p: number, v: number, ve: number): Capability {
  switch (code) {
    case 64: { // GracefulRestart
      if (len < 2 || (len - 2) % 4 !== 0) throw malformed(code, b, p, ve, `length ${len} is not 2 + 4n`);
      const families: GracefulRestartFamily[] = [];
      for (let q = v + 2; q < ve; q += 4) {
        families.push({ afi: (b[q]! << 8) | b[q + 1]!, safi: b[q + 2]!, flags: b[q + 3]! });
      }
      return { kind: 'graceful-restart', code, flags: b[v]! >>> 4, restartTime: ((b[v]! & 0x0f) << 8) | b[v + 1]!, families };
    }
    case 69: { // AddPath
      if (len === 0 || len % 4 !== 0) throw malformed(code, b, p, ve, `length ${len} is not 4n`);
      const families: AddPathFamily[] = [];
      for (let q = v; q < ve; q += 4) {
        const mode = b[q + 3]!;
        if (mode < AddPathMode.Receive || mode > AddPathMode.Both) return unknown(code, b, v, ve);
        families.push({ afi: (b[q]! << 8) | b[q + 1]!, safi: b[q + 2]!, mode });
      }
      return { kind: 'add-path', code, families };
    }
    case 73: { // Fqdn
      // draft-walton-bgp-hostname-capability: hostname length, hostname, domain length, domain.
      if (len < 2) throw malformed(code, b, p, ve, `length ${len} is below 2`);
      const hl = b[v]!;
      if (v + 1 + hl + 1 > ve) throw malformed(code, b, p, ve, 'hostname overruns the capability');
      const dl = b[v + 1 + hl]!;
      if (v + 2 + hl + dl !== ve) throw malformed(code, b, p, ve, 'lengths disagree with the capability length');
      try {
        return {
          kind: 'fqdn',
          code,
          hostname: utf8.decode(b.subarray(v + 1, v + 1 + hl)),
          domainName: utf8.decode(b.subarray(v + 2 + hl, ve)),
        };
      } catch {
        return unknown(code, b, v, ve); // not UTF-8: keep the bytes so they re-encode identically
      }
    }
    default:
      return unknown(code, b, v, ve);
  }
}

function unknown(code: number, b: Uint8Array, v: number, ve: number): Capability {
  return { kind: 'unknown', code, value: b.slice(v, ve) };
}

// The two families every OPEN carries are shared frozen objects (like ROUTE_REFRESH below): two allocations
// less per OPEN.
const MP_IPV4_UNICAST: Capability = Object.freeze({ kind: 'multiprotocol', code: CapabilityCode.MultiProtocol, afi: Afi.Ipv4, safi: Safi.Unicast });
const MP_IPV6_UNICAST: Capability = Object.freeze({ kind: 'multiprotocol', code: CapabilityCode.MultiProtocol, afi: Afi.Ipv6, safi: Safi.Unicast });

function multiprotocol(afi: number, safi: number): Capability {
  if (safi === 1) {
    if (afi === 1) return MP_IPV4_UNICAST;
    if (afi === 2) return MP_IPV6_UNICAST;
  }
  return { kind: 'multiprotocol', code: CapabilityCode.MultiProtocol, afi, safi };
}

const ROUTE_REFRESH: Capability = Object.freeze({ kind: 'route-refresh', code: CapabilityCode.RouteRefresh });
const EXTENDED_MESSAGE: Capability = Object.freeze({ kind: 'extended-message', code: CapabilityCode.ExtendedMessage });
const ENHANCED_ROUTE_REFRESH: Capability = Object.freeze({
  kind: 'enhanced-route-refresh',
  code: CapabilityCode.EnhancedRouteRefresh,
});

/** Writes one capability TLV at `out[off]`; returns the offset after it. Throws RangeError on bad input. */
export function encodeCapability(c: Capability, out: Uint8Array, off: number): number {
  let p = off + 2;
  switch (c.kind) {
    case 'multiprotocol':
      out[p++] = c.afi >>> 8;
      out[p++] = c.afi & 0xff;
      out[p++] = 0;
      out[p++] = c.safi;
      break;
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      break;
    case 'four-octet-as':
      out[p++] = c.asn >>> 24;
      out[p++] = (c.asn >>> 16) & 0xff;
      out[p++] = (c.asn >>> 8) & 0xff;
      out[p++] = c.asn & 0xff;
      break;
    case 'graceful-restart':
      if (c.restartTime > 4095 || c.flags > 15 || c.families.length > 63) throw new RangeError('graceful-restart value out of range');
      out[p++] = (c.flags << 4) | (c.restartTime >>> 8);
      out[p++] = c.restartTime & 0xff;
      for (const f of c.families) {
        out[p++] = f.afi >>> 8;
        out[p++] = f.afi & 0xff;
        out[p++] = f.safi;
        out[p++] = f.flags;
      }
      break;
    case 'add-path':
      if (c.families.length === 0 || c.families.length > 63) throw new RangeError('add-path needs 1–63 families');
      for (const f of c.families) {
        out[p++] = f.afi >>> 8;
        out[p++] = f.afi & 0xff;
        out[p++] = f.safi;
        out[p++] = f.mode;
      }
      break;
    case 'fqdn': {
      const h = utf8Encoder.encode(c.hostname);
      const d = utf8Encoder.encode(c.domainName);
      if (h.length + d.length > 253) throw new RangeError('FQDN capability longer than 255 octets');
      out[p++] = h.length;
      out.set(h, p);
      p += h.length;
      out[p++] = d.length;
      out.set(d, p);
      p += d.length;
      break;
    }
    case 'unknown':
      if (c.value.length > 255) throw new RangeError('capability value longer than 255 octets');
      for (let i = 0; i < c.value.length; i++) out[p + i] = c.value[i]!;
      p += c.value.length;
      break;
    default:
      return assertNever(c);
  }
  out[off] = c.code;
  out[off + 1] = p - off - 2;
  return p;
}

function assertNever(x: never): never {
  throw new RangeError(`unknown capability ${JSON.stringify(x)}`);
}

// ---- constructors for callers building OPENs -------------------------------------------------------------

export const capability = {
  multiprotocol: (afi: Afi, safi: Safi = Safi.Unicast): Capability => multiprotocol(afi, safi),
  routeRefresh: (): Capability => ROUTE_REFRESH,
  extendedMessage: (): Capability => EXTENDED_MESSAGE,
  enhancedRouteRefresh: (): Capability => ENHANCED_ROUTE_REFRESH,
  fourOctetAs: (asn: number): Capability => ({ kind: 'four-octet-as', code: CapabilityCode.FourOctetAs, asn }),
  gracefulRestart: (restartTime: number, families: readonly GracefulRestartFamily[], flags = 0): Capability => ({
    kind: 'graceful-restart',
    code: CapabilityCode.GracefulRestart,
    flags,
    restartTime,
    families,
  }),
  addPath: (families: readonly AddPathFamily[]): Capability => ({ kind: 'add-path', code: CapabilityCode.AddPath, families }),
  fqdn: (hostname: string, domainName = ''): Capability => ({ kind: 'fqdn', code: CapabilityCode.Fqdn, hostname, domainName }),
  unknown: (code: number, value: Uint8Array): Capability => ({ kind: 'unknown', code, value }),
};

/** The 4-octet AS a speaker announced in its capabilities, if any (RFC 6793 §3). */
export function fourOctetAsOf(caps: readonly Capability[]): number | undefined {
  for (const c of caps) if (c.kind === 'four-octet-as') return c.asn;
  return undefined;
}

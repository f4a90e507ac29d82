// OPEN (RFC 4271 §4.2) with Capabilities optional parameters (RFC 5492) and the extended
// optional-parameters length (RFC 9072).
import { AS_TRANS, BGP_VERSION, MessageType, OpenSubcode, OptionalParameterType } from './constants.js';
import { BgpError } from './errors.js';
import { decodeCapability, encodeCapability, fourOctetAsOf } from './capabilities.js';
import type { Capability, OpenMessage, OptionalParameter } from './types.js';

const NO_PARAMETERS: readonly OptionalParameter[] = Object.freeze([]);

/** Decodes the body of an OPEN whose header (19 octets, length already checked ≥ 29) is at b[0]. */
export function decodeOpen(b: Uint8Array): OpenMessage {
  const end = b.length;
  const version = b[19]!;
  if (version !== BGP_VERSION) {
    // RFC 4271 §6.2: data is the largest locally supported version number (2 octets).
    throw BgpError.open(OpenSubcode.UnsupportedVersionNumber, `version ${version}`, new Uint8Array([0, BGP_VERSION]));
  }
  const myAs = (b[20]! << 8) | b[21]!;
  const holdTime = (b[22]! << 8) | b[23]!;
  // RFC 4271 §6.2: hold time 1 or 2 seconds MUST be rejected.
  if (holdTime === 1 || holdTime === 2) throw BgpError.open(OpenSubcode.UnacceptableHoldTime, `hold time ${holdTime}`);
  const bgpIdentifier = ((b[24]! << 24) | (b[25]! << 16) | (b[26]! << 8) | b[27]!) >>> 0;
  // RFC 6286 §2.2: the identifier is a non-zero 4-octet number.
  if (bgpIdentifier === 0) throw BgpError.open(OpenSubcode.BadBgpIdentifier, 'BGP identifier 0');
  let optLen = b[28]!;
  let p = 29;
  let extended = false;
  // RFC 9072 §2: a first parameter type of 255 announces the extended form: 2-octet total length, and a
  // 2-octet length in every parameter.
  if (optLen !== 0 && end > 29 && b[29] === OptionalParameterType.ExtendedLength) {
    if (end < 32) throw BgpError.open(OpenSubcode.Unspecific, 'truncated extended optional parameters length');
    extended = true;
    optLen = (b[30]! << 8) | b[31]!;
    p = 32;
  }
  if (p + optLen !== end) {
    throw BgpError.open(OpenSubcode.Unspecific, `optional parameters length ${optLen} disagrees with message length ${end}`);
  }
  const capabilities: Capability[] = [];
  let parameters: OptionalParameter[] | undefined;
  // The layout array is only built once the parameters stop looking like the default (one Capabilities
  // parameter, possibly followed by others): one allocation less on every ordinary OPEN.
  let layout: number[] | undefined;
  let params = 0;
  let firstCount = 0;
  const hdr = extended ? 3 : 2;
  while (p < end) {
    if (p + hdr > end) throw BgpError.open(OpenSubcode.Unspecific, 'truncated optional parameter');
    const type = b[p]!;
    const len = extended ? (b[p + 1]! << 8) | b[p + 2]! : b[p + 1]!;
    const v = p + hdr;
    const ve = v + len;
    if (ve > end) throw BgpError.open(OpenSubcode.Unspecific, 'optional parameter overruns the message');
    let entry: number;
    if (type === 2 /* OptionalParameterType.Capabilities */) {
      let n = 0;
      for (let q = v; q < ve; q += 2 + b[q + 1]!) {
        capabilities.push(decodeCapability(b, q, ve));
        n++;
      }
      entry = n;
    } else {
      // Kept for the session to reject (RFC 4271 §6.2, Unsupported Optional Parameter): see fsm.ts.
      (parameters ??= []).push({ type, value: b.slice(v, ve) });
      entry = -1;
    }
    if (params === 0) firstCount = entry;
    else if (params === 1) layout = [firstCount, entry];
    else layout!.push(entry);
    params++;
    p = ve;
  }
  const msg: { -readonly [K in keyof OpenMessage]: OpenMessage[K] } = {
    type: MessageType.Open,
    version,
    myAs,
    holdTime,
    bgpIdentifier,
    capabilities,
    parameters: parameters ?? NO_PARAMETERS,
  };
  // Only record the layout when the default would not reproduce it.
  if (params > 0 && !isDefaultLayout(layout ?? [firstCount], capabilities.length)) msg.parameterLayout = layout ?? [firstCount];
  if (extended) msg.extendedParameters = true;
  return msg;
}

/** Writes an OPEN at out[off] (header included); returns the end offset. */
export function encodeOpen(m: OpenMessage, out: Uint8Array, off: number): number {
  const layout = m.parameterLayout;
  if (layout !== undefined) {
    let sum = 0;
    let others = 0;
    for (const n of layout) n < 0 ? others++ : (sum += n);
    if (sum !== m.capabilities.length || others !== m.parameters.length) {
      throw new RangeError('parameterLayout does not match the capabilities and parameters');
    }
  }
  out[off + 19] = m.version;
  out[off + 20] = m.myAs >>> 8;
  out[off + 21] = m.myAs & 0xff;
  out[off + 22] = m.holdTime >>> 8;
  out[off + 23] = m.holdTime & 0xff;
  const id = m.bgpIdentifier;
  out[off + 24] = id >>> 24;
  out[off + 25] = (id >>> 16) & 0xff;
  out[off + 26] = (id >>> 8) & 0xff;
  out[off + 27] = id & 0xff;
  // Try the classic form first; fall back to RFC 9072 when it does not fit (or when asked for).
  let ext = m.extendedParameters === true;
  let end = ext ? -1 : writeParams(m, layout, out, off + 29, false);
  if (end < 0 || end - (off + 29) > 255) {
    ext = true;
    end = writeParams(m, layout, out, off + 32, true);
  }
  if (ext) {
    const len = end - (off + 32);
    out[off + 28] = 255;
    out[off + 29] = OptionalParameterType.ExtendedLength;
    out[off + 30] = len >>> 8;
    out[off + 31] = len & 0xff;
  } else {
    out[off + 28] = end - (off + 29);
  }
  return end;
}

/**
 * Whether `layout` is the default (all capabilities in one parameter, then the other parameters), checked
 * without building it: OPEN decode is on the benchmark.
 */
function isDefaultLayout(layout: readonly number[], caps: number): boolean {
  let i = 0;
  if (caps > 0) {
    if (layout[0] !== caps) return false;
    i = 1;
  }
  for (; i < layout.length; i++) if (layout[i] !== -1) return false;
  return true;
}

/** Writes the optional parameters; returns the end, or -1 when one is too long for 1-octet lengths. */
function writeParams(m: OpenMessage, layout: readonly number[] | undefined, out: Uint8Array, start: number, ext: boolean): number {
  const caps = m.capabilities;
  let p = start;
  if (layout === undefined && m.parameters.length === 0) {
    // The usual OPEN: one Capabilities parameter, written without closures (OPEN encode is benchmarked).
    if (caps.length === 0) return p;
    const hdr = ext ? 3 : 2;
    let q = p + hdr;
    for (let i = 0; i < caps.length; i++) q = encodeCapability(caps[i]!, out, q);
    const len = q - p - hdr;
    out[p] = 2; // OptionalParameterType.Capabilities
    if (ext) {
      out[p + 1] = len >>> 8;
      out[p + 2] = len & 0xff;
    } else {
      if (len > 255) return -1;
      out[p + 1] = len;
    }
    return q;
  }
  if (layout === undefined) {
    // The default layout, without building it: every capability in one parameter, then the others.
    if (caps.length > 0) {
      p = writeParam(out, p, ext, 2, (q) => {
        for (let i = 0; i < caps.length; i++) q = encodeCapability(caps[i]!, out, q);
        return q;
      });
      if (p < 0) return -1;
    }
    for (const param of m.parameters) {
      p = writeParam(out, p, ext, param.type, (q) => copyInto(param.value, out, q));
      if (p < 0) return -1;
    }
    return p;
  }
  let ci = 0;
  let pi = 0;
  for (const n of layout) {
    if (n < 0) {
      const param = m.parameters[pi++]!;
      p = writeParam(out, p, ext, param.type, (q) => copyInto(param.value, out, q));
    } else {
      p = writeParam(out, p, ext, 2, (q) => {
        for (let k = 0; k < n; k++) q = encodeCapability(caps[ci++]!, out, q);
        return q;
      });
    }
    if (p < 0) return -1;
  }
  return p;
}

function copyInto(v: Uint8Array, out: Uint8Array, p: number): number {
  for (let i = 0; i < v.length; i++) out[p + i] = v[i]!;
  return p + v.length;
}

/** One optional parameter: type, 1- or 2-octet length, value written by `body`. Returns -1 when too long. */
function writeParam(out: Uint8Array, ps: number, ext: boolean, type: number, body: (p: number) => number): number {
  const hdr = ext ? 3 : 2;
  const p = body(ps + hdr);
  const len = p - ps - hdr;
  out[ps] = type;
  if (ext) {
    if (len > 0xffff) throw new RangeError('optional parameter longer than 65535 octets');
    out[ps + 1] = len >>> 8;
    out[ps + 2] = len & 0xff;
  } else {
    if (len > 255) return -1;
    out[ps + 1] = len;
  }
  return p;
}

/** The speaker's real AS: the 4-octet AS capability if present, else the 2-octet field (RFC 6793 §4.1). */
export function openAsn(m: OpenMessage): number {
  return fourOctetAsOf(m.capabilities) ?? m.myAs;
}

/** The value for the 2-octet "My Autonomous System" field: the AS itself, or AS_TRANS above 65535. */
export function myAsField(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}

// BGP community literals. Standard communities (RFC 1997) are MetalLB's `A:B` with decimal 16-bit halves,
// encoded (A << 16) + B, with MetalLB's error texts. Large communities (RFC 8092) are an ingot extension,
// written `large:A:B:C` with decimal 32-bit parts (the spelling MetalLB v0.13+ uses in its CRDs).
import type { LargeCommunity } from './types.js';

export type CommunityValue =
  | { readonly kind: 'standard'; readonly value: number }
  | { readonly kind: 'large'; readonly value: LargeCommunity };

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Go strconv.ParseUint(s, 10, bits) with its error texts. */
function parseUintGo(s: string, bits: 16 | 32): Parsed<number> {
  if (!/^[0-9]+$/.test(s)) return { ok: false, error: `strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax` };
  const n = BigInt(s);
  if (n >= 1n << BigInt(bits)) {
    return { ok: false, error: `strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range` };
  }
  return { ok: true, value: Number(n) };
}

export function parseStandardCommunity(c: string): Parsed<number> {
  const fs = c.split(':');
  if (fs.length !== 2) return { ok: false, error: `invalid community string ${JSON.stringify(c)}` };
  const [a, b] = fs as [string, string];
  const hi = parseUintGo(a, 16);
  if (!hi.ok) return { ok: false, error: `invalid first section of community ${JSON.stringify(a)}: ${hi.error}` };
  const lo = parseUintGo(b, 16);
  if (!lo.ok) return { ok: false, error: `invalid second section of community ${JSON.stringify(b)}: ${lo.error}` };
  // Multiplication, not <<, keeps values >= 2^31 positive in JavaScript.
  return { ok: true, value: hi.value * 0x10000 + lo.value };
}

export function parseLargeCommunity(c: string): Parsed<LargeCommunity> {
  const fs = c.split(':');
  if (fs.length !== 4 || fs[0] !== 'large') {
    return { ok: false, error: `invalid large community string ${JSON.stringify(c)}` };
  }
  const names = ['global administrator', 'first local data part', 'second local data part'] as const;
  const parts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const f = fs[i + 1] ?? '';
    const p = parseUintGo(f, 32);
    if (!p.ok) {
      return { ok: false, error: `invalid ${names[i]} of large community ${JSON.stringify(f)}: ${p.error}` };
    }
    parts.push(p.value);
  }
  const [globalAdministrator, localData1, localData2] = parts as [number, number, number];
  return { ok: true, value: { globalAdministrator, localData1, localData2 } };
}

/** A literal: `large:` selects RFC 8092, anything else is parsed the MetalLB way. */
export function parseCommunity(c: string): Parsed<CommunityValue> {
  if (c.startsWith('large:')) {
    const r = parseLargeCommunity(c);
    return r.ok ? { ok: true, value: { kind: 'large', value: r.value } } : r;
  }
  const r = parseStandardCommunity(c);
  return r.ok ? { ok: true, value: { kind: 'standard', value: r.value } } : r;
}

export function formatCommunity(value: number): string {
  return `${Math.floor(value / 0x10000)}:${value % 0x10000}`;
}

export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c.globalAdministrator}:${c.localData1}:${c.localData2}`;
}

export function compareLargeCommunities(a: LargeCommunity, b: LargeCommunity): number {
  return (
    a.globalAdministrator - b.globalAdministrator || a.localData1 - b.localData1 || a.localData2 - b.localData2
  );
}

// Shared by the codec tests: a normal form for comparing decoded messages, and the one-fixture-many-tests
// helper (decode, encode, round trip, framing at every split).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Framer, decodeMessage, encodeMessage, type BgpMessage, type CodecContext } from '../../../src/bgp/index.js';
import { hex, type Bytes } from '../../helpers/wire-builder.js';

/** Prefix lists become {afi, count, wire hex} and byte arrays hex, so offsets into a message do not matter. */
export function norm(x: unknown): unknown {
  if (x instanceof Uint8Array) return `hex:${hex(x)}`;
  if (Array.isArray(x)) return x.map(norm);
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    if ('bytes' in o && 'start' in o && 'end' in o && 'count' in o && 'afi' in o) {
      const b = o.bytes as Uint8Array;
      return { afi: o.afi, count: o.count, wire: hex(b.subarray(o.start as number, o.end as number)) };
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = norm(o[k]);
    return out;
  }
  return x;
}

/** Every split of `wire` into two chunks, and byte by byte, frames back to exactly `wire`. */
export function assertFramesAtEverySplit(wire: Uint8Array, max = 65535): void {
  for (let cut = 0; cut <= wire.length; cut++) {
    const got: Uint8Array[] = [];
    const f = new Framer(max);
    f.push(wire.subarray(0, cut), (m) => got.push(m.slice()));
    f.push(wire.subarray(cut), (m) => got.push(m.slice()));
    assert.equal(got.length, 1, `split at ${cut}`);
    assert.equal(hex(got[0]!), hex(wire), `split at ${cut}`);
    assert.equal(f.buffered, 0);
  }
  const got: Uint8Array[] = [];
  const f = new Framer(max);
  for (let i = 0; i < wire.length; i++) f.push(wire.subarray(i, i + 1), (m) => got.push(m));
  assert.equal(got.length, 1);
  assert.equal(hex(got[0]!), hex(wire));
}

/**
 * Four tests from one case: the bytes decode to `msg`, `msg` encodes to the bytes, decode∘encode is the
 * identity on the bytes, and the bytes frame correctly from every split.
 */
export function codecCase(name: string, msg: BgpMessage, wire: Bytes, ctx: CodecContext): void {
  const bytes = Uint8Array.from(wire);
  it(`${name}: decodes`, () => {
    assert.deepEqual(norm(decodeMessage(bytes, ctx)), norm(msg));
  });
  it(`${name}: encodes to the independent builder's bytes`, () => {
    assert.equal(hex(encodeMessage(msg, ctx)), hex(bytes));
  });
  it(`${name}: round-trips`, () => {
    assert.equal(hex(encodeMessage(decodeMessage(bytes, ctx), ctx)), hex(bytes));
  });
  it(`${name}: frames from every split`, () => assertFramesAtEverySplit(bytes, ctx.maxMessageLength));
}

// Issue 8, closing the class: every error the codec (decodeMessage and the Framer) can produce turns into a
// NOTIFICATION that encodes within the negotiated maximum message size, 4096 and 65535 (RFC 8654). The
// over-long BoRR ROUTE-REFRESH (RFC 7313 §5, data = the whole message) was one instance; this covers all.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  BgpError,
  Framer,
  MessageType,
  decodeMessage,
  encodeMessage,
  makeContext,
  notificationFor,
  type CodecContext,
  type NotificationMessage,
} from '../../../src/bgp/index.js';
import { INITIAL_CONTEXT } from '../../../src/bgp/context.js';
import { notificationName } from '../../../src/bgp/constants.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1500);
const CONTEXTS: CodecContext[] = [INITIAL_CONTEXT, makeContext({ as4: true }), makeContext({ as4: true, extendedMessage: true })];

const FIXTURES = (() => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/bgp');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
})();

/** Every (code/subcode) seen, to prove the generators reach the decoders' error paths. */
const seen = new Set<string>();

/** The property: the NOTIFICATION for `e` encodes within ctx's maximum (and within 4096), code intact. */
function checkNotification(e: unknown, ctx: CodecContext): void {
  if (!(e instanceof BgpError)) throw e;
  seen.add(`${e.code}/${e.subcode}`);
  for (const c of new Set([ctx, INITIAL_CONTEXT])) {
    const bytes = encodeMessage(notificationFor(e, c), c);
    assert.ok(bytes.length <= c.maxMessageLength, `${notificationName(e.code, e.subcode)}: ${bytes.length} > ${c.maxMessageLength}`);
    // Also straight from the error's fields, as the session does (the encoder cuts the data itself).
    const raw = encodeMessage({ type: MessageType.Notification, code: e.code, subcode: e.subcode, data: e.data }, c);
    assert.ok(raw.length <= c.maxMessageLength);
    const back = decodeMessage(raw, c) as NotificationMessage;
    assert.deepEqual([back.code, back.subcode], [e.code, e.subcode]);
    // Data is cut, never altered.
    assert.deepEqual([...back.data], [...e.data.subarray(0, back.data.length)]);
  }
}

function decodeChecked(bytes: Uint8Array, ctx: CodecContext): void {
  try {
    decodeMessage(bytes, ctx);
  } catch (e) {
    checkNotification(e, ctx);
  }
}

/** A message of `length` octets (header says so) of `type`, body = `head` then `fill` octets. */
function message(type: number, length: number, head: Uint8Array, fill: number): Uint8Array {
  const b = new Uint8Array(length);
  b.fill(0xff, 0, 16);
  b[16] = length >>> 8;
  b[17] = length & 0xff;
  b[18] = type;
  b.fill(fill, 19);
  b.set(head.subarray(0, Math.max(0, length - 19)), 19);
  return b;
}

const anyMessage = (max: number) =>
  fc.record({
    type: fc.integer({ min: 0, max: 7 }),
    // Lengths all over the range, with extra weight at the edges where data would overflow.
    length: fc.oneof(fc.integer({ min: 19, max: max }), fc.integer({ min: max - 40, max: max }), fc.integer({ min: 19, max: 64 })),
    head: fc.uint8Array({ maxLength: 48 }),
    fill: fc.integer({ min: 0, max: 255 }),
  }).map(({ type, length, head, fill }) => message(type, length, head, fill));

const mutatedFixture = fc
  .record({
    i: fc.nat(),
    edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
    grow: fc.integer({ min: 0, max: 70_000 }),
    fix: fc.boolean(),
  })
  .map(({ i, edits, grow, fix }) => {
    const seed = FIXTURES[i % FIXTURES.length]!;
    const b = new Uint8Array(Math.min(65_535, seed.length + (grow % 4 === 0 ? grow : 0)));
    b.set(seed.subarray(0, b.length));
    for (const e of edits) b[16 + (e.at % Math.max(1, b.length - 16))] = e.value;
    if (fix) {
      b[16] = b.length >>> 8;
      b[17] = b.length & 0xff;
    }
    return b;
  });

describe('every codec error makes a NOTIFICATION that fits the negotiated maximum (4096 / 65535)', () => {
  it('found the captured fixtures', () => assert.ok(FIXTURES.length > 20, `${FIXTURES.length} fixtures`));

  for (const ctx of CONTEXTS) {
    it(`decodeMessage on messages of any type and length up to ${ctx.maxMessageLength} (as4 ${ctx.as4})`, () => {
      fc.assert(fc.property(anyMessage(ctx.maxMessageLength), (b) => decodeChecked(b, ctx)), { numRuns: RUNS });
    });
    it(`decodeMessage on mutated and grown captured fixtures (max ${ctx.maxMessageLength}, as4 ${ctx.as4})`, () => {
      fc.assert(fc.property(mutatedFixture, (b) => decodeChecked(b, ctx)), { numRuns: RUNS });
    });
  }

  it('the Framer on random streams (header errors), both maxima', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 19, maxLength: 200 }), fc.boolean(), fc.boolean(), (b, ext, marker) => {
        const ctx = CONTEXTS[ext ? 2 : 0]!;
        if (marker) b.fill(0xff, 0, 16);
        const f = new Framer(ctx.maxMessageLength);
        try {
          f.push(b, () => {});
        } catch (e) {
          checkNotification(e, ctx);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the edge cases by hand: a BoRR/EoRR of every length up to 65535, in both contexts', () => {
    for (const ctx of [CONTEXTS[0]!, CONTEXTS[2]!]) {
      for (const length of [20, 22, 24, 4075, 4076, 4077, 4095, 4096, 4097, 65_514, 65_515, 65_535]) {
        if (length > ctx.maxMessageLength) continue;
        for (const subtype of [1, 2]) {
          const b = message(MessageType.RouteRefresh, length, new Uint8Array([0, 1, subtype, 1]), 0);
          assert.throws(() => decodeMessage(b, ctx), BgpError);
          decodeChecked(b, ctx);
        }
      }
    }
  });

  it('reached the error paths of every message type (not vacuous)', () => {
    const codes = new Set([...seen].map((s) => Number(s.split('/')[0])));
    for (const code of [1, 2, 3, 7]) assert.ok(codes.has(code), `no error with code ${code} generated (seen: ${[...seen].sort().join(' ')})`);
    for (const must of ['1/1', '1/2', '1/3', '7/1']) assert.ok(seen.has(must), `${must} never generated (seen: ${[...seen].sort().join(' ')})`);
    assert.ok(seen.size >= 12, `only ${seen.size} distinct errors: ${[...seen].sort().join(' ')}`);
  });
});

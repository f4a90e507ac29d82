// The Framer against arbitrary TCP chunking: every split point, byte by byte, coalesced streams, random
// chunk sizes, and the header errors with their NOTIFICATION data.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BgpError, Framer, makeContext } from '../../../src/bgp/index.js';
import * as W from '../../helpers/wire-builder.js';

const messages = [
  W.keepalive(),
  W.open(65001, 90, '192.0.2.1', [W.param(2, W.cat(W.capMp(1, 1), W.capAs4(65001)))]),
  W.update([], W.cat(W.origin(0), W.asPath([65001]), W.nextHop('192.0.2.1')), W.prefixes(['198.18.0.1/32', '10.0.0.0/8'])),
  W.notification(6, 2),
  W.routeRefresh(1, 1),
  W.update(W.prefixes(Array.from({ length: 300 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`)), [], []),
];
const stream = W.bytes(W.cat(...messages));

function frame(chunks: Uint8Array[], f = new Framer()): string[] {
  const out: string[] = [];
  for (const c of chunks) f.push(c, (m) => out.push(W.hex(m)));
  return out;
}
const expected = messages.map(W.hex);

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('Framer', () => {
  it('delivers a coalesced stream of mixed messages in one chunk', () => {
    assert.deepEqual(frame([stream]), expected);
  });
  it('delivers the same for every split of the stream into two chunks', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      assert.deepEqual(frame([stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at ${cut}`);
    }
  });
  it('delivers the same for every split into three chunks around the message boundaries', () => {
    for (let a = 0; a < 60; a++) {
      for (let b = a; b < stream.length; b += 7) {
        assert.deepEqual(frame([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]), expected);
      }
    }
  });
  it('delivers the same byte by byte, and with empty chunks in between', () => {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1), new Uint8Array(0));
    assert.deepEqual(frame(chunks), expected);
  });
  it('delivers the same for 200 seeded random chunkings', () => {
    const rnd = prng(7);
    for (let run = 0; run < 200; run++) {
      const chunks: Uint8Array[] = [];
      for (let p = 0; p < stream.length; ) {
        const n = Math.floor(rnd() * 64);
        chunks.push(stream.slice(p, p + n));
        p += n;
      }
      assert.deepEqual(frame(chunks), expected);
    }
  });
  it('hands out views of the chunk for whole messages and fresh buffers for assembled ones', () => {
    const f = new Framer();
    const got: Uint8Array[] = [];
    f.push(stream, (m) => got.push(m));
    assert.ok(got.every((m) => m.buffer === stream.buffer));
    const parts: Uint8Array[] = [];
    f.push(stream.slice(0, 10), (m) => parts.push(m));
    f.push(stream.slice(10, 19), (m) => parts.push(m));
    assert.equal(parts.length, 1);
    assert.equal(parts[0]!.length, 19);
    assert.equal(f.buffered, 0);
  });
  it('reports how much of an incomplete message it holds', () => {
    const f = new Framer();
    f.push(stream.subarray(0, 30), () => {});
    assert.equal(f.buffered, 11);
  });

  describe('header errors (RFC 4271 §6.1)', () => {
    const pushAll = (f: Framer, chunks: Uint8Array[], got: number[]) => {
      for (const c of chunks) f.push(c, (m) => got.push(m.length));
    };
    const expectError = (chunks: Uint8Array[], subcode: number, data: number[], max?: number) => {
      const f = new Framer(max);
      const got: number[] = [];
      let err: unknown;
      try {
        pushAll(f, chunks, got);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof BgpError, 'throws BgpError');
      assert.equal(err.code, 1);
      assert.equal(err.subcode, subcode);
      assert.equal(W.hex(err.data), W.hex(data));
      assert.equal(err.action, 'session-reset');
      // The stream stays failed.
      assert.throws(() => f.push(W.bytes(W.keepalive()), () => {}), (e) => e === err);
      return got;
    };
    it('a bad marker after good messages: the good ones are delivered first', () => {
      const bad = W.keepalive();
      bad[3] = 0;
      const got = expectError([W.bytes(W.cat(W.keepalive(), W.keepalive(), bad))], 1, []);
      assert.deepEqual(got, [19, 19]);
    });
    it('a bad marker split across chunks', () => {
      const bad = W.keepalive();
      bad[15] = 0x7f;
      expectError([W.bytes(bad.slice(0, 5)), W.bytes(bad.slice(5))], 1, []);
    });
    it('length below 19, with the length field as data', () => {
      const bad = W.cat(W.keepalive().slice(0, 16), W.u16(18), [4]);
      expectError([W.bytes(bad)], 2, W.u16(18));
    });
    it('length above 4096 without extended messages, detected from the header alone', () => {
      const bad = W.cat(W.keepalive().slice(0, 16), W.u16(4097), [2]);
      expectError([W.bytes(bad)], 2, W.u16(4097));
    });
    it('the maximum follows the negotiated context', () => {
      const big = W.update([], W.attr(0xd0, 200, new Array(5000).fill(0)), []);
      const f = new Framer();
      f.setContext(makeContext({ extendedMessage: true }));
      assert.deepEqual(frame([W.bytes(big)], f), [W.hex(big)]);
      expectError([W.bytes(big.slice(0, 19))], 2, W.u16(big.length), 4096);
    });
  });
});

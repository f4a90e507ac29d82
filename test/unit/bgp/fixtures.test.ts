// Every captured fixture (test/fixtures/bgp/*.bin, bytes FRR, BIRD and GoBGP really sent) against the codec:
// decode it and compare with the expected decode Wireshark produced (.json, see the README there), encode the
// decoded message and get the same bytes back, and frame it from every possible split of the TCP stream.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Framer, decodeMessage, encodeMessage, makeContext, type CodecContext } from '../../../src/bgp/index.js';
import { bgpView, hex } from '../../helpers/bgp-view.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/bgp');

interface Expected {
  source: string;
  context: { as4: boolean; extendedMessage: boolean };
  message: { type: string } & Record<string, unknown>;
}

interface Fixture {
  name: string;
  bytes: Uint8Array;
  expected: Expected;
  ctx: CodecContext;
}

const names = readdirSync(dir)
  .filter((f) => f.endsWith('.bin'))
  .map((f) => f.slice(0, -4))
  .sort();

const fixtures: Fixture[] = names.map((name) => {
  const expected = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Expected;
  return {
    name,
    bytes: new Uint8Array(readFileSync(join(dir, `${name}.bin`))),
    expected,
    ctx: makeContext({ as4: expected.context.as4, extendedMessage: expected.context.extendedMessage }),
  };
});

/**
 * Fixtures whose bytes the encoder legitimately writes differently (a non-canonical choice by the router that
 * the codec normalises); for these only decode(encode(decode(x))) = decode(x) is asserted. Empty: every
 * captured message so far re-encodes byte for byte.
 */
const NORMALISED: Record<string, string> = {};

/** Deterministic PRNG (mulberry32) so the coalesced-stream test is reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('captured BGP fixtures', () => {
  it('there are enough of them, every .bin has its .json, and every message type is covered', () => {
    assert.ok(fixtures.length >= 20, `only ${fixtures.length} fixtures in ${dir}`);
    const jsons = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.equal(jsons.length, fixtures.length, 'a .json without its .bin (or the reverse)');
    const types = new Set(fixtures.map((f) => f.expected.message.type));
    assert.deepEqual([...types].sort(), ['KEEPALIVE', 'NOTIFICATION', 'OPEN', 'ROUTE_REFRESH', 'UPDATE']);
    for (const f of fixtures) {
      assert.match(f.name, /^(open|update|notification|keepalive|route-refresh)\.(frr|bird|gobgp)-[0-9.]+\.[a-z0-9-]+$/);
      assert.equal(f.expected.message.type.toLowerCase().replace('_', '-'), f.name.split('.')[0]);
    }
  });

  it('cover the attributes the codec must handle (so a regenerated set cannot silently lose them)', () => {
    const seen = new Set<string>();
    for (const f of fixtures) {
      const attrs = f.expected.message.attributes as Record<string, unknown> | undefined;
      for (const k of Object.keys(attrs ?? {})) seen.add(k);
      if (f.expected.message.endOfRib) seen.add(`eor:${JSON.stringify(f.expected.message.endOfRib)}`);
      if (f.expected.message.shutdownCommunication) seen.add('shutdownCommunication');
      for (const c of (f.expected.message.capabilities as Array<{ name: string }> | undefined) ?? []) seen.add(`cap:${c.name}`);
    }
    for (const k of [
      'origin', 'asPath', 'nextHop', 'med', 'localPref', 'atomicAggregate', 'aggregator', 'communities',
      'largeCommunities', 'extendedCommunities', 'mpReach', 'mpUnreach', 'as4Path', 'as4Aggregator', 'unknown',
      'eor:{"afi":1,"safi":1}', 'eor:{"afi":2,"safi":1}', 'shutdownCommunication',
      'cap:multiprotocol', 'cap:route-refresh', 'cap:four-octet-as', 'cap:graceful-restart', 'cap:extended-message',
      'cap:enhanced-route-refresh', 'cap:fqdn', 'cap:unknown',
    ]) {
      assert.ok(seen.has(k), `no fixture has ${k}`);
    }
  });

  for (const f of fixtures) {
    describe(f.name, () => {
      it('decodes to the expected content', () => {
        const m = decodeMessage(f.bytes, f.ctx);
        assert.deepStrictEqual(bgpView(m), f.expected.message);
      });

      const why = NORMALISED[f.name];
      if (why === undefined) {
        it('re-encodes byte for byte', () => {
          const m = decodeMessage(f.bytes, f.ctx);
          assert.equal(hex(encodeMessage(m, f.ctx)), hex(f.bytes));
        });
      } else {
        it(`re-encodes to an equivalent message (${why})`, () => {
          const m = decodeMessage(f.bytes, f.ctx);
          const again = decodeMessage(encodeMessage(m, f.ctx), f.ctx);
          assert.deepStrictEqual(bgpView(again), bgpView(m));
        });
      }

      it('frames from every split point and byte by byte', () => {
        const b = f.bytes;
        for (let cut = 0; cut <= b.length; cut++) {
          const framer = new Framer(f.ctx.maxMessageLength);
          const got: string[] = [];
          framer.push(b.subarray(0, cut), (msg) => got.push(hex(msg)));
          framer.push(b.subarray(cut), (msg) => got.push(hex(msg)));
          assert.deepEqual(got, [hex(b)], `split at ${cut}`);
          assert.equal(framer.buffered, 0);
        }
        const framer = new Framer(f.ctx.maxMessageLength);
        const got: string[] = [];
        for (let i = 0; i < b.length; i++) framer.push(b.subarray(i, i + 1), (msg) => got.push(hex(msg)));
        assert.deepEqual(got, [hex(b)]);
      });
    });
  }

  it('frames all fixtures coalesced into one stream, cut in random chunks', () => {
    const total = fixtures.reduce((n, f) => n + f.bytes.length, 0);
    const stream = new Uint8Array(total);
    let p = 0;
    for (const f of fixtures) {
      stream.set(f.bytes, p);
      p += f.bytes.length;
    }
    const want = fixtures.map((f) => hex(f.bytes));
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const framer = new Framer();
      const got: string[] = [];
      for (let off = 0; off < total; ) {
        const n = 1 + Math.floor(rand() * (seed % 2 === 0 ? 40 : 400));
        // copy each chunk, as a socket would deliver fresh buffers
        framer.push(stream.slice(off, off + n), (msg) => got.push(hex(msg)));
        off += n;
      }
      assert.deepEqual(got, want, `seed ${seed}`);
    }
    // and the whole stream as one chunk
    const got: string[] = [];
    new Framer().push(stream, (msg) => got.push(hex(msg)));
    assert.deepEqual(got, want);
  });
});

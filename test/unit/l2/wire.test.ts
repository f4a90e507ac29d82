// The liveness packet: round trip, and every way a datagram is refused (a table), plus a fuzz: random bytes and
// random single-octet corruptions never throw and never authenticate.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodePacket, encodePacket, keyProblem, MAC_LENGTH, type Packet } from '../../../src/l2/wire.js';
import { UdpMembership } from '../../../src/l2/member-driver.js';
import { createHmac } from 'node:crypto';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');

const P: Packet = {
  type: 'heartbeat',
  sender: 'node-1',
  excluded: true,
  incarnation: 0xfedcba9876543210n,
  seq: 7,
  timestamp: 1_765_000_000_123,
  lag: 3,
  alive: ['node-2', 'node-3'],
  claims: new Map([
    ['192.0.2.1', 1_765_000_000_000],
    ['2001:db8::1', 1_765_000_000_001],
  ]),
};

/** Re-signs a body (to test the parser behind a valid MAC). */
function sign(body: Buffer): Buffer {
  return Buffer.concat([body, createHmac('sha256', KEY).update(body).digest()]);
}

describe('l2 wire', () => {
  it('round-trips every field', () => {
    const r = decodePacket(encodePacket(P, KEY), KEY);
    assert.ok(r.ok);
    assert.deepEqual(r.packet, P);
    const leave = decodePacket(encodePacket({ ...P, type: 'leave', claims: new Map(), alive: [] }, KEY), KEY);
    assert.ok(leave.ok);
    assert.equal(leave.packet.type, 'leave');
  });

  it('refuses an empty or short key with a precise error', () => {
    assert.equal(keyProblem(KEY), null);
    assert.match(keyProblem(Buffer.alloc(0)) ?? '', /0 bytes; at least 16/);
    assert.throws(() => new UdpMembership({ self: 'a', members: [], key: Buffer.from('short'), bindAddress: '127.0.0.1' }), /5 bytes; at least 16/);
  });

  it('canonicalises claimed IPs', () => {
    const r = decodePacket(encodePacket({ ...P, claims: new Map([['2001:DB8:0::1', 5]]) }, KEY), KEY);
    assert.ok(r.ok);
    assert.deepEqual([...r.packet.claims], [['2001:db8::1', 5]]);
  });

  const good = encodePacket(P, KEY);
  const body = good.subarray(0, good.length - MAC_LENGTH);
  const cases: [string, Buffer, string, RegExp][] = [
    ['empty', Buffer.alloc(0), 'malformed', /length 0/],
    ['short', good.subarray(0, 20), 'malformed', /below the minimum/],
    ['bad magic', Buffer.concat([Buffer.from('XXXX'), good.subarray(4)]), 'malformed', /magic/],
    ['version 2', (() => { const b = Buffer.from(good); b[4] = 2; return b; })(), 'badVersion', /version 2/],
    ['wrong key', encodePacket(P, Buffer.from('another key')), 'unauthenticated', /HMAC/],
    ['flipped body bit', (() => { const b = Buffer.from(good); b[12] = (b[12] ?? 0) ^ 1; return b; })(), 'unauthenticated', /HMAC/],
    ['truncated MAC', good.subarray(0, good.length - 1), 'unauthenticated', /HMAC/],
    ['type 9', sign((() => { const b = Buffer.from(body); b[5] = 9; return b; })()), 'malformed', /type 9/],
    ['trailing octets', sign(Buffer.concat([body, Buffer.from([0])])), 'malformed', /trailing/],
    ['truncated claims', sign(body.subarray(0, body.length - 3)), 'malformed', /truncated/],
    ['claim family 5', sign((() => { const b = Buffer.from(body); const off = body.length - (1 + 16 + 8) - (1 + 4 + 8); b[off] = 5; return b; })()), 'malformed', /family 5/],
  ];
  for (const [name, bytes, reason, detail] of cases) {
    it(`drops ${name} as ${reason}`, () => {
      const r = decodePacket(bytes, KEY);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.reason, reason);
        assert.match(r.detail, detail);
      }
    });
  }

  it('never throws on random bytes, and random bytes never authenticate', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (arr) => {
        const r = decodePacket(Buffer.from(arr), KEY);
        return !r.ok;
      }),
      { numRuns: 2000 },
    );
  });

  it('any single corrupted octet is refused', () => {
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = Buffer.from(good);
        b[i] = (b[i] ?? 0) ^ x;
        return !decodePacket(b, KEY).ok;
      }),
      { numRuns: 1000 },
    );
  });

  it('the parser behind a valid MAC never throws on random bodies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (arr) => {
        const b = Buffer.from(body);
        const mixed = Buffer.concat([b.subarray(0, 8), Buffer.from(arr)]);
        decodePacket(sign(mixed), KEY);
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});

// The node-address choices of the speaker: router-id fallbacks and next hops per session (pure functions over
// an interface table).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressKey, chooseRouterId, crc32, isGlobalIpv6, nextHopsFor, unmapAddress } from '../../../src/speaker/addresses.js';
import { formatIPv6Bytes, ipv4Number } from '../../../src/ip/index.js';
import { ifaceTable } from './harness.js';

const TABLE = ifaceTable({ lo: ['127.0.0.1', '::1'], eth0: ['10.0.0.5', 'fe80::1', 'fd00:1::5'], eth1: ['192.168.1.5', '2001:db8::5'], v6only: ['fe80::9', '2001:db8:9::9'] });

describe('chooseRouterId', () => {
  it('router-id, then IPv4 source-address, then the first non-loopback IPv4, then the node name CRC', () => {
    assert.deepEqual(chooseRouterId({ routerID: '1.2.3.4', sourceAddress: '10.0.0.5' }, TABLE, 'n'), { id: ipv4Number('1.2.3.4'), text: '1.2.3.4', source: 'router-id' });
    assert.equal(chooseRouterId({ routerID: null, sourceAddress: '192.168.1.5' }, TABLE, 'n').text, '192.168.1.5');
    assert.deepEqual(chooseRouterId({ routerID: null, sourceAddress: 'fd00:1::5' }, TABLE, 'n'), { id: ipv4Number('10.0.0.5'), text: '10.0.0.5', source: 'interface' });
    const byName = chooseRouterId({ routerID: null, sourceAddress: null }, ifaceTable({ lo: ['127.0.0.1'], e: ['2001:db8::1'] }), 'node-a');
    assert.equal(byName.source, 'node-name');
    // Stable: the same name always gives the same identifier, different names differ.
    assert.equal(byName.id, chooseRouterId({ routerID: null, sourceAddress: null }, {}, 'node-a').id);
    assert.notEqual(byName.id, chooseRouterId({ routerID: null, sourceAddress: null }, {}, 'node-b').id);
    const c = crc32(new TextEncoder().encode('node-a'));
    assert.equal(byName.id, (((c & 0xff) << 24) | (((c >>> 8) & 0xff) << 16) | (((c >>> 16) & 0xff) << 8) | (c >>> 24)) >>> 0);
  });

  it('crc32 is CRC-32/IEEE', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });
});

describe('nextHopsFor', () => {
  it('IPv4 session: its local address; IPv6 from a global address of the same interface (not link-local)', () => {
    const h = nextHopsFor('10.0.0.5', TABLE);
    assert.equal(h.nextHop4Text, '10.0.0.5');
    assert.equal(h.nextHop6Text, 'fd00:1::5');
    assert.equal(formatIPv6Bytes(h.nextHop6!, 0), 'fd00:1::5');
    assert.equal(nextHopsFor('::ffff:192.168.1.5', TABLE).nextHop6Text, '2001:db8::5');
  });

  it('IPv6 session: its global local address, IPv4 from the interface; none of a family → null', () => {
    const h = nextHopsFor('2001:db8::5', TABLE);
    assert.equal(h.nextHop6Text, '2001:db8::5');
    assert.equal(h.nextHop4Text, '192.168.1.5');
    const v6only = nextHopsFor('2001:db8:9::9', TABLE);
    assert.equal(v6only.nextHop4, null);
    const ll = nextHopsFor('fe80::9', TABLE);
    assert.equal(ll.nextHop6Text, '2001:db8:9::9', 'link-local session: a global of the same interface');
    assert.equal(nextHopsFor('10.9.9.9', TABLE).nextHop6, null, 'unknown interface');
  });

  it('isGlobalIpv6 / unmapAddress / addressKey', () => {
    for (const a of ['2001:db8::1', 'fd00::1']) assert.equal(isGlobalIpv6(a), true, a);
    for (const a of ['fe80::1', '::1', '::', 'ff02::1', '::ffff:10.0.0.1', '10.0.0.1']) assert.equal(isGlobalIpv6(a), false, a);
    assert.equal(unmapAddress('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(unmapAddress('2001:db8::1'), '2001:db8::1');
    assert.equal(addressKey('2001:DB8:0::1'), addressKey('2001:db8::1'));
    assert.equal(addressKey('::ffff:10.0.0.1'), '10.0.0.1');
  });
});

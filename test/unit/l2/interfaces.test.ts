import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import {
  chooseInterfaces,
  eligibility,
  parseInterfaceList,
  readInterfaceFacts,
  subnetContains,
  type InterfaceFacts,
  type SysReader,
} from '../../../src/l2/interfaces.js';

const UP_BC = 0x1003; // IFF_UP | IFF_BROADCAST | IFF_MULTICAST
const iface = (name: string, addrs: Array<[string, number]>, over: Partial<InterfaceFacts> = {}): InterfaceFacts => ({
  name,
  ifindex: 1,
  mac: '02:00:00:00:00:01',
  flags: UP_BC,
  enslaved: false,
  addresses: addrs.map(([address, prefixLength]) => ({ address, prefixLength, family: address.includes(':') ? 6 : 4 })),
  ...over,
});

const table: InterfaceFacts[] = [
  iface('lo', [['127.0.0.1', 8], ['10.99.0.100', 32], ['::1', 128]], { flags: 0x9 }),
  iface('eth0', [['10.99.0.1', 24], ['fd00:99::1', 64], ['fe80::1', 64]]),
  iface('eth1', [['192.168.7.1', 24], ['fe80::2', 64]]),
  iface('eth2', [['10.99.0.2', 24]], { flags: 0x1002 }), // down
  iface('bond0m', [['10.99.0.3', 24]], { enslaved: true }),
  iface('kube-ipvs0', [['10.99.0.100', 32]], { flags: 0x83 }), // NOARP dummy
  iface('tun0', [['10.99.0.4', 24]], { flags: 0x1091 }), // point-to-point, no broadcast
  iface('br0', [['172.16.0.1', 16], ['fd00:aa::1', 64]]),
];

test('eligibility: loopback, down, no broadcast, NOARP and enslaved interfaces never answer', () => {
  assert.deepEqual(
    Object.fromEntries(table.map((i) => [i.name, eligibility(i)])),
    { lo: 'loopback', eth0: 'ok', eth1: 'ok', eth2: 'down', bond0m: 'enslaved', 'kube-ipvs0': 'noarp', tun0: 'no-broadcast', br0: 'ok' },
  );
});

test('subnet rule: only the interfaces whose subnet holds the VIP (host routes and link-local do not count)', () => {
  assert.deepEqual(chooseInterfaces('10.99.0.100', table), { interfaces: ['eth0'], rule: 'subnet' });
  assert.deepEqual(chooseInterfaces('172.16.200.9', table), { interfaces: ['br0'], rule: 'subnet' });
  assert.deepEqual(chooseInterfaces('fd00:99::100', table), { interfaces: ['eth0'], rule: 'subnet' });
  assert.equal(subnetContains(table[0]!, '10.99.0.100'), false, 'a /32 on lo is not a subnet');
  assert.equal(subnetContains(table[1]!, 'fe80::99'), false, 'fe80::/64 is not a subnet for VIPs');
});

test('fallback: no subnet holds the VIP → every eligible interface (IPv6: those with IPv6)', () => {
  assert.deepEqual(chooseInterfaces('203.0.113.5', table), { interfaces: ['br0', 'eth0', 'eth1'], rule: 'fallback' });
  assert.deepEqual(chooseInterfaces('2001:db8::5', table), { interfaces: ['br0', 'eth0', 'eth1'], rule: 'fallback' });
});

test('--l2-interfaces restricts both rules', () => {
  assert.deepEqual(chooseInterfaces('10.99.0.100', table, ['eth1']), { interfaces: ['eth1'], rule: 'fallback' });
  assert.deepEqual(chooseInterfaces('10.99.0.100', table, ['eth0', 'eth1']), { interfaces: ['eth0'], rule: 'subnet' });
  assert.deepEqual(chooseInterfaces('10.99.0.100', table, ['lo', 'eth2', 'bond0m']), { interfaces: [], rule: 'fallback' });
  assert.deepEqual(parseInterfaceList(' eth0, eth1,,eth0 '), ['eth0', 'eth1']);
  assert.throws(() => parseInterfaceList('eth0,a/b'), /'a\/b' is not an interface name/);
  assert.throws(() => parseInterfaceList('x'.repeat(16)), /not an interface name/);
});

test('readInterfaceFacts: flags, ifindex, MAC and enslavement from /sys; addresses from the os table', () => {
  const files: Record<string, string> = {
    '/sys/class/net/eth0/ifindex': '2\n',
    '/sys/class/net/eth0/flags': '0x1003\n',
    '/sys/class/net/eth0/address': '02:AA:00:00:00:01\n',
    '/sys/class/net/eth1/ifindex': '3\n',
    '/sys/class/net/eth1/flags': '0x1003\n',
    '/sys/class/net/eth1/address': '02:aa:00:00:00:02\n',
    '/sys/class/net/eth1/brport': '',
    '/sys/class/net/eth3/ifindex': '5\n',
    '/sys/class/net/eth3/flags': '0x1003\n',
    '/sys/class/net/eth3/bonding_slave': '',
  };
  const sys: SysReader = { readFile: (p) => files[p] ?? null, exists: (p) => p in files };
  const info = (address: string, cidr: string, family: 'IPv4' | 'IPv6'): NetworkInterfaceInfo =>
    ({ address, cidr, family, mac: '02:aa:00:00:00:09', netmask: '', internal: false, scopeid: 0 }) as NetworkInterfaceInfo;
  const facts = readInterfaceFacts(
    { eth0: [info('10.0.0.1', '10.0.0.1/24', 'IPv4'), info('fe80::1', 'fe80::1/64', 'IPv6')], eth1: [info('10.1.0.1', '10.1.0.1/24', 'IPv4')], gone: [info('10.2.0.1', '10.2.0.1/24', 'IPv4')], eth3: [] },
    sys,
  );
  assert.deepEqual(facts, [
    { name: 'eth0', ifindex: 2, mac: '02:aa:00:00:00:01', flags: 0x1003, enslaved: false, addresses: [{ address: '10.0.0.1', family: 4, prefixLength: 24 }, { address: 'fe80::1', family: 6, prefixLength: 64 }] },
    { name: 'eth1', ifindex: 3, mac: '02:aa:00:00:00:02', flags: 0x1003, enslaved: true, addresses: [{ address: '10.1.0.1', family: 4, prefixLength: 24 }] },
    { name: 'eth3', ifindex: 5, mac: '', flags: 0x1003, enslaved: true, addresses: [] },
  ]);
});

test('readInterfaceFacts on this machine finds loopback and marks it ineligible', () => {
  const lo = readInterfaceFacts().find((i) => i.name === 'lo');
  assert.ok(lo, 'lo is listed');
  assert.equal(eligibility(lo), 'loopback');
});

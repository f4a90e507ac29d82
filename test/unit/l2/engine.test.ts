// The Layer 2 engine over a fake transport and a fake clock: sockets on the chosen interfaces, gratuitous
// bursts, answers, counters, conflicts, failures and clean stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4Number, ipv6Bytes } from '../../../src/ip/index.js';
import {
  ArpOp,
  BROADCAST_MAC,
  ZERO_MAC,
  arpFrame,
  decodeFrame,
  encodeEthernet,
  encodeNs,
  EtherType,
  gratuitousArpFrames,
  ipv6MulticastMac,
  parseMac,
  solicitedNodeMulticast,
  formatMac,
} from '../../../src/l2/frames.js';
import { createLayer2Engine, type Layer2EngineOptions, type Layer2MetricsSink } from '../../../src/l2/engine.js';
import type { InterfaceFacts } from '../../../src/l2/interfaces.js';
import { PacketType } from '../../../src/l2/transport.js';
import { Layer2Metrics } from '../../../src/metrics/registry.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeL2Transport } from '../../helpers/l2-transport.js';

const CLIENT = parseMac('02:bb:00:00:00:02')!;
const eth0: InterfaceFacts = {
  name: 'eth0',
  ifindex: 2,
  mac: '02:aa:00:00:00:01',
  flags: 0x1003,
  enslaved: false,
  addresses: [
    { address: '10.99.0.1', family: 4, prefixLength: 24 },
    { address: 'fd00:99::1', family: 6, prefixLength: 64 },
    { address: 'fe80::aa:ff:fe00:1', family: 6, prefixLength: 64 },
  ],
};
const eth1: InterfaceFacts = { name: 'eth1', ifindex: 3, mac: '02:aa:00:00:00:02', flags: 0x1003, enslaved: false, addresses: [{ address: '192.168.1.1', family: 4, prefixLength: 24 }] };

class RecordingMetrics implements Layer2MetricsSink {
  readonly events: string[] = [];
  addIp(ip: string) {
    this.events.push(`add ${ip}`);
  }
  forgetIp(ip: string) {
    this.events.push(`forget ${ip}`);
  }
  requestReceived(ip: string) {
    this.events.push(`req ${ip}`);
  }
  responseSent(ip: string) {
    this.events.push(`resp ${ip}`);
  }
  gratuitousSent(ip: string, n: number) {
    this.events.push(`garp ${ip} ${n}`);
  }
  malformedFrame(reason: string) {
    this.events.push(`malformed ${reason}`);
  }
}

function setup(over: Partial<Layer2EngineOptions> = {}, table: InterfaceFacts[] = [eth0, eth1]) {
  const clock = new FakeClock();
  const transport = new FakeL2Transport();
  const metrics = new RecordingMetrics();
  let facts = table;
  const engine = createLayer2Engine({ transport, clock, metrics, interfaces: () => facts, ...over });
  return { clock, transport, metrics, engine, setFacts: (f: InterfaceFacts[]) => (facts = f) };
}

const arpRequest = (tpa: string, dst: Uint8Array = BROADCAST_MAC) =>
  arpFrame(dst, CLIENT, { op: ArpOp.Request, senderMac: CLIENT, senderIp: ipv4Number('10.99.0.2'), targetMac: ZERO_MAC, targetIp: ipv4Number(tpa) });

test('a new IPv4 IP: ARP socket on the subnet interface only, burst of 3 rounds × (request + reply) over 200 ms', () => {
  const { clock, transport, metrics, engine } = setup();
  engine.setOwned(['10.99.0.100']);
  assert.deepEqual(transport.open_().map((s) => [s.ifindex, s.protocol]), [[2, 'arp']]);
  const sock = transport.open_(2, 'arp')[0]!;
  assert.equal(sock.sent.length, 2, 'round 0 goes out at once');
  clock.advance(100);
  assert.equal(sock.sent.length, 4);
  clock.advance(100);
  assert.equal(sock.sent.length, 6);
  clock.advance(10_000 - 200);
  assert.equal(sock.sent.length, 6, 'no refresh by default');
  const ops = sock.sent.map((f) => {
    const d = decodeFrame(f);
    assert.ok(d.ok && d.value.kind === 'arp');
    assert.equal(formatMac(d.value.eth.dst), 'ff:ff:ff:ff:ff:ff');
    assert.equal(d.value.arp.senderIp, d.value.arp.targetIp);
    return d.value.arp.op;
  });
  assert.deepEqual(ops, [1, 2, 1, 2, 1, 2]);
  assert.deepEqual(metrics.events, ['add 10.99.0.100', 'garp 10.99.0.100 2', 'garp 10.99.0.100 2', 'garp 10.99.0.100 2']);
  const st = engine.status();
  assert.deepEqual(st.ips['10.99.0.100'], { interfaces: ['eth0'], rule: 'subnet', since: 0, requestsReceived: 0, responsesSent: 0, gratuitousSent: 6 });
  assert.deepEqual(st.interfaces.eth0, { ifindex: 2, mac: '02:aa:00:00:00:01', arp: true, ndp: false, ips: ['10.99.0.100'], error: null });
});

test('a new IPv6 IP: NDP socket joined to the solicited-node MAC, unsolicited NAs (O set) from the VIP', () => {
  const { clock, transport, engine } = setup();
  engine.setOwned(['FD00:99::0100']);
  const sock = transport.open_(2, 'ndp')[0]!;
  assert.deepEqual([...sock.groups], ['33:33:ff:00:01:00']);
  assert.deepEqual([...transport.ipv6Groups], ['eth0 ff02::1:ff00:100'], 'joined at the IP level too (MLD reports)');
  clock.advance(200);
  assert.equal(sock.sent.length, 3);
  const d = decodeFrame(sock.sent[0]!);
  assert.ok(d.ok && d.value.kind === 'nd' && d.value.nd.type === 136);
  assert.deepEqual([d.value.nd.override, d.value.nd.solicited], [true, false]);
  assert.deepEqual([...d.value.ip.src], [...ipv6Bytes('fd00:99::100')]);
  assert.ok(engine.status().ips['fd00:99::100'], 'IPv6 keys are canonical');
  engine.setOwned([]);
  assert.deepEqual([...transport.ipv6Groups], []);
  assert.deepEqual(transport.open_(), []);
});

test('answers an ARP request and an NS for an owned IP, counts requests and responses', () => {
  const { transport, metrics, engine } = setup({ gratuitous: { rounds: 1 } });
  engine.setOwned(['10.99.0.100', 'fd00:99::100']);
  transport.clearSent();
  metrics.events.length = 0;
  assert.equal(transport.deliver(2, 'arp', arpRequest('10.99.0.100')), 1);
  assert.equal(transport.deliver(2, 'arp', arpRequest('10.99.0.7')), 1);
  const vip6 = ipv6Bytes('fd00:99::100');
  const sn = solicitedNodeMulticast(vip6);
  const ns = encodeEthernet(ipv6MulticastMac(sn), CLIENT, EtherType.Ipv6, encodeNs({ src: ipv6Bytes('fd00:99::2'), dst: sn, target: vip6, linkLayerAddress: CLIENT }));
  transport.deliver(2, 'ndp', ns, PacketType.Multicast);
  const [arpReply] = transport.open_(2, 'arp')[0]!.sent;
  const [na] = transport.open_(2, 'ndp')[0]!.sent;
  assert.ok(arpReply && na);
  const a = decodeFrame(arpReply);
  assert.ok(a.ok && a.value.kind === 'arp' && a.value.arp.op === 2 && formatMac(a.value.arp.senderMac) === '02:aa:00:00:00:01');
  const n = decodeFrame(na);
  assert.ok(n.ok && n.value.kind === 'nd' && n.value.nd.type === 136 && n.value.nd.solicited);
  assert.deepEqual(metrics.events, ['req 10.99.0.100', 'resp 10.99.0.100', 'req fd00:99::100', 'resp fd00:99::100']);
  const st = engine.status();
  assert.equal(st.ips['10.99.0.100']!.responsesSent, 1);
  assert.equal(st.counters.framesReceived, 3);
  assert.deepEqual(st.counters.ignored, { 'not-owned': 1 });
});

test('malformed frames are counted by reason and never thrown; promiscuous copies are ignored', () => {
  const { transport, metrics, engine } = setup({ gratuitous: { rounds: 1 } });
  engine.setOwned(['10.99.0.100']);
  transport.clearSent();
  const bad = Buffer.from(arpRequest('10.99.0.100'));
  bad[21] = 9; // ARP op 9
  assert.doesNotThrow(() => transport.deliver(2, 'arp', bad));
  assert.doesNotThrow(() => transport.deliver(2, 'arp', Buffer.alloc(3)));
  transport.deliver(2, 'arp', arpRequest('10.99.0.100'), PacketType.OtherHost);
  assert.deepEqual(engine.status().counters.malformed, { 'arp-bad-op': 1, 'ethernet-truncated': 1 });
  assert.deepEqual(engine.status().counters.ignored, { 'other-host': 1 });
  assert.deepEqual(transport.allSent(), []);
  assert.ok(metrics.events.includes('malformed arp-bad-op'));
});

test('another MAC claiming an owned IP reaches every conflict callback, even after one throws', () => {
  const { transport, engine } = setup({ gratuitous: { rounds: 1 } });
  const seen: string[] = [];
  engine.onConflict(() => {
    throw new Error('handler bug');
  });
  engine.onConflict((ip, mac, iface) => seen.push(`${ip} ${mac} ${iface}`));
  engine.setOwned(['10.99.0.100']);
  const [garpReq] = gratuitousArpFrames(parseMac('02:cc:00:00:00:03')!, ipv4Number('10.99.0.100'));
  assert.doesNotThrow(() => transport.deliver(2, 'arp', garpReq));
  assert.deepEqual(seen, ['10.99.0.100 02:cc:00:00:00:03 eth0']);
  assert.equal(engine.status().counters.conflicts, 1);
});

test("our own gratuitous frames heard on another of our interfaces are not a conflict", () => {
  const { transport, engine } = setup({ gratuitous: { rounds: 1 } });
  const seen: string[] = [];
  engine.onConflict((ip) => seen.push(ip));
  engine.setOwned(['192.168.7.5']); // fallback: answered on eth0 and eth1, maybe the same segment
  const [fromEth1] = gratuitousArpFrames(parseMac(eth1.mac)!, ipv4Number('192.168.7.5'));
  transport.deliver(2, 'arp', fromEth1);
  assert.deepEqual(seen, []);
  assert.equal(engine.status().counters.ignored['own-interface'], 1);
});

test('an IP that goes away: burst stops, socket closes, series forgotten; an unchanged set sends nothing new', () => {
  const { clock, transport, metrics, engine } = setup();
  engine.setOwned(['10.99.0.100']);
  engine.setOwned(['10.99.0.100']);
  assert.equal(transport.allSent().length, 2, 'a repeated set is not a takeover');
  engine.setOwned([]);
  clock.advance(1000);
  assert.equal(transport.allSent().length, 2);
  assert.deepEqual(transport.open_(), []);
  assert.ok(metrics.events.includes('forget 10.99.0.100'));
  assert.deepEqual(engine.status().ips, {});
  assert.deepEqual(engine.status().interfaces, {});
  assert.deepEqual(clock.pendingDelays(), [10_000 - 1000], 'only the rescan timer is left');
});

test('a bad IP throws a RangeError naming it and changes nothing', () => {
  const { transport, engine } = setup();
  engine.setOwned(['10.99.0.100']);
  assert.throws(() => engine.setOwned(['10.99.0.100', '10.99.0.300']), { name: 'RangeError', message: /'10\.99\.0\.300'/ });
  assert.deepEqual(Object.keys(engine.status().ips), ['10.99.0.100']);
  assert.equal(transport.open_().length, 1);
});

test('no CAP_NET_RAW: setOwned does not throw, status shows the error, the next scan retries', () => {
  const { clock, transport, engine } = setup();
  transport.openError = Object.assign(new Error('Layer 2 needs CAP_NET_RAW: socket(AF_PACKET) EPERM'), { code: 'EPERM' });
  assert.doesNotThrow(() => engine.setOwned(['10.99.0.100']));
  assert.match(engine.status().interfaces.eth0!.error!, /CAP_NET_RAW/);
  assert.equal(engine.status().interfaces.eth0!.arp, false);
  assert.equal(engine.status().ips['10.99.0.100']!.gratuitousSent, 0);
  transport.openError = null;
  clock.advance(10_000);
  assert.equal(engine.status().interfaces.eth0!.arp, true);
  assert.equal(engine.status().interfaces.eth0!.error, null);
  clock.advance(200);
  assert.equal(engine.status().ips['10.99.0.100']!.gratuitousSent, 6, 'the burst it owed goes out once the socket opens');
});

test('send failures are counted, not thrown', () => {
  const { transport, engine } = setup({ gratuitous: { rounds: 1 } });
  transport.sendError = Object.assign(new Error('send(AF_PACKET) ENETDOWN: Network is down'), { code: 'ENETDOWN' });
  assert.doesNotThrow(() => engine.setOwned(['10.99.0.100']));
  assert.equal(engine.status().counters.sendErrors, 2);
  assert.match(engine.status().interfaces.eth0!.error!, /ENETDOWN/);
  assert.equal(engine.status().ips['10.99.0.100']!.gratuitousSent, 0);
});

test('optional refresh re-sends one round per owned IP at the configured interval', () => {
  const { clock, transport, engine } = setup({ gratuitous: { rounds: 1, refreshMs: 1000 } });
  engine.setOwned(['10.99.0.100']);
  assert.equal(transport.allSent().length, 2);
  clock.advance(3000);
  assert.equal(transport.allSent().length, 8);
});

test('a rescan that finds the VIP subnet on another interface moves the answers there, with a burst on it', () => {
  const { clock, transport, engine, setFacts } = setup({ gratuitous: { rounds: 1 } });
  engine.setOwned(['192.168.7.5']); // no subnet holds it: fallback to every eligible interface
  assert.deepEqual(engine.status().ips['192.168.7.5']!.interfaces, ['eth0', 'eth1']);
  transport.clearSent();
  setFacts([eth0, { ...eth1, addresses: [{ address: '192.168.7.1', family: 4, prefixLength: 24 }] }]);
  clock.advance(10_000);
  assert.deepEqual(engine.status().ips['192.168.7.5'], { interfaces: ['eth1'], rule: 'subnet', since: 0, requestsReceived: 0, responsesSent: 0, gratuitousSent: 4 });
  assert.deepEqual(transport.open_().map((s) => s.ifindex), [3]);
  assert.equal(transport.allSent().length, 0, 'eth1 was already chosen: no new burst');
});

test('--l2-interfaces restricts the engine to the named interfaces', () => {
  const { transport, engine } = setup({ onlyInterfaces: ['eth1'] });
  engine.setOwned(['10.99.0.100']);
  assert.deepEqual(engine.status().ips['10.99.0.100']!.interfaces, ['eth1']);
  assert.deepEqual(transport.open_().map((s) => s.ifindex), [3]);
});

test('stop closes every socket and clears every timer', async () => {
  const { clock, transport, engine } = setup({ gratuitous: { refreshMs: 5000 } });
  engine.setOwned(['10.99.0.100', 'fd00:99::100']);
  await engine.stop();
  assert.deepEqual(transport.open_(), []);
  assert.equal(clock.pending, 0);
  engine.setOwned(['10.99.0.101']);
  assert.deepEqual(transport.open_(), [], 'a stopped engine stays stopped');
});

test('with the real Layer2Metrics the MetalLB series appear with the ip label', async () => {
  const metrics = new Layer2Metrics();
  const { transport, engine } = setup({ metrics, gratuitous: { rounds: 1 } });
  engine.setOwned(['10.99.0.100']);
  transport.deliver(2, 'arp', arpRequest('10.99.0.100'));
  const text = await metrics.metrics();
  assert.match(text, /metallb_layer2_requests_received\{ip="10\.99\.0\.100"\} 1/);
  assert.match(text, /metallb_layer2_responses_sent\{ip="10\.99\.0\.100"\} 1/);
  assert.match(text, /metallb_layer2_gratuitous_sent\{ip="10\.99\.0\.100"\} 2/);
});

// The transport's pure parts: the BPF programs (run by a small interpreter of the same four opcodes the
// kernel runs), their byte encoding, the CAP_NET_RAW wording, and the wrapper's handling of callbacks that throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import fc from 'fast-check';
import { ipv4Number, ipv6Bytes } from '../../../src/ip/index.js';
import {
  ArpOp,
  EtherType,
  arpFrame,
  encodeEthernet,
  encodeIpv6,
  encodeNa,
  encodeNs,
  gratuitousArpFrames,
  solicitedNodeMulticast,
  unsolicitedNaFrame,
} from '../../../src/l2/frames.js';
import { ARP_FILTER, NDP_FILTER, bpfProgram, explainL2Error, nativeTransport, runBpf } from '../../../src/l2/transport.js';
import type { NativeFrameCallback, PacketAddon } from '../../../src/net/native.js';

const MAC = new Uint8Array([2, 0xaa, 0, 0, 0, 1]);
const VIP6 = ipv6Bytes('fd00:99::100');
const SRC6 = ipv6Bytes('fd00:99::2');

test('ARP filter: ARP frames pass whole, anything else is dropped', () => {
  for (const f of gratuitousArpFrames(MAC, ipv4Number('10.0.0.1'))) assert.equal(runBpf(ARP_FILTER, f), f.length);
  assert.equal(runBpf(ARP_FILTER, encodeEthernet(MAC, MAC, EtherType.Ipv4, Buffer.alloc(40))), 0);
  assert.equal(runBpf(ARP_FILTER, Buffer.alloc(10)), 0, 'a runt frame');
});

test('NDP filter: NS and NA pass; other ICMPv6, other next headers and short frames do not', () => {
  const ns = encodeEthernet(MAC, MAC, EtherType.Ipv6, encodeNs({ src: SRC6, dst: solicitedNodeMulticast(VIP6), target: VIP6, linkLayerAddress: MAC }));
  const na = unsolicitedNaFrame(MAC, VIP6, VIP6);
  assert.equal(runBpf(NDP_FILTER, ns), ns.length);
  assert.equal(runBpf(NDP_FILTER, na), na.length);
  const echo = encodeEthernet(MAC, MAC, EtherType.Ipv6, encodeIpv6({ nextHeader: 58, hopLimit: 64, src: SRC6, dst: VIP6, payload: Buffer.from([128, 0, 0, 0, 0, 0, 0, 0]) }));
  assert.equal(runBpf(NDP_FILTER, echo), 0);
  const udp = encodeEthernet(MAC, MAC, EtherType.Ipv6, encodeIpv6({ nextHeader: 17, hopLimit: 64, src: SRC6, dst: VIP6, payload: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]) }));
  assert.equal(runBpf(NDP_FILTER, udp), 0);
  assert.equal(runBpf(NDP_FILTER, ns.subarray(0, 54)), 0, 'ends before the ICMPv6 type');
  assert.equal(runBpf(NDP_FILTER, gratuitousArpFrames(MAC, 1)[0]), 0);
});

test('property: every frame the responder could answer passes its filter', () => {
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
  const ip6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
  fc.assert(
    fc.property(mac, mac, fc.constantFrom(ArpOp.Request, ArpOp.Reply), fc.nat(), fc.nat(), ip6, ip6, fc.boolean(), (dst, src, op, spa, tpa, s6, t6, isNa) => {
      const arp = arpFrame(dst, src, { op, senderMac: src, senderIp: spa >>> 0, targetMac: dst, targetIp: tpa >>> 0 });
      assert.equal(runBpf(ARP_FILTER, arp), arp.length);
      const ip = isNa
        ? encodeNa({ src: s6, dst: t6, target: t6, linkLayerAddress: src, router: false, solicited: false, override: true })
        : encodeNs({ src: s6, dst: t6, target: t6, linkLayerAddress: src });
      const f = encodeEthernet(dst, src, EtherType.Ipv6, ip);
      assert.equal(runBpf(NDP_FILTER, f), f.length);
    }),
    { numRuns: 500 },
  );
});

test('bpfProgram: 8 octets per instruction in host byte order (struct sock_filter)', () => {
  const b = bpfProgram([[0x28, 1, 2, 0x0806]]);
  assert.equal(b.length, 8);
  if (endianness() === 'LE') assert.equal(b.toString('hex'), '2800010206080000');
  else assert.equal(b.toString('hex'), '0028010200000806');
  assert.equal(bpfProgram(NDP_FILTER).length, NDP_FILTER.length * 8);
});

test('explainL2Error: EPERM/EACCES name the missing capability; other errors keep their code', () => {
  const eperm = Object.assign(new Error('socket(AF_PACKET) EPERM: Operation not permitted'), { code: 'EPERM' });
  const e = explainL2Error(eperm, 'opening');
  assert.match(e.message, /^Layer 2 needs CAP_NET_RAW: socket\(AF_PACKET\) EPERM: Operation not permitted \(opening\)/);
  assert.equal((e as NodeJS.ErrnoException).code, 'EPERM');
  const down = explainL2Error(Object.assign(new Error('send ENETDOWN'), { code: 'ENETDOWN' }), 'sending');
  assert.equal(down.message, 'sending: send ENETDOWN');
  assert.equal((down as NodeJS.ErrnoException).code, 'ENETDOWN');
});

/** An addon whose PacketSocket records its arguments and lets the test fire the callbacks. */
function fakeAddon(opts: { throwOnOpen?: Error } = {}) {
  const made: Array<{ args: unknown[]; onFrame: NativeFrameCallback; onError: (e: NodeJS.ErrnoException) => void; sent: Buffer[] }> = [];
  const addon: PacketAddon = {
    PacketSocket: class {
      readonly fd = 7;
      private readonly rec: (typeof made)[number];
      constructor(ifindex: number, protocol: number, filter: Buffer, onFrame: NativeFrameCallback, onError: (e: NodeJS.ErrnoException) => void) {
        if (opts.throwOnOpen) throw opts.throwOnOpen;
        this.rec = { args: [ifindex, protocol, filter.length], onFrame, onError, sent: [] };
        made.push(this.rec);
      }
      send(frame: Buffer) {
        this.rec.sent.push(frame);
        return frame.length;
      }
      addMembership() {}
      dropMembership() {}
      close() {}
    },
  };
  return { addon, made };
}

test('nativeTransport: protocol and filter per kind; a throwing frame handler is reported, not thrown to the addon', () => {
  const { addon, made } = fakeAddon();
  const t = nativeTransport(addon);
  const errors: string[] = [];
  const s = t.open(
    4,
    'ndp',
    () => {
      throw new Error('handler bug');
    },
    (e) => errors.push(e.message),
  );
  t.open(4, 'arp', () => {}, () => {});
  assert.deepEqual(made.map((m) => m.args), [
    [4, EtherType.Ipv6, NDP_FILTER.length * 8],
    [4, EtherType.Arp, ARP_FILTER.length * 8],
  ]);
  assert.doesNotThrow(() => made[0]!.onFrame(Buffer.alloc(60), 4, 0, Buffer.from(MAC)));
  made[0]!.onError(Object.assign(new Error('recvfrom(AF_PACKET) ENETDOWN: Network is down'), { code: 'ENETDOWN' }));
  assert.deepEqual(errors, ['handler bug', 'receiving ndp on ifindex 4: recvfrom(AF_PACKET) ENETDOWN: Network is down']);
  s.send(Buffer.alloc(60));
  assert.equal(made[0]!.sent.length, 1);
});

test('nativeTransport: EPERM at open becomes the CAP_NET_RAW error', () => {
  const { addon } = fakeAddon({ throwOnOpen: Object.assign(new Error('socket(AF_PACKET) EPERM: Operation not permitted'), { code: 'EPERM' }) });
  assert.throws(() => nativeTransport(addon).open(2, 'arp', () => {}, () => {}), /^Error: Layer 2 needs CAP_NET_RAW: socket\(AF_PACKET\) EPERM/);
});

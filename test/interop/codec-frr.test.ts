// Does a real BGP implementation accept what the codec produces? An FRR bgpd (with zebra, so next hops
// resolve) runs in a namespace; a plain TCP pipe in a second namespace (support/bgp-pipe.ts) carries an OPEN
// and UPDATEs built here by the codec's encoder and packer. FRR's own view (`vtysh ... json`) must then show
// the prefixes with exactly the attributes sent, and none after the withdrawals.
//
//   igcx-frr  10.99.0.1/24 fd00:99::1/64   AS 65001, passive towards both peers
//   igcx-peer 10.99.0.2/24 (eBGP, AS 65002, IPv4 + IPv6 unicast)  10.99.0.3/24 (iBGP, AS 65001, IPv4)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import {
  Afi,
  CeaseSubcode,
  MessageType,
  NotificationCode,
  Origin,
  Safi,
  attr,
  capability,
  decodeMessage,
  encodeMessage,
  ipv4Prefixes,
  ipv6Prefixes,
  negotiateContext,
  packAnnouncements,
  packWithdrawals,
  INITIAL_CONTEXT,
  type CodecContext,
  type OpenMessage,
} from '../../src/bgp/index.js';
import { ipv4Number, ipv6Bytes } from '../../src/ip/index.js';
import { interopSkip } from '../helpers/interop.js';
import { NetnsLab, waitFor } from '../../src/lab/netns.js';
import { startFrr } from '../helpers/frr.js';

const PATHSPACE = 'igcx';
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../..');

const EBGP_V4 = Array.from({ length: 10 }, (_, i) => `198.51.100.${i + 1}`);
const IBGP_V4 = Array.from({ length: 3 }, (_, i) => `203.0.113.${i + 1}`);
const V6 = Array.from({ length: 5 }, (_, i) => `2001:db8:99::${i + 1}`);
const V6_LL = Array.from({ length: 3 }, (_, i) => `2001:db8:98::${i + 1}`);
/** The peer's link-local address: EUI-64 of its MAC 02:00:00:99:00:02 (RFC 4291 appendix A). */
const PEER_LL = 'fe80::ff:fe99:2';

function vtysh(cmd: string): string {
  return execFileSync('vtysh', ['-N', PATHSPACE, '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
}
function vtyJson<T = Record<string, unknown>>(cmd: string): T {
  return JSON.parse(vtysh(cmd)) as T;
}

/** One TCP connection to FRR through support/bgp-pipe.ts, speaking whatever the test encodes. */
class Pipe {
  private readonly events: Array<{ event: string; type?: number; hex?: string; message?: string }> = [];
  readonly stderr: string[] = [];
  constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        this.events.push(JSON.parse(l));
      } catch {
        this.stderr.push(l);
      }
    });
    child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
  }
  send(bytes: Uint8Array): void {
    this.child.stdin!.write(`${JSON.stringify({ send: Buffer.from(bytes).toString('hex') })}\n`);
  }
  /** Waits for the first message of `type` after the messages already consumed. */
  async next(type: MessageType, timeoutMs = 20_000): Promise<Uint8Array> {
    return waitFor(
      `a message of type ${MessageType[type]} from FRR (seen: ${this.events.map((e) => e.type ?? e.event).join(',')}; ${this.stderr.join('')})`,
      () => {
        const i = this.events.findIndex((e) => e.event === 'message' && e.type === type);
        if (i < 0) return undefined;
        const [e] = this.events.splice(0, i + 1).slice(-1);
        return new Uint8Array(Buffer.from(e!.hex!, 'hex'));
      },
      { timeoutMs },
    );
  }
  closed(): boolean {
    return this.events.some((e) => e.event === 'closed');
  }
  errors(): string[] {
    return this.events.filter((e) => e.event === 'error').map((e) => e.message ?? '');
  }
}

function ourOpen(asn: number, routerId: string, families: Array<[Afi, Safi]>, hostname: string): OpenMessage {
  return {
    type: MessageType.Open,
    version: 4,
    myAs: asn,
    holdTime: 30,
    bgpIdentifier: ipv4Number(routerId),
    capabilities: [
      ...families.map(([afi, safi]) => capability.multiprotocol(afi, safi)),
      capability.routeRefresh(),
      capability.enhancedRouteRefresh(),
      capability.fourOctetAs(asn),
      capability.fqdn(hostname, 'interop.test'),
    ],
    parameters: [],
  };
}

const community = (hi: number, lo: number): number => ((hi << 16) | lo) >>> 0;

interface FrrPath {
  valid?: boolean;
  bestpath?: { overall?: boolean };
  origin?: string;
  metric?: number;
  locPrf?: number;
  localpref?: number;
  aspath?: { string: string; length?: number };
  community?: { string: string };
  largeCommunity?: { string: string };
  extendedCommunity?: { string: string };
  nexthops?: Array<{ ip: string; afi?: string; scope?: string }>;
  peer?: { peerId?: string };
}

function routeDetail(afi: 'ipv4' | 'ipv6', prefix: string): FrrPath[] {
  const j = vtyJson<{ paths?: FrrPath[] }>(`show bgp ${afi} unicast ${prefix} json`);
  return j.paths ?? [];
}

/** Runs `check` (assertions) for every item; true when none threw. For waitFor: retry until all hold. */
function assertEach<T>(items: readonly T[], check: (item: T) => void): true {
  assert.ok(items.length > 0, 'nothing to check');
  for (const item of items) check(item);
  return true;
}

function routeTable(afi: 'ipv4' | 'ipv6'): Record<string, unknown[]> {
  return vtyJson<{ routes?: Record<string, unknown[]> }>(`show bgp ${afi} unicast json`).routes ?? {};
}

describe('codec → FRR bgpd interop', { skip: interopSkip({ binaries: ['/usr/lib/frr/bgpd', '/usr/lib/frr/zebra', '/usr/bin/vtysh'] }) }, () => {
  const lab = new NetnsLab('igcx');
  let ebgp: Pipe;
  let ibgp: Pipe;
  let ebgpCtx: CodecContext;
  let ibgpCtx: CodecContext;
  let frrOpen: OpenMessage;

  before(async () => {
    lab.pair('frr', 'peer', {
      a: { v4: '10.99.0.1/24', v6: 'fd00:99::1/64', mac: '02:00:00:99:00:01' },
      b: { v4: ['10.99.0.2/24', '10.99.0.3/24'], v6: 'fd00:99::2/64', mac: '02:00:00:99:00:02' },
    });
    await startFrr(
      lab,
      'frr',
      PATHSPACE,
    [
      'hostname igcx-frr',
      'router bgp 65001',
      ' bgp router-id 10.99.0.1',
      ' no bgp ebgp-requires-policy',
      ' neighbor 10.99.0.2 remote-as 65002',
      ' neighbor 10.99.0.2 passive',
      ' neighbor 10.99.0.3 remote-as 65001',
      ' neighbor 10.99.0.3 passive',
      ' address-family ipv6 unicast',
      '  neighbor 10.99.0.2 activate',
      ' exit-address-family',
      '',
    ].join('\n'),
      '65001',
    );

    const startPipe = (local: string): Pipe =>
      new Pipe(
        lab.spawn('peer', process.execPath, [
          '--import',
          'tsx',
          join(here, 'support/bgp-pipe.ts'),
          JSON.stringify({ local, remote: '10.99.0.1', keepaliveMs: 5000 }),
        ], { cwd: repo }),
      );

    // eBGP session: IPv4 and IPv6 unicast.
    ebgp = startPipe('10.99.0.2');
    const ebgpOpen = ourOpen(65002, '10.99.0.2', [[Afi.Ipv4, Safi.Unicast], [Afi.Ipv6, Safi.Unicast]], 'igcx-peer');
    ebgp.send(encodeMessage(ebgpOpen, INITIAL_CONTEXT));
    const theirs = decodeMessage(await ebgp.next(MessageType.Open), INITIAL_CONTEXT);
    assert.equal(theirs.type, MessageType.Open);
    frrOpen = theirs as OpenMessage;
    ebgpCtx = negotiateContext(ebgpOpen, frrOpen);
    await ebgp.next(MessageType.Keepalive);

    // iBGP session: IPv4 unicast only.
    ibgp = startPipe('10.99.0.3');
    const ibgpOpen = ourOpen(65001, '10.99.0.3', [[Afi.Ipv4, Safi.Unicast]], 'igcx-peer-ibgp');
    ibgp.send(encodeMessage(ibgpOpen, INITIAL_CONTEXT));
    const theirs2 = decodeMessage(await ibgp.next(MessageType.Open), INITIAL_CONTEXT) as OpenMessage;
    ibgpCtx = negotiateContext(ibgpOpen, theirs2);
    await ibgp.next(MessageType.Keepalive);
  });

  after(async () => {
    await lab.teardown();
  });

  it('FRR accepts the codec OPEN: both sessions Established, capabilities and hostname seen', async () => {
    const n = await waitFor('both sessions Established', () => {
      const j = vtyJson<Record<string, { bgpState?: string }>>('show bgp neighbors json');
      return j['10.99.0.2']?.bgpState === 'Established' && j['10.99.0.3']?.bgpState === 'Established' ? j : undefined;
    });
    const peer = n['10.99.0.2'] as Record<string, unknown>;
    assert.equal(peer.hostname, 'igcx-peer', 'FQDN capability (hostname) decoded by FRR');
    assert.equal(peer.remoteAs, 65002);
    const caps = peer.neighborCapabilities as {
      '4byteAs'?: string;
      routeRefresh?: string;
      enhancedRouteRefresh?: string;
      multiprotocolExtensions?: Record<string, { advertisedAndReceived?: boolean }>;
      hostName?: { rcvHostName?: string; rcvDomainName?: string };
    };
    assert.equal(caps['4byteAs'], 'advertisedAndReceived');
    assert.equal(caps.multiprotocolExtensions?.ipv4Unicast?.advertisedAndReceived, true);
    assert.equal(caps.multiprotocolExtensions?.ipv6Unicast?.advertisedAndReceived, true);
    assert.match(caps.routeRefresh ?? '', /^advertisedAndReceived/);
    assert.equal(caps.enhancedRouteRefresh, 'advertisedAndReceived');
    assert.deepEqual(caps.hostName && [caps.hostName.rcvHostName, caps.hostName.rcvDomainName], ['igcx-peer', 'interop.test']);
    assert.equal(ebgpCtx.as4, true);
    assert.ok(ebgpCtx.families.some((f) => f.afi === Afi.Ipv6));
    assert.equal((n['10.99.0.3'] as Record<string, unknown>).remoteAs, 65001);
  });

  it('eBGP: IPv4 /32s with ORIGIN, AS_PATH, NEXT_HOP, MED, communities, large and extended communities', async () => {
    const attrs = [
      attr.origin(Origin.Igp),
      attr.asSequence([65002]),
      attr.nextHop(ipv4Number('10.99.0.2')),
      attr.med(42),
      attr.communities([community(65002, 100), community(65002, 200)]),
      attr.largeCommunities([{ globalAdmin: 65002, localData1: 1, localData2: 1 }, { globalAdmin: 65002, localData1: 7, localData2: 8 }]),
      // RFC 4360 §4 route target 65002:42 (type 0x00 two-octet AS specific, subtype 0x02)
      attr.extendedCommunities(new Uint8Array([0x00, 0x02, 0xfd, 0xea, 0x00, 0x00, 0x00, 0x2a])),
    ];
    const packed = packAnnouncements(ipv4Prefixes(EBGP_V4.map(ipv4Number)), attrs, ebgpCtx);
    assert.equal(packed.messages.length, 1, 'ten /32s fit one UPDATE');
    ebgp.send(packed.bytes);
    await waitFor('all eBGP /32s in FRR', () => EBGP_V4.every((p) => `${p}/32` in routeTable('ipv4')));
    // A prefix shows in the table before bgpd's work queue has run best-path selection and next-hop
    // validation: wait for what is asserted (waitFor retries while the check throws, and reports the last
    // assertion on timeout).
    await waitFor('every eBGP /32 valid and best, with its attributes', () => assertEach(EBGP_V4, (p) => {
      const [path, ...more] = routeDetail('ipv4', `${p}/32`);
      assert.equal(more.length, 0, `${p}: one path`);
      assert.ok(path?.valid, `${p} valid`);
      assert.ok(path?.bestpath?.overall, `${p} best`);
      assert.equal(path?.origin, 'IGP');
      assert.equal(path?.aspath?.string, '65002');
      assert.equal(path?.metric, 42);
      assert.equal(path?.community?.string, '65002:100 65002:200');
      assert.equal(path?.largeCommunity?.string, '65002:1:1 65002:7:8');
      assert.equal(path?.extendedCommunity?.string, 'RT:65002:42');
      assert.equal(path?.nexthops?.[0]?.ip, '10.99.0.2');
    }));
  });

  it('iBGP: IPv4 /32s with LOCAL_PREF and an empty AS_PATH', async () => {
    const attrs = [
      attr.origin(Origin.Igp),
      attr.asSequence([]),
      attr.nextHop(ipv4Number('10.99.0.3')),
      attr.localPref(300),
      attr.communities([community(65001, 777)]),
    ];
    const packed = packAnnouncements(ipv4Prefixes(IBGP_V4.map(ipv4Number)), attrs, ibgpCtx);
    ibgp.send(packed.bytes);
    await waitFor('all iBGP /32s in FRR', () => IBGP_V4.every((p) => `${p}/32` in routeTable('ipv4')));
    await waitFor('every iBGP /32 valid and best, with its attributes', () => assertEach(IBGP_V4, (p) => {
      const [path] = routeDetail('ipv4', `${p}/32`);
      assert.ok(path?.valid && path.bestpath?.overall, `${p} valid and best`);
      assert.equal(path?.localpref ?? path?.locPrf, 300);
      assert.equal(path?.aspath?.length, 0, 'empty AS_PATH (FRR shows it as "Local")');
      assert.equal(path?.community?.string, '65001:777');
      assert.equal(path?.nexthops?.[0]?.ip, '10.99.0.3');
      assert.equal(path?.peer?.peerId, '10.99.0.3');
    }));
  });

  it('eBGP: IPv6 /128s in MP_REACH_NLRI with a global next hop', async () => {
    const addrs = new Uint8Array(16 * V6.length);
    V6.forEach((a, i) => addrs.set(ipv6Bytes(a), 16 * i));
    const attrs = [attr.origin(Origin.Igp), attr.asSequence([65002]), attr.med(7), attr.communities([community(65002, 6)])];
    const packed = packAnnouncements(ipv6Prefixes(addrs), attrs, ebgpCtx, { nextHop: ipv6Bytes('fd00:99::2') });
    assert.equal(packed.messages.length, 1);
    ebgp.send(packed.bytes);
    await waitFor('all IPv6 /128s in FRR', () => V6.every((p) => `${p}/128` in routeTable('ipv6')));
    await waitFor('every IPv6 /128 valid and best, with its attributes', () => assertEach(V6, (p) => {
      const [path] = routeDetail('ipv6', `${p}/128`);
      assert.ok(path?.valid && path.bestpath?.overall, `${p} valid and best`);
      assert.equal(path?.aspath?.string, '65002');
      assert.equal(path?.metric, 7);
      assert.equal(path?.community?.string, '65002:6');
      const global = path?.nexthops?.find((n) => n.scope === 'global' || n.ip.startsWith('fd00'));
      assert.equal(global?.ip, 'fd00:99::2');
    }));
  });

  it('eBGP: IPv6 /128s in MP_REACH_NLRI with global and link-local next hops (RFC 2545 §3)', async () => {
    const addrs = new Uint8Array(16 * V6_LL.length);
    V6_LL.forEach((a, i) => addrs.set(ipv6Bytes(a), 16 * i));
    const nextHop = new Uint8Array(32);
    nextHop.set(ipv6Bytes('fd00:99::2'), 0);
    nextHop.set(ipv6Bytes(PEER_LL), 16);
    const attrs = [attr.origin(Origin.Igp), attr.asSequence([65002])];
    ebgp.send(packAnnouncements(ipv6Prefixes(addrs), attrs, ebgpCtx, { nextHop }).bytes);
    await waitFor('the /128s with a link-local next hop in FRR', () => V6_LL.every((p) => `${p}/128` in routeTable('ipv6')));
    // The link-local next hop needs FRR's next-hop tracking to resolve the interface first: best-path comes
    // noticeably later than the prefix itself (issue 8 item 10: this was the flaky assertion).
    await waitFor('every /128 with a link-local next hop valid and best', () => assertEach(V6_LL, (p) => {
      const [path] = routeDetail('ipv6', `${p}/128`);
      assert.ok(path?.valid && path.bestpath?.overall, `${p} valid and best`);
      const hops = (path?.nexthops ?? []).map((n) => n.ip).sort();
      assert.deepEqual(hops, ['fd00:99::2', PEER_LL].sort());
    }));
  });

  it('withdrawals (IPv4 withdrawn routes, IPv6 MP_UNREACH_NLRI) remove every prefix', async () => {
    ebgp.send(packWithdrawals(ipv4Prefixes(EBGP_V4.map(ipv4Number)), ebgpCtx).bytes);
    ibgp.send(packWithdrawals(ipv4Prefixes(IBGP_V4.map(ipv4Number)), ibgpCtx).bytes);
    const all6 = [...V6, ...V6_LL];
    const addrs = new Uint8Array(16 * all6.length);
    all6.forEach((a, i) => addrs.set(ipv6Bytes(a), 16 * i));
    ebgp.send(packWithdrawals(ipv6Prefixes(addrs), ebgpCtx).bytes);
    await waitFor('IPv4 table empty of our prefixes', () => {
      const t = routeTable('ipv4');
      return [...EBGP_V4, ...IBGP_V4].every((p) => !(`${p}/32` in t));
    });
    await waitFor('IPv6 table empty of our prefixes', () => {
      const t = routeTable('ipv6');
      return [...V6, ...V6_LL].every((p) => !(`${p}/128` in t));
    });
    // The sessions survived all of it: FRR found nothing to object to (no NOTIFICATION, still Established).
    const j = vtyJson<Record<string, { bgpState?: string }>>('show bgp neighbors json');
    assert.equal(j['10.99.0.2']?.bgpState, 'Established');
    assert.equal(j['10.99.0.3']?.bgpState, 'Established');
    assert.deepEqual([...ebgp.errors(), ...ibgp.errors()], []);
  });

  it('a codec NOTIFICATION (Cease / Administrative Shutdown with an RFC 9003 message) reaches FRR', async () => {
    const text = 'igcx: codec interop done';
    const data = new Uint8Array([text.length, ...Buffer.from(text, 'utf8')]);
    ebgp.send(
      encodeMessage({ type: MessageType.Notification, code: NotificationCode.Cease, subcode: CeaseSubcode.AdministrativeShutdown, data }, ebgpCtx),
    );
    const n = await waitFor('FRR to record the NOTIFICATION', () => {
      const j = vtyJson<Record<string, Record<string, unknown>>>('show bgp neighbors 10.99.0.2 json');
      const p = j['10.99.0.2'];
      return p && p.bgpState !== 'Established' ? p : undefined;
    });
    assert.match(JSON.stringify(n), /Administrative Shutdown|Cease/);
    assert.match(JSON.stringify(n), new RegExp(text));
    await waitFor('the eBGP pipe to close', () => ebgp.closed());
  });
});

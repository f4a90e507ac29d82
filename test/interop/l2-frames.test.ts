// Layer 2 frames on a real segment: two node namespaces and a client namespace on one Linux bridge. Each node
// has the VIPs on its loopback with arp_ignore=1 / arp_announce=2 (IPv4) and as a /128 (IPv6, which the
// kernel answers NSs for only on the interface that holds it), so the only thing that can answer for the VIPs
// on the wire is ingot's engine (test/interop/support/l2/node.ts) over the real addon. The client uses the
// real tools: arping, ndisc6, tcpdump, and its kernel's own neighbour table.
//
// Run under the shared lock: flock /tmp/ingot-netns.lock node --import tsx --test test/interop/l2-frames.test.ts
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { ipv4Number, ipv6Bytes } from '../../src/ip/index.js';
import {
  ArpOp,
  BROADCAST_MAC,
  EtherType,
  ZERO_MAC,
  arpFrame,
  encodeEthernet,
  encodeNs,
  parseMac,
} from '../../src/l2/frames.js';
import type { Layer2Status } from '../../src/l2/engine.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { interopSkip } from '../helpers/interop.js';
import { NetnsLab, waitFor } from '../../src/lab/netns.js';

const SUPPORT = join(REPO_ROOT, 'test/interop/support/l2');
const VIP4 = '10.97.0.100';
const VIP6 = 'fd00:97::100';
const MAC_A = '02:aa:00:00:00:0a';
const MAC_B = '02:aa:00:00:00:0b';
const MAC_C = '02:cc:00:00:00:0c';
const IF = 'eth0';

let lab: NetnsLab;

interface Engine {
  child: ChildProcess;
  lines: string[];
  send(cmd: object): void;
  next(pred: (o: Record<string, unknown>) => boolean, what: string, ms?: number): Promise<Record<string, unknown>>;
  status(): Promise<Layer2Status>;
}

function startEngine(ns: string): Engine {
  const child = lab.spawn(ns, process.execPath, ['--import', 'tsx', join(SUPPORT, 'node.ts'), '{}'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  let seen = 0;
  const e: Engine = {
    child,
    lines,
    send: (cmd) => void child.stdin!.write(`${JSON.stringify(cmd)}\n`),
    async next(pred, what, ms = 20_000) {
      return waitFor(
        `${ns}: ${what} (stdout: ${lines.slice(-5).join(' | ')}; stderr: ${stderr.slice(-5).join(' | ')})`,
        () => {
          if (child.exitCode !== null) throw new Error(`engine in ${ns} exited ${child.exitCode}: ${stderr.join(' | ')}`);
          for (; seen < lines.length; seen++) {
            const o = JSON.parse(lines[seen]!) as Record<string, unknown>;
            if (pred(o)) {
              seen++;
              return o;
            }
          }
          return undefined;
        },
        { timeoutMs: ms, intervalMs: 20 },
      );
    },
    async status() {
      e.send({ status: true });
      return (await e.next((o) => 'status' in o, 'status')).status as Layer2Status;
    },
  };
  return e;
}

async function own(e: Engine, ips: string[]): Promise<void> {
  e.send({ own: ips });
  await e.next((o) => 'owned' in o, `own ${ips.join(',')}`);
}

function client(cmd: string, args: string[], timeoutMs = 15_000): { ok: boolean; out: string } {
  try {
    return { ok: true, out: lab.exec('client', cmd, args, { timeoutMs }) };
  } catch (e) {
    return { ok: false, out: (e as Error).message };
  }
}

/** The client's neighbour entry for `ip`, e.g. "10.97.0.100 dev eth0 lladdr 02:aa:00:00:00:0a REACHABLE". */
function neigh(ip: string): string {
  return lab.exec('client', 'ip', [ip.includes(':') ? '-6' : '-4', 'neigh', 'show', ip, 'dev', IF]).trim();
}

/** Makes the client's kernel resolve `ip` (one UDP datagram to the discard port: the kernel must ARP/NS first). */
function poke(ip: string): void {
  const fam = ip.includes(':') ? 'udp6' : 'udp4';
  lab.exec('client', process.execPath, ['-e', `const s=require('dgram').createSocket('${fam}');s.send('x',9,'${ip}',()=>s.close())`]);
}

interface Capture {
  lines: string[];
  stop(): Promise<void>;
}

async function tcpdump(): Promise<Capture> {
  const child = lab.spawn('client', 'tcpdump', ['-i', IF, '-n', '-e', '-l', 'arp or icmp6'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let listening = false;
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => {
    if (l.includes('listening on')) listening = true;
  });
  await waitFor('tcpdump to listen', () => listening, { timeoutMs: 10_000, intervalMs: 20 });
  return {
    lines,
    async stop() {
      // Let the last frames reach tcpdump's line buffer before it goes.
      await new Promise((r) => setTimeout(r, 300));
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await done;
    },
  };
}

describe('Layer 2 frames between network namespaces (ARP, NDP, gratuitous takeover, malformed input)', { skip: interopSkip({ binaries: ['arping', 'ndisc6', 'tcpdump', 'setpriv'] }) }, () => {
  let a: Engine;
  let b: Engine;

  before(async () => {
    lab = new NetnsLab('il2f');
    lab.bridge('br', [
      { ns: 'nodea', ifname: IF, v4: '10.97.0.1/24', v6: 'fd00:97::1/64', mac: MAC_A },
      { ns: 'nodeb', ifname: IF, v4: '10.97.0.3/24', v6: 'fd00:97::3/64', mac: MAC_B },
      { ns: 'client', ifname: IF, v4: '10.97.0.2/24', v6: 'fd00:97::2/64', mac: MAC_C },
    ]);
    // Node A is multi-homed: eth1 to another segment (namespace "far"), and a bridge brx with a port vx0.
    lab.pair('nodea', 'far', { a: { v4: '10.96.0.1/24' }, b: { v4: '10.96.0.2/24' } }, 'eth1');
    lab.exec('nodea', 'ip', ['link', 'add', 'brx', 'type', 'bridge']);
    lab.exec('nodea', 'ip', ['link', 'add', 'vx0', 'type', 'veth', 'peer', 'name', 'vx1']);
    lab.exec('nodea', 'ip', ['link', 'set', 'vx0', 'master', 'brx']);
    lab.exec('nodea', 'ip', ['addr', 'add', '10.95.0.1/24', 'dev', 'vx0']);
    for (const l of ['brx', 'vx0', 'vx1']) lab.exec('nodea', 'ip', ['link', 'set', l, 'up']);
    for (const n of ['nodea', 'nodeb']) {
      // arp_ignore=1: answer ARP only for addresses on the receiving interface; arp_announce=2: never use
      // the VIP as an ARP sender address. With the VIP on lo, the kernel stays silent about it on eth0.
      lab.exec(n, 'sysctl', ['-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']);
      lab.exec(n, 'ip', ['addr', 'add', `${VIP4}/32`, 'dev', 'lo']);
      lab.exec(n, 'ip', ['-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'lo', 'nodad']);
    }
    // Link-local addresses go through DAD (about 1 s); wait until none is tentative so sources are stable.
    for (const n of ['nodea', 'nodeb', 'client', 'far']) {
      await waitFor(`${n}: no tentative IPv6 address`, () => lab.exec(n, 'ip', ['-6', 'addr', 'show', 'tentative']).trim() === '', { timeoutMs: 10_000, intervalMs: 100 });
    }
    a = startEngine('nodea');
    b = startEngine('nodeb');
    await a.next((o) => o.ready === true, 'engine ready');
    await b.next((o) => o.ready === true, 'engine ready');
  });

  after(async () => {
    await lab?.teardown();
  });

  it('with no engine owning the VIPs nobody answers for them (the kernel is silent)', () => {
    const arp = client('arping', ['-c', '2', '-w', '3', '-I', IF, VIP4]);
    assert.equal(arp.ok, false, `arping got an answer: ${arp.out}`);
    const nd = client('ndisc6', ['-r', '2', '-w', '500', VIP6, IF]);
    assert.equal(nd.ok, false, `ndisc6 got an answer: ${nd.out}`);
  });

  it('ARP: arping gets replies from the owner, and the client kernel resolves the VIP to its MAC', async () => {
    await own(a, [VIP4, VIP6]);
    const r = client('arping', ['-c', '3', '-w', '5', '-I', IF, VIP4]);
    assert.ok(r.ok, r.out);
    const replies = r.out.split('\n').filter((l) => l.includes(`from ${MAC_A} (${VIP4})`));
    assert.equal(replies.length, 3, r.out);
    poke(VIP4);
    const entry = await waitFor('client neighbour entry for the IPv4 VIP', () => {
      const n = neigh(VIP4);
      return /REACHABLE|STALE|DELAY/.test(n) ? n : undefined;
    });
    assert.match(entry, new RegExp(`lladdr ${MAC_A}`));
    const st = await a.status();
    assert.ok(st.ips[VIP4]!.requestsReceived >= 4, JSON.stringify(st.ips[VIP4]));
    assert.equal(st.ips[VIP4]!.responsesSent, st.ips[VIP4]!.requestsReceived);
    assert.deepEqual(st.ips[VIP4]!.interfaces, [IF]);
    assert.equal(st.ips[VIP4]!.rule, 'subnet');
  });

  it('multi-homed node: answers only on the interface whose subnet holds the VIP (MetalLB answers on all)', () => {
    let far: { ok: boolean; out: string };
    try {
      far = { ok: true, out: lab.exec('far', 'arping', ['-c', '2', '-w', '3', '-I', 'eth1', VIP4]) };
    } catch (e) {
      far = { ok: false, out: (e as Error).message };
    }
    assert.equal(far.ok, false, `A answered on eth1, whose subnet does not hold the VIP: ${far.out}`);
    // Control: the link itself works (A's kernel answers for its own eth1 address).
    assert.match(lab.exec('far', 'arping', ['-c', '1', '-w', '3', '-I', 'eth1', '10.96.0.1']), /bytes from/);
    // Selection as the engine sees it from the real /sys: the bridge port is out, loopback is out; a VIP in
    // no subnet falls back to every eligible interface.
    const facts = JSON.parse(lab.exec('nodea', process.execPath, ['--import', 'tsx', join(SUPPORT, 'facts.ts'), VIP4, '203.0.113.10'], { timeoutMs: 30_000 })) as {
      eligibility: Record<string, string>;
      choices: Record<string, { interfaces: string[]; rule: string }>;
    };
    assert.equal(facts.eligibility.vx0, 'enslaved');
    assert.equal(facts.eligibility.lo, 'loopback');
    assert.equal(facts.eligibility.eth0, 'ok');
    assert.equal(facts.eligibility.eth1, 'ok');
    assert.deepEqual(facts.choices[VIP4], { interfaces: [IF], rule: 'subnet' });
    const fb = facts.choices['203.0.113.10']!;
    assert.equal(fb.rule, 'fallback');
    assert.ok(fb.interfaces.includes('eth0') && fb.interfaces.includes('eth1'), fb.interfaces.join());
    assert.ok(!fb.interfaces.includes('vx0') && !fb.interfaces.includes('lo'), fb.interfaces.join());
  });

  it('NDP: ndisc6 gets our NA (only ours), and the client kernel resolves the IPv6 VIP', async () => {
    const cap = await tcpdump();
    const r = client('ndisc6', ['-r', '3', '-w', '1000', VIP6, IF]);
    await cap.stop();
    assert.ok(r.ok, r.out);
    assert.match(r.out, new RegExp(`Target link-layer address: ${MAC_A}`, 'i'));
    const nas = cap.lines.filter((l) => l.includes('neighbor advertisement') && l.includes(`tgt is ${VIP6}`));
    assert.ok(nas.length >= 1, cap.lines.join('\n'));
    // Every NA for the VIP is the engine's: from A's MAC to the solicitor, one per NS answered (the kernel
    // stays silent, as the first test showed).
    for (const l of nas) assert.match(l, new RegExp(`^\\S+ ${MAC_A} > ${MAC_C}, .*${VIP6} > \\S+: ICMP6, neighbor advertisement`), l);
    const nss = cap.lines.filter((l) => l.includes('neighbor solicitation') && l.includes(`who has ${VIP6}`));
    assert.equal(nas.length, nss.length, cap.lines.join('\n'));
    // The solicited-node group is joined at the IP level, so MLD-snooping switches would forward NSs to A.
    assert.match(lab.exec('nodea', 'ip', ['-6', 'maddr', 'show', 'dev', IF]), /ff02::1:ff00:100/);
    poke(VIP6);
    const entry = await waitFor('client neighbour entry for the IPv6 VIP', () => {
      const n = neigh(VIP6);
      return /REACHABLE|STALE|DELAY/.test(n) ? n : undefined;
    });
    assert.match(entry, new RegExp(`lladdr ${MAC_A}`));
  });

  it('takeover: the new owner’s gratuitous ARP and unsolicited NA move the client’s existing entries at once', async () => {
    // Linux updates an *existing* entry from a gratuitous ARP request (and from an NA with Override) even
    // with arp_accept=0; it would not create one. The entries exist from the previous tests.
    assert.equal(lab.exec('client', 'sysctl', ['-n', 'net.ipv4.conf.eth0.arp_accept']).trim(), '0');
    assert.match(neigh(VIP4), new RegExp(MAC_A));
    assert.match(neigh(VIP6), new RegExp(MAC_A));
    const cap = await tcpdump();
    await own(a, []);
    const t0 = Date.now();
    await own(b, [VIP4, VIP6]);
    await waitFor('client IPv4 entry on B', () => neigh(VIP4).includes(MAC_B), { timeoutMs: 2000, intervalMs: 10 });
    await waitFor('client IPv6 entry on B', () => neigh(VIP6).includes(MAC_B), { timeoutMs: 2000, intervalMs: 10 });
    const moved = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 400)); // the rest of the 200 ms burst
    await cap.stop();
    const from = (l: string) => l.startsWith(`${l.split(' ')[0]} ${MAC_B} > `);
    const garpReq = cap.lines.filter((l) => from(l) && l.includes(`Request who-has ${VIP4} tell ${VIP4}`));
    const garpRep = cap.lines.filter((l) => from(l) && l.includes(`Reply ${VIP4} is-at ${MAC_B}`) && l.includes('> ff:ff:ff:ff:ff:ff'));
    const una = cap.lines.filter((l) => from(l) && l.includes('> 33:33:00:00:00:01') && l.includes(`> ff02::1: ICMP6, neighbor advertisement, tgt is ${VIP6}`));
    assert.deepEqual([garpReq.length, garpRep.length, una.length], [3, 3, 3], cap.lines.join('\n'));
    assert.ok(moved < 1500, `entries moved after ${moved} ms`);
    const st = await b.status();
    assert.equal(st.ips[VIP4]!.gratuitousSent, 6);
    assert.equal(st.ips[VIP6]!.gratuitousSent, 3);
  });

  it('a flap back and forth well inside Linux’s 1 s ARP locktime still moves the client each time', async () => {
    // arp_process() overrides the locktime for a gratuitous ARP request (is_garp), and an NA with Override is
    // never locked, so a short burst is enough even when ownership moves twice within a second.
    for (const [from, to, mac] of [[b, a, MAC_A], [a, b, MAC_B]] as const) {
      const t0 = Date.now();
      await own(from, []);
      await own(to, [VIP4, VIP6]);
      await waitFor(`client IPv4 entry on ${mac}`, () => neigh(VIP4).includes(mac), { timeoutMs: 900, intervalMs: 10 });
      await waitFor(`client IPv6 entry on ${mac}`, () => neigh(VIP6).includes(mac), { timeoutMs: 900, intervalMs: 10 });
      assert.ok(Date.now() - t0 < 1000);
    }
  });

  it('malformed frames injected from the client are counted by reason; the engine keeps answering', async () => {
    const macB = parseMac(MAC_B)!;
    const macC = parseMac(MAC_C)!;
    const badOp = arpFrame(BROADCAST_MAC, macC, { op: ArpOp.Request, senderMac: macC, senderIp: ipv4Number('10.97.0.2'), targetMac: ZERO_MAC, targetIp: ipv4Number(VIP4) });
    badOp.writeUInt16BE(9, 14 + 6);
    const notEthernet = Buffer.from(badOp);
    notEthernet.writeUInt16BE(ArpOp.Request, 14 + 6);
    notEthernet.writeUInt16BE(6, 14); // IEEE 802 hardware type
    const ns = (mutate: (ip: Buffer) => void) => {
      const ip = encodeNs({ src: ipv6Bytes('fd00:97::2'), dst: ipv6Bytes(VIP6), target: ipv6Bytes(VIP6), linkLayerAddress: macC });
      mutate(ip);
      return encodeEthernet(macB, macC, EtherType.Ipv6, ip);
    };
    const hop64 = ns((ip) => void (ip[7] = 64));
    const badSum = ns((ip) => void (ip[40 + 2] = ip[40 + 2]! ^ 0xff));
    const r = client(process.execPath, ['--import', 'tsx', join(SUPPORT, 'inject.ts'), IF, ...[badOp, notEthernet, hop64, badSum].map((f) => f.toString('hex'))]);
    assert.ok(r.ok, r.out);
    const st = await waitFor('malformed counters on B', async () => {
      const s = await b.status();
      return Object.keys(s.counters.malformed).length >= 4 ? s : undefined;
    }, { timeoutMs: 5000, intervalMs: 100 });
    assert.deepEqual(st.counters.malformed, { 'arp-bad-op': 1, 'arp-not-ethernet-ipv4': 1, 'nd-bad-hop-limit': 1, 'icmpv6-bad-checksum': 1 });
    assert.equal(b.child.exitCode, null, 'engine still running');
    const again = client('arping', ['-c', '1', '-w', '3', '-I', IF, VIP4]);
    assert.ok(again.ok && again.out.includes(`from ${MAC_B}`), again.out);
  });

  it('a second node claiming an owned VIP is reported as a conflict (the split-brain guard input)', async () => {
    await own(a, [VIP4]);
    const c = await b.next((o) => 'conflict' in o, 'conflict report', 5000);
    assert.deepEqual(c.conflict, { ip: VIP4, mac: MAC_A, iface: IF });
    await own(a, []);
  });

  it('without CAP_NET_RAW the transport says so', () => {
    const r = client('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', process.execPath, '--import', 'tsx', join(SUPPORT, 'inject.ts'), IF]);
    assert.equal(r.ok, false);
    assert.match(r.out, /Layer 2 needs CAP_NET_RAW: socket\(AF_PACKET\) EPERM/);
  });

  it('stop closes the sockets and the engine process exits on its own', async () => {
    for (const e of [a, b]) {
      const exited = new Promise<number | null>((r) => e.child.once('exit', (code) => r(code)));
      e.send({ stop: true });
      assert.equal(await exited, 0);
    }
  });
});

// Sanity for whoever reads a failure: the lab must not leave namespaces behind.
after(() => {
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('il2f-'));
  assert.deepEqual(left, [], 'namespaces left behind');
});

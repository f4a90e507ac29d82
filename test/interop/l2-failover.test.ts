// Layer 2 end to end: three node namespaces and a client namespace on one bridge, a real `ingot speaker` per
// node in standalone mode (a layer2 pool, a dual-stack Service with endpoints on every node, a shared key
// file). Each node has the VIPs on its loopback with arp_ignore=1 / arp_announce=2 (IPv4) and as a /128
// (IPv6), and an HTTP server on them answering its node name, so only ingot makes the VIPs reachable and
// every answer names the node that served it.
//
// Checked: the client's arping / ndisc6 / neighbour table see the owner's MAC and curl reaches the owner;
// failover after kill -9 of the owner's speaker and after cutting the owner's link (nftables netdev hooks drop
// everything in and out of its eth0, below the packet sockets), 20 trials each, timed from the fault to the first request served by the new owner
// (a prober in the client namespace starts one HTTP request every 20 ms, each with its own TCP connection);
// after every convergence no VIP is answered by two MACs (tcpdump in the client namespace for the whole
// suite); a forged liveness packet (wrong key) changes nothing; a speaker without CAP_NET_RAW keeps running
// and says why in /status.
//
// Run under the shared lock: flock /tmp/ingot-netns.lock node --import tsx --test test/interop/l2-failover.test.ts
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { encodePacket } from '../../src/l2/wire.js';
import { NetnsLab, waitFor } from '../../src/lab/netns.js';
import { clusterObjects } from '../../src/lab/topology.js';
import { INGOT_BIN, REPO_ROOT } from '../helpers/cli.js';
import { interopSkip } from '../helpers/interop.js';

const VIP4 = '10.98.0.100';
const VIP6 = 'fd00:98::100';
const IF = 'eth0';
const NODES = ['n1', 'n2', 'n3'] as const;
type NodeName = (typeof NODES)[number];
const ADDR: Record<NodeName, { v4: string; v6: string; mac: string }> = {
  n1: { v4: '10.98.0.11', v6: 'fd00:98::11', mac: '02:98:00:00:00:11' },
  n2: { v4: '10.98.0.12', v6: 'fd00:98::12', mac: '02:98:00:00:00:12' },
  n3: { v4: '10.98.0.13', v6: 'fd00:98::13', mac: '02:98:00:00:00:13' },
};
const CLIENT = { v4: '10.98.0.2', v6: 'fd00:98::2', mac: '02:98:00:00:00:c2' };
const MAC_TO_NODE = new Map<string, NodeName>(NODES.map((n) => [ADDR[n].mac, n]));
const TRIALS = Number(process.env.L2_FAILOVER_TRIALS ?? 20);
const KEY = 'l2-failover-test-key-0123456789abcdef';

const CONFIG = `address-pools:
- name: l2
  protocol: layer2
  addresses:
  - ${VIP4}/32
  - ${VIP6}/128
`;

// The cut: netdev ingress and egress hooks with policy drop. Ingress runs before the kernel hands ARP/IPv6
// frames to protocol-bound packet sockets, egress before the driver: nothing of ingot's gets in or out.
const CUT = `table netdev il2xcut {
  chain in { type filter hook ingress device ${IF} priority 0; policy drop; }
  chain out { type filter hook egress device ${IF} priority 0; policy drop; }
}
`;

let lab: NetnsLab;
let dir: string;
const speakers = new Map<NodeName, ChildProcess>();

function startSpeaker(n: NodeName): ChildProcess {
  const args = [
    'speaker',
    '--node-name', n,
    '--config', join(dir, 'config.yaml'),
    '--cluster', join(dir, 'cluster.yaml'),
    '--metrics-addr', '127.0.0.1:7472',
    '--bgp-listen', 'off',
    '--ml-secret-key-file', join(dir, 'key'),
    '--log-level', 'info',
  ];
  const c = lab.spawn(n, INGOT_BIN, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const err: string[] = [];
  createInterface({ input: c.stderr! }).on('line', (l) => err.push(l));
  c.once('exit', (code, sig) => {
    if (sig !== 'SIGKILL' && sig !== 'SIGTERM' && code !== 0) process.stderr.write(`speaker ${n} exited ${code ?? sig}: ${err.slice(-5).join(' | ')}\n`);
  });
  speakers.set(n, c);
  return c;
}

async function killSpeaker(n: NodeName): Promise<void> {
  const c = speakers.get(n);
  if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await gone;
}

interface L2Status {
  ready: boolean;
  ips: { ip: string; owner: string | null; eligible: string[] }[];
  members: { name: string; status: string }[];
}

function status(n: NodeName): L2Status | null {
  const r = spawnSync('ip', ['netns', 'exec', lab.ns(n), 'curl', '-s', '-m', '2', 'http://127.0.0.1:7472/status'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return null;
  try {
    return (JSON.parse(r.stdout) as { layer2: L2Status }).layer2;
  } catch {
    return null;
  }
}

function metrics(n: NodeName): string {
  return lab.exec(n, 'curl', ['-s', '-m', '2', 'http://127.0.0.1:7472/metrics']);
}

/** Every running speaker reports the same owner for VIP4 and hears every running speaker. */
async function converged(running: readonly NodeName[], timeoutMs = 15_000): Promise<NodeName> {
  return waitFor(
    `speakers ${running.join(',')} to agree on the owner`,
    () => {
      let owner: string | null | undefined;
      for (const n of running) {
        const s = status(n);
        if (s === null || !s.ready) return undefined;
        const alive = s.members.filter((m) => m.status === 'alive' || m.status === 'self').map((m) => m.name);
        if (!running.every((r) => alive.includes(r))) return undefined;
        const o = s.ips.find((i) => i.ip === VIP4)?.owner;
        if (o === undefined || o === null) return undefined;
        if (owner !== undefined && owner !== o) return undefined;
        owner = o;
      }
      return owner as NodeName;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

function neigh(ip: string): string {
  return lab.exec('client', 'ip', [ip.includes(':') ? '-6' : '-4', 'neigh', 'show', ip, 'dev', IF]).trim();
}

function curl(ip: string): string {
  const url = ip.includes(':') ? `http://[${ip}]/` : `http://${ip}/`;
  return lab.exec('client', 'curl', ['-s', '-g', '-m', '2', url]).trim();
}

// ---- the prober: one HTTP request every 20 ms per family, each on its own connection -------------------

interface Probe {
  t: number;
  fam: 4 | 6;
  who: string | null;
}

const PROBER = `
const http = require('node:http');
const one = (host, fam) => {
  const req = http.get({ host, port: 80, path: '/', agent: false, timeout: 400, family: fam }, (res) => {
    let b = '';
    res.on('data', (d) => (b += d));
    res.on('end', () => process.stdout.write(JSON.stringify({ t: Date.now(), fam, who: b.trim() }) + '\\n'));
  });
  req.on('timeout', () => req.destroy());
  req.on('error', () => {});
};
setInterval(() => { one('${VIP4}', 4); one('${VIP6}', 6); }, 20);
`;

let probes: Probe[] = [];

function startProber(): ChildProcess {
  const c = lab.spawn('client', process.execPath, ['-e', PROBER], { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: c.stdout! }).on('line', (l) => {
    try {
      probes.push(JSON.parse(l) as Probe);
    } catch {
      /* partial line at exit */
    }
  });
  return c;
}

/** Time from `t0` to the first answer from a node other than `old`, for each family (waits up to 5 s). */
async function failoverTime(t0: number, old: NodeName): Promise<{ v4: number; v6: number; to4: string; to6: string }> {
  const first = (fam: 4 | 6) => probes.find((p) => p.fam === fam && p.t >= t0 && p.who !== null && p.who !== old);
  const [a, b] = await waitFor(`an answer from a node other than ${old} on both families`, () => {
    const a4 = first(4);
    const a6 = first(6);
    return a4 !== undefined && a6 !== undefined ? ([a4, a6] as const) : undefined;
  }, { timeoutMs: 5000, intervalMs: 10 });
  return { v4: a.t - t0, v6: b.t - t0, to4: a.who!, to6: b.who! };
}

// ---- tcpdump in the client namespace for the whole suite -------------------------------------------------

interface Claim {
  t: number;
  ip: string;
  mac: string;
}
const claims: Claim[] = [];
let tcpdump: ChildProcess;

/** ARP replies and gratuitous requests (sender IP = VIP), and NAs for a VIP: who claimed which VIP when. */
function parseClaim(line: string): Claim | null {
  const m = /^(\d+\.\d+) ([0-9a-f:]{17}) > [0-9a-f:]{17}, (.*)$/.exec(line);
  if (m === null) return null;
  const t = Math.round(Number(m[1]) * 1000);
  const mac = m[2]!;
  const rest = m[3]!;
  const reply = /Reply (\S+) is-at/.exec(rest);
  if (reply !== null) return { t, ip: reply[1]!, mac };
  const garp = /Request who-has (\S+) tell (\S+),/.exec(rest);
  if (garp !== null && garp[1] === garp[2]) return { t, ip: garp[1]!, mac };
  const na = /neighbor advertisement, tgt is (\S+),/.exec(rest);
  if (na !== null) return { t, ip: na[1]!, mac };
  return null;
}

/** Quiet periods (after convergence, before the next fault) that the duplicate check covers. */
const quiet: { from: number; to: number; owner: NodeName }[] = [];
let quietFrom: { t: number; owner: NodeName } | null = null;

/** After convergence on `owner`: the client's tools see its MAC (and the capture gets answers to check). */
async function checkOwnerSeen(owner: NodeName): Promise<void> {
  const mac = ADDR[owner].mac;
  await waitFor(`client neighbour entries on ${owner}`, () => neigh(VIP4).includes(mac) && neigh(VIP6).includes(mac), { timeoutMs: 3000, intervalMs: 20 });
  const arp = lab.exec('client', 'arping', ['-c', '1', '-w', '2', '-I', IF, VIP4]);
  assert.match(arp, new RegExp(`from ${mac} \\(${VIP4.replace(/\./g, '\\.')}\\)`), arp);
  const nd = lab.exec('client', 'ndisc6', ['-r', '2', '-w', '500', VIP6, IF]);
  assert.match(nd, new RegExp(`Target link-layer address: ${mac}`, 'i'), nd);
}

function quietStart(owner: NodeName): void {
  quietFrom = { t: Date.now(), owner };
}

function quietEnd(): void {
  if (quietFrom !== null) quiet.push({ from: quietFrom.t, to: Date.now(), owner: quietFrom.owner });
  quietFrom = null;
}

function stats(xs: readonly number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { min: s[0]!, median: mid, max: s[s.length - 1]! };
}

function report(what: string, rows: readonly { v4: number; v6: number }[]): { min: number; median: number; max: number } {
  const both = rows.map((r) => Math.max(r.v4, r.v6));
  const s4 = stats(rows.map((r) => r.v4));
  const s6 = stats(rows.map((r) => r.v6));
  const s = stats(both);
  process.stdout.write(
    `# ${what}: ${rows.length} trials, fault → first request served by the new owner (both families): ` +
      `min ${s.min} ms, median ${s.median} ms, max ${s.max} ms ` +
      `(IPv4 ${s4.min}/${s4.median}/${s4.max}, IPv6 ${s6.min}/${s6.median}/${s6.max} ms min/median/max; ` +
      `load average ${readLoad()})\n`,
  );
  return s;
}

function readLoad(): string {
  try {
    return spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

// Targets of issue 10: median under 500 ms, worst under 1 s. This 2-vCPU VM is shared with other suites; the
// bounds asserted can be loosened with L2_FAILOVER_MAX_MS for a known-overloaded run (the figures printed
// and recorded in bench/README.md are the real ones).
const MEDIAN_MS = 500;
const MAX_MS = Number(process.env.L2_FAILOVER_MAX_MS ?? 1000);

describe('Layer 2 failover between real speakers (ARP, NDP, kill -9, cut link, forged liveness)', { skip: interopSkip({ binaries: ['arping', 'ndisc6', 'tcpdump', 'curl', 'nft', 'setpriv'] }) }, () => {
  let prober: ChildProcess;

  before(async () => {
    // Build dist/ once (bin/ingot does it when sources are newer) before any timing starts.
    const v = spawnSync(INGOT_BIN, ['--version'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 });
    assert.equal(v.status, 0, v.stderr);
    lab = new NetnsLab('il2x');
    lab.bridge('br', [
      ...NODES.map((n) => ({ ns: n, ifname: IF, v4: `${ADDR[n].v4}/24`, v6: `${ADDR[n].v6}/64`, mac: ADDR[n].mac })),
      { ns: 'client', ifname: IF, v4: `${CLIENT.v4}/24`, v6: `${CLIENT.v6}/64`, mac: CLIENT.mac },
    ]);
    dir = lab.tempDir('l2x');
    writeFileSync(join(dir, 'config.yaml'), CONFIG);
    writeFileSync(join(dir, 'key'), KEY);
    const cluster = clusterObjects(
      NODES.map((n) => ({ name: n, v4: ADDR[n].v4 })),
      [{ name: 'web', ips: [VIP4, VIP6], pool: 'l2' }],
    );
    // A dual-stack Service: both VIPs are one election (the first IP's), so they move together.
    for (const item of (cluster as { items: { kind: string; spec: Record<string, unknown> }[] }).items) {
      if (item.kind === 'Service') Object.assign(item.spec, { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' });
    }
    writeFileSync(join(dir, 'cluster.yaml'), JSON.stringify(cluster, null, 2));
    for (const n of NODES) {
      lab.exec(n, 'sysctl', ['-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']);
      lab.exec(n, 'ip', ['addr', 'add', `${VIP4}/32`, 'dev', 'lo']);
      lab.exec(n, 'ip', ['-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'lo', 'nodad']);
      lab.spawn(n, process.execPath, ['-e', `require('node:http').createServer((q, s) => { s.setHeader('connection', 'close'); s.end('${n}\\n'); }).listen(80, '::')`], { stdio: 'ignore' });
    }
    for (const n of [...NODES, 'client']) {
      await waitFor(`${n}: no tentative IPv6 address`, () => lab.exec(n, 'ip', ['-6', 'addr', 'show', 'tentative']).trim() === '', { timeoutMs: 10_000, intervalMs: 100 });
    }
    tcpdump = lab.spawn('client', 'tcpdump', ['-i', IF, '-tt', '-n', '-e', '-l', 'arp or icmp6'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let listening = false;
    createInterface({ input: tcpdump.stdout! }).on('line', (l) => {
      const c = parseClaim(l);
      if (c !== null) claims.push(c);
    });
    createInterface({ input: tcpdump.stderr! }).on('line', (l) => {
      if (l.includes('listening on')) listening = true;
    });
    await waitFor('tcpdump to listen', () => listening, { timeoutMs: 10_000, intervalMs: 20 });
    for (const n of NODES) startSpeaker(n);
  });

  after(async () => {
    await lab?.teardown();
  });

  it('one owner for the VIPs: arping, ndisc6 and the client’s neighbour table see its MAC, curl reaches it', async () => {
    const owner = await converged(NODES, 60_000);
    // The VIPs are reachable only through ingot's answers; curl's answer names the node that served it.
    assert.equal(curl(VIP4), owner);
    assert.equal(curl(VIP6), owner);
    await checkOwnerSeen(owner);
    const s = status(owner)!;
    assert.deepEqual(s.ips.find((i) => i.ip === VIP4)?.eligible, [...NODES]);
    assert.match(metrics(owner), /metallb_speaker_announced\{[^}]*protocol="layer2"[^}]*\} 1/);
    for (const n of NODES.filter((x) => x !== owner)) assert.doesNotMatch(metrics(n), /metallb_speaker_announced\{[^}]*protocol="layer2"/);
    quietStart(owner);
  });

  it('a forged liveness packet (wrong key) changes nothing and is counted', async () => {
    const owner = await converged(NODES);
    const before = Object.fromEntries(NODES.map((n) => [n, dropped(n)]));
    // Each node "says" it has held the VIPs since 1970 and hears nobody: were it accepted, it would win them.
    for (const n of NODES.filter((x) => x !== owner)) {
      const forged = encodePacket(
        { type: 'heartbeat', sender: n, excluded: false, incarnation: 42n, seq: 1_000_000, timestamp: Date.now(), lag: 0, alive: [n], claims: new Map([[VIP4, 1]]) },
        Buffer.from('not-the-shared-key-0123456789'),
      ).toString('hex');
      const send = `const s=require('node:dgram').createSocket('udp4');let k=0;for(const a of ${JSON.stringify(NODES.map((x) => ADDR[x].v4))})for(let i=0;i<10;i++)s.send(Buffer.from('${forged}','hex'),7946,a,()=>{if(++k===30)s.close();});`;
      lab.exec('client', process.execPath, ['-e', send]);
    }
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await converged(NODES), owner);
    assert.ok(neigh(VIP4).includes(ADDR[owner].mac), neigh(VIP4));
    for (const n of NODES) assert.ok(dropped(n) >= before[n]! + 20, `${n}: unauthenticated drops ${before[n]} → ${dropped(n)}`);
  });

  it('without CAP_NET_RAW a speaker keeps running, and /status says why its layer2 Services are not announced', async () => {
    // An extra speaker in the client namespace (a node "n9" outside the cluster file), the capability
    // dropped from its bounding set: Layer 2 cannot open a packet socket.
    const args = [
      '--bounding-set=-net_raw', '--inh-caps=-net_raw', INGOT_BIN, 'speaker', '--node-name', 'n9',
      '--config', join(dir, 'config.yaml'), '--cluster', join(dir, 'cluster.yaml'), '--metrics-addr', '127.0.0.1:7473',
      '--bgp-listen', 'off', '--ml-secret-key-file', join(dir, 'key'), '--ml-bind-port', '7950',
    ];
    const c = lab.spawn('client', 'setpriv', args, { cwd: REPO_ROOT, stdio: 'ignore' });
    try {
      const st = await waitFor('the capability-less speaker\'s /status', () => {
        const r = spawnSync('ip', ['netns', 'exec', lab.ns('client'), 'curl', '-s', '-m', '2', 'http://127.0.0.1:7473/status'], { encoding: 'utf8', timeout: 5000 });
        return r.status === 0 && r.stdout.startsWith('{') ? (JSON.parse(r.stdout) as { announcements: { service: string; reason: string }[]; layer2: { error: string } }) : undefined;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      assert.match(st.layer2.error, /^Layer 2 needs CAP_NET_RAW: /);
      assert.equal(st.announcements.find((a) => a.service === 'default/web')?.reason, 'layer2Unavailable');
      const text = spawnSync('ip', ['netns', 'exec', lab.ns('client'), INGOT_BIN, 'status', '--addr', '127.0.0.1:7473'], { encoding: 'utf8', timeout: 30_000 });
      assert.match(text.stdout, /Layer 2: not running on this node\n\s+error: Layer 2 needs CAP_NET_RAW/, text.stdout + text.stderr);
    } finally {
      c.kill('SIGTERM');
    }
  });

  const killRows: { v4: number; v6: number }[] = [];
  const cutRows: { v4: number; v6: number }[] = [];

  it(`kill -9 of the owner's speaker, ${TRIALS} trials: a new owner serves both families in < 1 s`, { timeout: 240_000 }, async () => {
    prober = startProber();
    await waitFor('prober answers', () => probes.length > 10, { timeoutMs: 10_000, intervalMs: 50 });
    for (let i = 0; i < TRIALS; i++) {
      const owner = await converged(NODES);
      quietEnd();
      const t0 = Date.now();
      await killSpeaker(owner);
      const r = await failoverTime(t0, owner);
      assert.equal(r.to4, r.to6, 'both VIPs move to one node');
      const survivors = NODES.filter((n) => n !== owner);
      const next = await converged(survivors);
      assert.equal(next, r.to4);
      killRows.push(r);
      await checkOwnerSeen(next);
      quietStart(next);
      startSpeaker(owner);
      // The restarted speaker joins without taking anything (the owner's claim is older).
      assert.equal(await converged(NODES), next);
      probes = probes.filter((p) => p.t > Date.now() - 1000);
    }
    const s = report('kill -9', killRows);
    assert.ok(s.median < MEDIAN_MS, `median ${s.median} ms`);
    assert.ok(s.max < MAX_MS, `worst ${s.max} ms`);
  });

  it(`cut link of the owner (nftables drops all in and out), ${TRIALS} trials: a new owner serves in < 1 s; the cut node gets its IPs back after the heal`, { timeout: 240_000 }, async () => {
    for (let i = 0; i < TRIALS; i++) {
      const owner = await converged(NODES);
      quietEnd();
      const t0 = Date.now();
      lab.exec(owner, 'nft', ['-f', '-'], { input: CUT });
      const r = await failoverTime(t0, owner);
      assert.equal(r.to4, r.to6, 'both VIPs move to one node');
      cutRows.push(r);
      const survivors = NODES.filter((n) => n !== owner);
      assert.equal(await converged(survivors), r.to4);
      await waitFor('client neighbour entry on the new owner', () => neigh(VIP4).includes(ADDR[r.to4 as NodeName].mac), { timeoutMs: 3000, intervalMs: 20 });
      // Heal: the cut node's claim is older, so it keeps its IPs and the other withdraws (src/l2/README.md).
      lab.exec(owner, 'nft', ['delete', 'table', 'netdev', 'il2xcut']);
      const healed = await converged(NODES);
      assert.equal(healed, owner);
      // The contest (both answering) ends here; the quiet period starts after the winner's re-announcement.
      await checkOwnerSeen(healed);
      await new Promise((r) => setTimeout(r, 300));
      quietStart(healed);
      probes = probes.filter((p) => p.t > Date.now() - 1000);
    }
    const s = report('cut link', cutRows);
    assert.ok(s.median < MEDIAN_MS, `median ${s.median} ms`);
    assert.ok(s.max < MAX_MS, `worst ${s.max} ms`);
  });

  it('after every convergence no VIP was answered by two MACs (tcpdump in the client namespace)', async () => {
    quietEnd();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(quiet.length >= 2 * TRIALS, `quiet periods: ${quiet.length}`);
    let checked = 0;
    for (const q of quiet) {
      for (const ip of [VIP4, VIP6]) {
        const inside = claims.filter((c) => c.ip === ip && c.t >= q.from && c.t <= q.to);
        const macs = new Set(inside.map((c) => c.mac));
        assert.ok(macs.size <= 1, `${ip} answered by ${[...macs].join(', ')} between ${q.from} and ${q.to}`);
        for (const mac of macs) assert.equal(MAC_TO_NODE.get(mac), q.owner, `${ip} answered by ${mac}, owner ${q.owner}`);
        checked += inside.length;
      }
    }
    // Each quiet period has arping's and ndisc6's answers at least.
    assert.ok(checked >= 2 * quiet.length, `answers checked: ${checked}`);
    prober?.kill();
    tcpdump.kill('SIGINT');
  });
});

function dropped(n: NodeName): number {
  const m = /ingot_layer2_member_packets_dropped_total\{reason="unauthenticated"\} (\d+)/.exec(metrics(n));
  return m === null ? 0 : Number(m[1]);
}

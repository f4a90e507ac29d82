// `ingot lab demo | up | down | status`: the home-lab setup of the classic EdgeRouter X + MetalLB article, for
// real, on one Linux machine. Network namespaces stand in for the hosts:
//
//   ilab-rtr   the router: FRR (bgpd + zebra), AS 65001, maximum-paths 32, a peer group NODES of all nodes,
//              fib_multipath_hash_policy=1 (flows hash on ports, so ECMP spreads connections)
//              192.168.129.254/24 on the node segment, 198.51.100.1/24 towards the outside client
//   ilab-n1..3 the nodes, 192.168.129.1-3: `ingot speaker` (AS 65002, standalone mode: config + cluster file),
//              an HTTP server on port 80 answering the node's name, the VIPs on lo (arp_ignore=1 and
//              arp_announce=2, so only ingot answers ARP for them, as kube-proxy's IPVS mode needs too)
//   ilab-cli   a client behind the router, 198.51.100.10 (the "outside")
//   ilab-lanc  a client on the node segment, 192.168.129.100 (sees Layer 2 announcements)
//   ilab-br    the bridge of the node segment
//
// Everything the lab makes is written to a journal (/run/ingot-lab/journal) before it is made, so `down`
// removes exactly that, from any process, after `up`, after a crash, or after a half-built lab; it never
// touches a namespace it did not make. The addresses are the article's; they exist only inside these
// namespaces. The lab is product code (the interop tests reuse its namespace and router code).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsLab, waitFor, type LabJournalEntry } from './netns.js';
import { INGOT_BIN, PACKAGE_ROOT } from './paths.js';
import { LAN_IF, Topology, nexthopsOf, type ConfigSpec, type LabNode, type ServiceSpec } from './topology.js';

export const LAB_PREFIX = 'ilab';
export const JOURNAL_DIR = '/run/ingot-lab';
export const JOURNAL = join(JOURNAL_DIR, 'journal');

const ROUTER_ASN = 65001;
const NODE_ASN = 65002;
const LAN = { v4Net: '192.168.129', v6Net: 'fd00:129::', router: 254, firstNode: 1 };
const ROUTER_LAN = `${LAN.v4Net}.${LAN.router}`;
const OUTSIDE = { router: '198.51.100.1', client: '198.51.100.10' };
const LAN_CLIENT = `${LAN.v4Net}.100`;
const BGP_POOL = '192.168.131.0/24';
const L2_POOL = '192.168.129.240-192.168.129.250';

/** Prints steps and progress; colour only on a terminal (and never with NO_COLOR). */
export class Out {
  private readonly colour: boolean;
  constructor(private readonly write: (s: string) => void = (s) => void process.stdout.write(s), colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined) {
    this.colour = colour;
  }
  private paint(code: string, s: string): string {
    return this.colour ? `\x1b[${code}m${s}\x1b[0m` : s;
  }
  step(n: number, of: number, title: string): void {
    this.write(`\n${this.paint('1;36', `[${n}/${of}] ${title}`)}\n`);
  }
  progress(s: string): void {
    this.write(`  ${this.paint('2', '…')} ${s}\n`);
  }
  ok(s: string): void {
    this.write(`  ${this.paint('32', '✓')} ${s}\n`);
  }
  info(s: string): void {
    this.write(`  ${s}\n`);
  }
  block(s: string): void {
    for (const l of s.trimEnd().split('\n')) this.write(`    ${l}\n`);
  }
  warn(s: string): void {
    this.write(`  ${this.paint('33', '!')} ${s}\n`);
  }
}

export class LabError extends Error {}

/** Checks root, Linux and the tools; installs FRR with apt when it is missing (saying so first). */
export function preflight(out: Out, opts: { install: boolean }): void {
  if (process.platform !== 'linux') throw new LabError(`the lab needs Linux network namespaces (this is ${process.platform})`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError('the lab needs root (network namespaces, a router daemon): run it with sudo');
  }
  const have = (bin: string): boolean => spawnSync('sh', ['-c', 'command -v "$1" >/dev/null || test -x "$1"', 'sh', bin]).status === 0;
  for (const bin of ['ip', 'curl']) {
    if (!have(bin)) throw new LabError(`the lab needs ${bin} (Debian: apt-get install ${bin === 'ip' ? 'iproute2' : bin})`);
  }
  if (!have('/usr/lib/frr/bgpd') || !have('/usr/lib/frr/zebra') || !have('vtysh')) {
    if (!opts.install) throw new LabError('the lab needs FRR (Debian: apt-get install frr)');
    out.warn('FRR is not installed: installing it now with apt-get (package frr) — the router of the lab');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'frr']]) {
      const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
      if (r.status !== 0) throw new LabError(`apt-get ${args.join(' ')} failed; install FRR yourself (apt-get install frr) and run the lab again`);
    }
    // The packaged service must not run in the root namespace: the lab starts its own router.
    spawnSync('systemctl', ['stop', 'frr'], { stdio: 'ignore' });
  }
}

// ---- journal -------------------------------------------------------------------------------------------------

function journalWrite(e: LabJournalEntry): void {
  mkdirSync(JOURNAL_DIR, { recursive: true });
  appendFileSync(JOURNAL, `${JSON.stringify(e)}\n`);
}

export function journalRead(): LabJournalEntry[] {
  let text: string;
  try {
    text = readFileSync(JOURNAL, 'utf8');
  } catch {
    return [];
  }
  const out: LabJournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as LabJournalEntry;
      if ((e.kind === 'namespace' || e.kind === 'dir') && typeof e.name === 'string') out.push(e);
    } catch {
      // A line cut short by a crash: the entries before it still count.
    }
  }
  return out;
}

/** The lab's namespaces that exist now (journaled and still there). */
export function labNamespaces(): string[] {
  const existing = new Set(NetnsLab.list());
  return [...new Set(journalRead().filter((e) => e.kind === 'namespace' && e.name.startsWith(`${LAB_PREFIX}-`)).map((e) => e.name))].filter((n) => existing.has(n));
}

/**
 * Removes everything the journal names: the processes inside the lab's namespaces (speakers, FRR, HTTP
 * servers, clients), the namespaces, the directories. Idempotent; never touches what the journal does not name.
 */
export function labDown(out: Out): { namespaces: number } {
  const entries = journalRead();
  const namespaces = [...new Set(entries.filter((e) => e.kind === 'namespace' && e.name.startsWith(`${LAB_PREFIX}-`)).map((e) => e.name))];
  const existing = new Set(NetnsLab.list());
  let removed = 0;
  for (const ns of namespaces.reverse()) {
    if (!existing.has(ns)) continue;
    NetnsLab.delete(ns);
    removed++;
  }
  for (const e of entries) {
    if (e.kind !== 'dir') continue;
    // Only directories the lab itself names: its temp dirs and FRR's pathspace run dir.
    if (!e.name.includes(`${LAB_PREFIX}-`) && !e.name.endsWith(`/frr/${LAB_PREFIX}`)) continue;
    rmSync(e.name, { recursive: true, force: true });
  }
  rmSync(JOURNAL, { force: true });
  out.ok(removed === 0 ? 'nothing of the lab was left' : `removed ${removed} namespaces and everything running in them`);
  return { namespaces: removed };
}

// ---- the lab -------------------------------------------------------------------------------------------------

function labConfig(): ConfigSpec {
  return {
    peers: [{ peerAddress: ROUTER_LAN, peerAsn: ROUTER_ASN, myAsn: NODE_ASN, holdTime: '9s' }],
    pools: [
      { name: 'default', addresses: [BGP_POOL] },
      { name: 'lan', protocol: 'layer2', addresses: [L2_POOL], autoAssign: false },
    ],
  };
}

/** The lab's MetalLB config text, with avoid-buggy-ips on the BGP pool (no .0 / .255 VIP). */
export function labConfigText(): string {
  return configTextWithBuggyIps(labConfig());
}

function configTextWithBuggyIps(c: ConfigSpec): string {
  const lines: string[] = ['peers:'];
  for (const p of c.peers) {
    lines.push(`- peer-address: ${p.peerAddress}`, `  peer-asn: ${p.peerAsn}`, `  my-asn: ${p.myAsn}`);
    if (p.holdTime !== undefined) lines.push(`  hold-time: ${p.holdTime}`);
  }
  lines.push('address-pools:');
  for (const p of c.pools) {
    lines.push(`- name: ${p.name}`, `  protocol: ${p.protocol ?? 'bgp'}`, `  addresses:`, ...p.addresses.map((a) => `  - ${a}`));
    if (p.autoAssign === false) lines.push('  auto-assign: false');
    if ((p.protocol ?? 'bgp') === 'bgp') lines.push('  avoid-buggy-ips: true');
  }
  return `${lines.join('\n')}\n`;
}

const HTTP_SERVER = `
const http = require('node:http');
const name = process.argv[1];
http.createServer((req, res) => { res.setHeader('connection', 'close'); res.end(name + '\\n'); })
  .listen({ port: 80, host: '::', ipv6Only: false });
`;

export interface LabOptions {
  readonly out: Out;
  /** Leave everything running (`up`); else tear down at the end (`demo`). */
  readonly keep: boolean;
  readonly installMissing: boolean;
}

interface Timed<T> {
  readonly value: T;
  readonly ms: number;
}

async function timed<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 20): Promise<Timed<T>> {
  const t0 = performance.now();
  const value = await waitFor(what, check, { timeoutMs, intervalMs });
  return { value, ms: performance.now() - t0 };
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export class Lab {
  readonly topo: Topology;
  readonly out: Out;
  private readonly opts: LabOptions;
  private services: ServiceSpec[] = [];

  constructor(opts: LabOptions) {
    this.opts = opts;
    this.out = opts.out;
    const lab = new NetnsLab(LAB_PREFIX, { journal: journalWrite });
    this.topo = new Topology(LAB_PREFIX, { router: 'frr', routerAsn: ROUTER_ASN, nodeAsn: NODE_ASN, peerGroup: true, lan: LAN, ipv6: false }, lab);
  }

  private get lab(): NetnsLab {
    return this.topo.lab;
  }

  /** Namespaces, links, addresses, sysctls, FRR, HTTP servers; then the speakers. */
  async build(): Promise<void> {
    const t = this.topo;
    journalWrite({ kind: 'dir', name: t.frrRunDir });
    this.out.progress('network namespaces: router ilab-rtr, nodes ilab-n1..3 on the node segment 192.168.129.0/24, clients ilab-cli and ilab-lanc');
    await t.up();
    const lab = this.lab;
    lab.attach('br', { ns: 'lanc', ifname: 'eth0', v4: `${LAN_CLIENT}/24`, mac: '02:00:00:81:00:64' });
    lab.pair('rtr', 'cli', { a: { v4: `${OUTSIDE.router}/24` }, b: { v4: `${OUTSIDE.client}/24` } }, 'eth-out');
    t.exec('cli', 'ip', ['route', 'add', 'default', 'via', OUTSIDE.router]);
    for (const [k, v] of [['net.ipv4.ip_forward', '1'], ['net.ipv4.fib_multipath_hash_policy', '1']]) t.exec('rtr', 'sysctl', ['-qw', `${k}=${v}`]);
    for (const n of t.nodes) {
      t.exec(n.ns, 'ip', ['route', 'add', 'default', 'via', ROUTER_LAN]);
      // Only ingot answers ARP for the VIPs on lo (the kernel would answer on every interface otherwise).
      for (const [k, v] of [['net.ipv4.conf.all.arp_ignore', '1'], ['net.ipv4.conf.all.arp_announce', '2']]) t.exec(n.ns, 'sysctl', ['-qw', `${k}=${v}`]);
      lab.spawn(n.ns, process.execPath, ['-e', HTTP_SERVER, n.name], { stdio: 'ignore', detached: this.opts.keep }).unref();
    }
    this.out.ok(`FRR ${this.frrVersion()} is up in ilab-rtr (AS ${ROUTER_ASN}, peer group NODES, maximum-paths 32)`);
    t.writeConfig(labConfigText());
    // The speakers' shared liveness key (Kubernetes: the Secret ingot-memberlist). Random per lab.
    writeFileSync(join(t.dir, 'memberlist.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    this.services = [{ name: 'web' }];
    t.writeCluster(this.services);
    Topology.prebuild();
  }

  private frrVersion(): string {
    try {
      const v = execFileSync('/usr/lib/frr/bgpd', ['--version'], { encoding: 'utf8' });
      return /version\s+(\S+)/.exec(v)?.[1] ?? '?';
    } catch {
      return '?';
    }
  }

  /** What `ingot plan` says for the cluster as it is now (JSON). */
  plan(): { services: Record<string, { ips: string[]; pool: string | null; error: string | null; announce: { nodes: string[]; reason: string | null } }> } {
    const n = this.topo.nodes[0]!;
    const out = execFileSync(INGOT_BIN, ['plan', '--config', this.topo.configPath(n), '--cluster', this.topo.clusterPath(n), '-o', 'json'], { encoding: 'utf8', cwd: PACKAGE_ROOT });
    return JSON.parse(out) as ReturnType<Lab['plan']>;
  }

  planText(): string {
    const n = this.topo.nodes[0]!;
    return execFileSync(INGOT_BIN, ['plan', '--config', this.topo.configPath(n), '--cluster', this.topo.clusterPath(n)], { encoding: 'utf8', cwd: PACKAGE_ROOT });
  }

  /** Puts the VIP on every node's lo, as kube-proxy makes a node accept traffic for it. */
  private addVip(ip: string): void {
    for (const n of this.topo.nodes) {
      try {
        this.topo.exec(n.ns, 'ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
      } catch (e) {
        if (!/File exists/.test(String(e))) throw e;
      }
    }
  }

  /** The speakers' Layer 2 flags: the liveness key (the lab's stand-in for the Secret ingot-memberlist). */
  private speakerArgs(): string[] {
    return ['--ml-secret-key-file', join(this.topo.dir, 'memberlist.key')];
  }

  private startSpeakers(): void {
    for (const n of this.topo.nodes) this.topo.startSpeaker(n, { detached: this.opts.keep, extraArgs: this.speakerArgs() });
  }

  private async nexthops(prefix: string): Promise<string[]> {
    return nexthopsOf(await this.topo.routes(4), prefix).sort();
  }

  private nodeByAddr(addr: string): LabNode | undefined {
    return this.topo.nodes.find((n) => n.v4 === addr);
  }

  private rewriteCluster(services: ServiceSpec[]): void {
    this.services = services;
    this.topo.writeCluster(services);
  }

  /** Step 1: a Service gets an IP; the router learns it from all three nodes. */
  async stepAllocate(): Promise<string> {
    const o = this.out;
    const plan = this.plan();
    const web = plan.services['default/web'];
    const vip = web?.ips[0];
    if (vip === undefined) throw new LabError(`ingot plan gave default/web no IP: ${web?.error ?? 'no entry'}`);
    o.info('ingot plan (what the controller allocates and who announces it):');
    o.block(this.planText());
    o.info(`why ${vip}: pool "${web!.pool}" is the first auto-assign pool in config order; inside it the lowest free address wins`);
    o.info(`(avoid-buggy-ips skips ${BGP_POOL.replace('.0/24', '.0')}), the same answer on every node and every run.`);
    this.addVip(vip);
    this.startSpeakers();
    const est = await timed('BGP sessions Established at FRR', async () => {
      const p = await this.topo.peers();
      return this.topo.nodes.every((n) => p[n.v4]?.established) ? true : undefined;
    }, 60_000, 50);
    o.ok(`3 BGP sessions Established at the router ${fmtMs(est.ms)} after the speakers started`);
    const prefix = `${vip}/32`;
    const hops = await timed(`${prefix} with 3 next hops at FRR`, async () => ((await this.nexthops(prefix)).length === 3 ? this.nexthops(prefix) : undefined));
    o.ok(`router BGP table ${prefix}: 3 ECMP next hops ${(await hops.value).join(', ')}`);
    await waitFor('kernel multipath route', () => this.topo.kernelNexthops(prefix).length === 3, { timeoutMs: 10_000, intervalMs: 20 });
    o.info('vtysh -c "show ip route" at the router:');
    o.block(await this.topo.frr(`show ip route ${prefix}`, 'zebra'));
    o.info('the router kernel (zebra installed it):');
    o.block(this.topo.exec('rtr', 'ip', ['route', 'show', prefix]));
    return vip;
  }

  /** Step 2: 30 requests from the outside client, and where they landed. */
  stepSpread(vip: string, requests = 30): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(this.topo.nodes.map((n) => [n.name, 0]));
    let failed = 0;
    for (let i = 0; i < requests; i++) {
      const r = spawnSync('ip', ['netns', 'exec', this.lab.ns('cli'), 'curl', '-s', '-m', '3', `http://${vip}/`], { encoding: 'utf8', timeout: 10_000 });
      const name = (r.stdout ?? '').trim();
      if (r.status === 0 && name in counts) counts[name] = (counts[name] ?? 0) + 1;
      else failed++;
    }
    const o = this.out;
    o.info(`${requests} HTTP requests from ilab-cli (${OUTSIDE.client}) to http://${vip}/, one TCP connection each:`);
    for (const [name, c] of Object.entries(counts)) o.info(`  ${name.padEnd(7)} ${String(c).padStart(3)}  ${'#'.repeat(c)}`);
    if (failed > 0) o.warn(`${failed} requests failed`);
    const used = Object.values(counts).filter((c) => c > 0).length;
    o.ok(`spread over ${used} of 3 nodes (the router hashes each flow's addresses and ports: fib_multipath_hash_policy=1)`);
    return counts;
  }

  /** Step 3: Local with one endpoint narrows the route; deleting the Service withdraws it. */
  async stepLocalAndDelete(vip: string): Promise<{ narrowMs: number; withdrawMs: number }> {
    const o = this.out;
    const prefix = `${vip}/32`;
    const endpointNode = this.topo.nodes[1]!;
    o.progress(`switching default/web to externalTrafficPolicy: Local with its one endpoint on ${endpointNode.name} (cluster file rewritten on every node)`);
    const t0 = performance.now();
    this.rewriteCluster([{ name: 'web', ips: [vip], externalTrafficPolicy: 'Local', endpoints: [{ node: endpointNode.name }] }]);
    await waitFor(`${prefix} narrowed to ${endpointNode.v4}`, async () => {
      const h = await this.nexthops(prefix);
      return h.length === 1 && h[0] === endpointNode.v4;
    }, { timeoutMs: 30_000, intervalMs: 20 });
    const narrowMs = performance.now() - t0;
    await waitFor('kernel route narrowed', () => this.topo.kernelNexthops(prefix).join() === endpointNode.v4, { timeoutMs: 10_000, intervalMs: 10 });
    const kernelMs = performance.now() - t0;
    o.ok(`the route narrowed to one next hop, ${endpointNode.v4} (${endpointNode.name}): in the BGP table ${fmtMs(narrowMs)} after the change, in the kernel ${fmtMs(kernelMs)}`);
    o.block(this.topo.exec('rtr', 'ip', ['route', 'show', prefix]) || '(no kernel route)');
    o.progress('deleting default/web');
    const t1 = performance.now();
    this.rewriteCluster([]);
    await waitFor(`${prefix} withdrawn`, async () => (await this.topo.routes(4))[prefix] === undefined, { timeoutMs: 30_000, intervalMs: 20 });
    const withdrawMs = performance.now() - t1;
    await waitFor('kernel route gone', () => this.topo.kernelNexthops(prefix).length === 0, { timeoutMs: 10_000, intervalMs: 10 });
    o.ok(`the route is gone from the router: from the BGP table ${fmtMs(withdrawMs)} after the deletion, from the kernel ${fmtMs(performance.now() - t1)}`);
    // Back to the first state, so `up` leaves a working Service behind.
    this.rewriteCluster([{ name: 'web', ips: [vip] }]);
    return { narrowMs, withdrawMs };
  }

  /** The node whose eth-lan has this MAC. */
  private nodeByMac(mac: string): LabNode | undefined {
    return this.topo.nodes.find((n) => this.macOf(n) === mac);
  }

  private macOf(n: LabNode): string {
    const link = this.topo.exec(n.ns, 'ip', ['-o', 'link', 'show', LAN_IF]);
    return /link\/ether ([0-9a-f:]{17})/.exec(link)?.[1] ?? '?';
  }

  /** The owner of `ip` as every running speaker reports it in /status (undefined until they agree). */
  private layer2Owner(ip: string, nodes: readonly LabNode[]): string | undefined {
    let owner: string | undefined;
    for (const n of nodes) {
      const r = this.topo.httpGet(n, '/status');
      if (r.status !== 200) return undefined;
      const l2 = (JSON.parse(r.body) as { layer2?: { ips?: { ip: string; owner: string | null }[] } }).layer2;
      const o = l2?.ips?.find((e) => e.ip === ip)?.owner ?? undefined;
      if (o === undefined || o === null || (owner !== undefined && o !== owner)) return undefined;
      owner = o;
    }
    return owner;
  }

  /** The LAN client's neighbour entry for `ip` ("" when it has none). */
  private lanNeigh(ip: string): string {
    return this.topo.exec('lanc', 'ip', ['neigh', 'show', ip, 'dev', 'eth0']).trim();
  }

  /** One HTTP request from the LAN client with a short timeout: the answering node's name, or null. */
  private lanGet(ip: string, timeoutS = '0.3'): string | null {
    const r = spawnSync('ip', ['netns', 'exec', this.lab.ns('lanc'), 'curl', '-s', '-m', timeoutS, `http://${ip}/`], { encoding: 'utf8', timeout: 5000 });
    return r.status === 0 ? r.stdout.trim() : null;
  }

  /** Step 4: a Layer 2 VIP: one node answers ARP for it; kill that node's speaker and another takes over. */
  async stepLayer2(): Promise<{ vip: string; owner: string; newOwner: string; failoverMs: number }> {
    const o = this.out;
    o.progress('adding default/lan-web, which asks for the layer2 pool "lan" (auto-assign: false) with metallb.universe.tf/address-pool');
    this.rewriteCluster([...this.services.filter((x) => x.name !== 'lan-web'), { name: 'lan-web', pool: 'lan' }]);
    const planned = this.plan().services['default/lan-web'];
    const vip = planned?.ips[0];
    if (vip === undefined) throw new LabError(`ingot plan gave default/lan-web no IP: ${planned?.error ?? 'no entry'}`);
    o.info(`ingot plan: default/lan-web gets ${vip}; on a fresh cluster layer2 elects ${planned!.announce.nodes.join(',') || '(nobody)'}`);
    this.addVip(vip);
    const nodes = this.topo.nodes;
    const agreed = await timed('the speakers to agree on the Layer 2 owner', () => this.layer2Owner(vip, nodes), 30_000, 50);
    const owner = nodes.find((n) => n.name === agreed.value)!;
    o.ok(`every speaker names ${owner.name} the owner of ${vip} (${fmtMs(agreed.ms)} after the cluster file changed)`);
    const arp = spawnSync('ip', ['netns', 'exec', this.lab.ns('lanc'), 'arping', '-c', '1', '-w', '2', '-I', 'eth0', vip], { encoding: 'utf8', timeout: 10_000 });
    const reply = /reply from \S+ \[([0-9a-f:]{17})\]|from ([0-9a-f:]{17}) \(/i.exec(arp.stdout ?? '');
    const arpMac = (reply?.[1] ?? reply?.[2] ?? '').toLowerCase();
    o.info(`arping ${vip} from ilab-lanc (${LAN_CLIENT}): ${arpMac === '' ? 'no reply' : `reply from ${arpMac} = ${this.nodeByMac(arpMac)?.name ?? 'an unknown station'}`}`);
    const served = await timed(`http://${vip}/ from the LAN client`, () => this.lanGet(vip, '2') ?? undefined, 10_000, 50);
    const entry = this.lanNeigh(vip);
    const mac = /lladdr ([0-9a-f:]{17})/.exec(entry)?.[1] ?? '?';
    o.ok(`ilab-lanc's neighbour entry: ${entry} → ${this.nodeByMac(mac)?.name ?? 'unknown'}; curl http://${vip}/ answers ${served.value}`);
    if (served.value !== owner.name) o.warn(`the answer came from ${served.value}, not the owner ${owner.name}`);

    o.progress(`kill -9 of ${owner.name}'s speaker (its node and HTTP server stay up: only ingot's ARP answers stop)`);
    const t0 = performance.now();
    await this.topo.stopSpeaker(owner, 'SIGKILL');
    // A tight loop of requests with short timeouts; done when a node other than the old owner answers.
    const moved = await timed('a request answered by another node', () => {
      const who = this.lanGet(vip);
      return who !== null && who !== owner.name ? who : undefined;
    }, 10_000, 0);
    const failoverMs = performance.now() - t0;
    const newEntry = this.lanNeigh(vip);
    const newMac = /lladdr ([0-9a-f:]{17})/.exec(newEntry)?.[1] ?? '?';
    o.ok(`failover: ${moved.value} answers ${fmtMs(failoverMs)} after the kill (liveness timeout 300 ms, then a gratuitous ARP)`);
    o.ok(`ilab-lanc's neighbour entry now: ${newEntry} → ${this.nodeByMac(newMac)?.name ?? 'unknown'}`);
    o.progress(`restarting ${owner.name}'s speaker`);
    this.topo.startSpeaker(owner, { detached: this.opts.keep, extraArgs: this.speakerArgs() });
    const back = await timed('the restarted speaker to agree', () => this.layer2Owner(vip, nodes), 30_000, 100);
    o.ok(`${owner.name} is back and agrees: ${back.value} keeps ${vip} (an owner keeps its IPs while alive; no needless move)`);
    return { vip, owner: owner.name, newOwner: moved.value, failoverMs };
  }

  /** Step 5: what a speaker says about itself. */
  stepStatus(): void {
    const o = this.out;
    const n = this.topo.nodes[0]!;
    o.info(`ingot status, inside ilab-${n.ns} (the speaker serves /status to loopback):`);
    const r = spawnSync('ip', ['netns', 'exec', this.lab.ns(n.ns), INGOT_BIN, 'status', '--addr', '127.0.0.1:7472'], { encoding: 'utf8', timeout: 30_000 });
    o.block(r.status === 0 ? r.stdout : `(ingot status failed: ${(r.stderr ?? '').trim()})`);
    const m = this.topo.httpGet(n, '/metrics');
    const lines = m.body.split('\n').filter((l) => /^(metallb_bgp_session_up|metallb_bgp_announced_prefixes_total|metallb_bgp_updates_total|metallb_speaker_announced)\{/.test(l));
    o.info('a few Prometheus lines from /metrics:');
    o.block(lines.slice(0, 8).join('\n') || '(none)');
  }

  printHowTo(vip: string | null): void {
    const o = this.out;
    const ingot = INGOT_BIN;
    o.info('The lab is up. Things to try:');
    o.info(`  ip netns exec ilab-cli curl http://${vip ?? '192.168.131.1'}/             # from outside, through the router`);
    o.info('  vtysh -N ilab -c "show ip route bgp"                    # the router (FRR) view');
    o.info('  ip netns exec ilab-rtr ip route                         # the router kernel: multipath routes');
    o.info('  ip netns exec ilab-lanc arping -c 3 -I eth0 192.168.129.240   # Layer 2: which node answers for the LAN VIP');
    o.info('  ip netns exec ilab-lanc ip neigh                        # the LAN client\'s neighbour table');
    o.info(`  ip netns exec ilab-n1 ${ingot} status   # a speaker: sessions, announcements`);
    o.info(`  ${ingot} plan --config ${this.topo.configPath(this.topo.nodes[0]!)} --cluster ${this.topo.clusterPath(this.topo.nodes[0]!)}`);
    o.info(`  edit ${this.topo.dir}/n*/cluster.yaml (one copy per node) to add a Service; the speakers reload it`);
    o.info('  ip netns exec ilab-n1 bash                              # a shell on node-1');
    o.info(`  ${ingot} lab down   # remove it all`);
  }

  async teardown(): Promise<void> {
    await this.topo.teardown().catch(() => undefined);
    labDown(new Out(() => undefined));
  }
}

/** `ingot lab demo` (keep=false) and `ingot lab up` (keep=true). */
export async function runLab(opts: LabOptions): Promise<number> {
  const o = opts.out;
  if (labNamespaces().length > 0) {
    throw new LabError('a lab is already up (see: ingot lab status); remove it first with: ingot lab down');
  }
  // A journal without live namespaces is what a crash left: clean it before starting.
  labDown(new Out(() => undefined));
  preflight(o, { install: opts.installMissing });
  const lab = new Lab(opts);
  let stopping = false;
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    void lab.teardown().finally(() => process.exit(code));
  };
  const onSignal = (): void => stop(130);
  if (!opts.keep) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const steps = 5;
  let vip: string | null = null;
  try {
    o.step(0, steps, 'Building the lab');
    await lab.build();
    o.step(1, steps, 'A Service gets an IP, and the router learns it from every node');
    vip = await lab.stepAllocate();
    o.step(2, steps, 'Traffic from outside spreads over the nodes (ECMP)');
    lab.stepSpread(vip);
    o.step(3, steps, 'externalTrafficPolicy: Local narrows the route; deleting the Service withdraws it');
    await lab.stepLocalAndDelete(vip);
    o.step(4, steps, 'A Layer 2 VIP on the node segment, and its failover');
    await lab.stepLayer2();
    o.step(5, steps, 'What a speaker reports');
    lab.stepStatus();
  } catch (e) {
    o.warn(`the lab failed: ${e instanceof Error ? e.message : String(e)}`);
    o.block(lab.topo.logs(8));
    if (!opts.keep) await lab.teardown();
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  if (opts.keep) {
    o.info('');
    lab.printHowTo(vip);
    return 0;
  }
  o.progress('tearing the lab down');
  await lab.teardown();
  o.ok('done: every namespace and process of the lab is gone');
  return 0;
}

/** `ingot lab status`: is a lab up, and what runs in it. */
export function labStatus(o: Out): number {
  const live = labNamespaces();
  if (live.length === 0) {
    o.info('no lab is up (start one with: ingot lab up)');
    return 0;
  }
  o.info(`the lab is up: ${live.length} namespaces`);
  for (const ns of live) {
    let pids: string[] = [];
    try {
      pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean);
    } catch {
      /* gone meanwhile */
    }
    const names = pids.map((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      } catch {
        return '?';
      }
    });
    o.info(`  ${ns.padEnd(10)} ${names.length === 0 ? '-' : [...new Set(names)].sort().join(', ')}`);
  }
  if (existsSync('/usr/bin/vtysh') && live.includes(`${LAB_PREFIX}-rtr`)) {
    const r = spawnSync('vtysh', ['-N', LAB_PREFIX, '-c', 'show bgp summary'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0) o.block(r.stdout);
  }
  return 0;
}

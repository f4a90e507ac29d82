// A reusable lab for the speaker interop suites and scripts/bench-ingest.ts: one router namespace and N (default
// three) node namespaces on one bridge, a real router daemon (FRR 8.4, BIRD 2 or GoBGP 3) in the router
// namespace, and `ingot speaker` (standalone mode) in the node namespaces, each node with its own copy of the
// config and cluster files, as on separate hosts.
//
//   <prefix>-br    the bridge (tcpdump on br0 sees every packet once)
//   <prefix>-rtr   10.77.0.1/24   fd00:77::1/64     router, AS 65000 unless told otherwise
//   <prefix>-n1    10.77.0.11/24  fd00:77::11/64    node-1 (metrics on 127.0.0.1:7472 inside its namespace)
//   <prefix>-n2    10.77.0.12/24  fd00:77::12/64    node-2
//   <prefix>-n3    10.77.0.13/24  fd00:77::13/64    node-3
//
// Every query helper returns the router's view in one shape, RouteMap = {prefix → [paths]}, so a test can ask
// the same question of all three routers. FRR is queried through its vty unix sockets directly (what vtysh
// does, without forking vtysh: a vtysh process costs ~40 ms of CPU, which would compete with the router during
// timing measurements on a 2-core machine); BIRD through birdc; GoBGP through its gobgp CLI.
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { NetnsLab, waitFor } from './netns.js';
import { INGOT_BIN, PACKAGE_ROOT as REPO_ROOT } from './paths.js';

export const ROUTER = 'rtr';
export const ROUTER4 = '10.77.0.1';
export const ROUTER6 = 'fd00:77::1';
export const LAN_IF = 'eth-lan';

export interface LabNode {
  /** short namespace name: n1, n2, ... */
  readonly ns: string;
  /** Kubernetes node name: node-1, node-2, ... */
  readonly name: string;
  readonly v4: string;
  readonly v6: string;
  readonly dir: string;
}

export type RouterKind = 'frr' | 'bird' | 'gobgp';

export interface TopologyOptions {
  router: RouterKind;
  nodes?: number;
  routerAsn?: number;
  /** The nodes' AS (equal to routerAsn: iBGP). */
  nodeAsn?: number;
  /** TCP-MD5 key configured at the router for every neighbor. */
  password?: string;
  /** FRR `bgp graceful-restart` (helper mode), BIRD `graceful restart on`. */
  gracefulRestart?: boolean;
  /** Router-side hold time in seconds (FRR `timers bgp`, BIRD `hold time`); default: the daemon's. */
  holdTime?: number;
  /** The router never dials (FRR `neighbor X passive`, BIRD `passive on`, GoBGP passive-mode). */
  passive?: boolean;
  /** Also carry IPv6 unicast (MP-BGP) on the IPv4 sessions. Default true. */
  ipv6?: boolean;
  /** FRR only: start zebra too, so routes reach the router namespace's kernel FIB. Default true. */
  zebra?: boolean;
  /** FRR only: the nodes as members of one peer group `NODES` (as a home-lab router is set up). */
  peerGroup?: boolean;
  /** The node segment: `${v4Net}.${router}` is the router, nodes from `${v4Net}.${firstNode}`. Default 10.77.0, 1, 11. */
  lan?: { v4Net: string; v6Net: string; router: number; firstNode: number };
}

/** One path for one prefix, as any of the three routers reports it. */
export interface RouterPath {
  nexthop: string;
  /** the neighbor it came from, when the router says */
  peer?: string;
  best?: boolean;
  multipath?: boolean;
  stale?: boolean;
  localPref?: number;
  asPath?: string;
  communities?: string[];
  largeCommunities?: string[];
}
export type RouteMap = Record<string, RouterPath[]>;

export interface PeerState {
  state: string;
  established: boolean;
  prefixes: number;
}

// ---- config and cluster files -----------------------------------------------------------------------------

export interface PeerSpec {
  peerAddress: string;
  peerAsn: number;
  myAsn: number;
  holdTime?: string;
  keepaliveTime?: string;
  password?: string;
  gracefulRestart?: boolean;
  gracefulRestartTime?: string;
  peerPort?: number;
  routerId?: string;
  sourceAddress?: string;
}

export interface AdvertisementSpec {
  aggregationLength?: number;
  aggregationLengthV6?: number;
  localPref?: number;
  communities?: string[];
}

export interface PoolSpec {
  name: string;
  addresses: string[];
  protocol?: 'bgp' | 'layer2';
  autoAssign?: boolean;
  advertisements?: AdvertisementSpec[];
}

export interface ConfigSpec {
  peers: PeerSpec[];
  pools: PoolSpec[];
  communities?: Record<string, string>;
}

/** MetalLB v0.12 config text (the `data.config` body). Scalars are JSON strings: valid YAML, never mis-typed. */
export function configYaml(c: ConfigSpec): string {
  const s = (v: string | number | boolean): string => JSON.stringify(v);
  const out: string[] = ['peers:'];
  for (const p of c.peers) {
    out.push(`- peer-address: ${s(p.peerAddress)}`, `  peer-asn: ${p.peerAsn}`, `  my-asn: ${p.myAsn}`);
    if (p.holdTime !== undefined) out.push(`  hold-time: ${s(p.holdTime)}`);
    if (p.keepaliveTime !== undefined) out.push(`  keepalive-time: ${s(p.keepaliveTime)}`);
    if (p.password !== undefined) out.push(`  password: ${s(p.password)}`);
    if (p.gracefulRestart !== undefined) out.push(`  graceful-restart: ${p.gracefulRestart}`);
    if (p.gracefulRestartTime !== undefined) out.push(`  graceful-restart-time: ${s(p.gracefulRestartTime)}`);
    if (p.peerPort !== undefined) out.push(`  peer-port: ${p.peerPort}`);
    if (p.routerId !== undefined) out.push(`  router-id: ${s(p.routerId)}`);
    if (p.sourceAddress !== undefined) out.push(`  source-address: ${s(p.sourceAddress)}`);
  }
  if (c.communities && Object.keys(c.communities).length > 0) {
    out.push('bgp-communities:');
    for (const [k, v] of Object.entries(c.communities)) out.push(`  ${k}: ${s(v)}`);
  }
  out.push('address-pools:');
  for (const p of c.pools) {
    out.push(`- name: ${s(p.name)}`, `  protocol: ${p.protocol ?? 'bgp'}`);
    if (p.autoAssign !== undefined) out.push(`  auto-assign: ${p.autoAssign}`);
    out.push('  addresses:', ...p.addresses.map((a) => `  - ${s(a)}`));
    if (p.advertisements) {
      out.push('  bgp-advertisements:');
      for (const a of p.advertisements) {
        const lines: string[] = [];
        if (a.aggregationLength !== undefined) lines.push(`aggregation-length: ${a.aggregationLength}`);
        if (a.aggregationLengthV6 !== undefined) lines.push(`aggregation-length-v6: ${a.aggregationLengthV6}`);
        if (a.localPref !== undefined) lines.push(`localpref: ${a.localPref}`);
        if (a.communities !== undefined) lines.push(`communities: [${a.communities.map(s).join(', ')}]`);
        if (lines.length === 0) lines.push('aggregation-length: 32');
        out.push(`  - ${lines[0]}`, ...lines.slice(1).map((l) => `    ${l}`));
      }
    }
  }
  return `${out.join('\n')}\n`;
}

export interface ServiceSpec {
  name: string;
  namespace?: string;
  /** Already-assigned address(es): written as status.loadBalancer.ingress, so every node agrees at once. */
  ips?: string[];
  /** `metallb.universe.tf/address-pool` */
  pool?: string;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  /** Endpoints by node name; default: one ready endpoint on every node. */
  endpoints?: Array<{ node: string; ready?: boolean }>;
  /** default IPv4, or IPv6 when every ip is IPv6 */
  family?: 4 | 6;
}

const BASE_TIME = Date.parse('2026-01-01T00:00:00Z');

/** The Kubernetes objects of a cluster file (Services, EndpointSlices, Nodes), as a `kind: List`. */
export function clusterObjects(nodes: readonly { name: string; v4: string }[], services: readonly ServiceSpec[]): object {
  const items: object[] = [];
  for (const n of nodes) {
    items.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } },
      status: { addresses: [{ type: 'InternalIP', address: n.v4 }], conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  services.forEach((s, i) => {
    const ns = s.namespace ?? 'default';
    const fam = s.family ?? (s.ips && s.ips.length > 0 && s.ips.every((ip) => ip.includes(':')) ? 6 : 4);
    const annotations: Record<string, string> = {};
    if (s.pool !== undefined) annotations['metallb.universe.tf/address-pool'] = s.pool;
    items.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: s.name,
        namespace: ns,
        creationTimestamp: new Date(BASE_TIME + i * 1000).toISOString().replace('.000Z', 'Z'),
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      },
      spec: {
        type: 'LoadBalancer',
        ipFamilies: [fam === 6 ? 'IPv6' : 'IPv4'],
        externalTrafficPolicy: s.externalTrafficPolicy ?? 'Cluster',
        selector: { app: s.name },
        ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
      },
      ...(s.ips && s.ips.length > 0 ? { status: { loadBalancer: { ingress: s.ips.map((ip) => ({ ip })) } } } : {}),
    });
    const eps = s.endpoints ?? nodes.map((n) => ({ node: n.name, ready: true }));
    items.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${s.name}-eps`, namespace: ns, labels: { 'kubernetes.io/service-name': s.name } },
      addressType: fam === 6 ? 'IPv6' : 'IPv4',
      endpoints: eps.map((e, j) => ({
        addresses: [fam === 6 ? `fd00:244::${(i % 60000).toString(16)}:${j + 1}` : `10.244.${j}.${(i % 250) + 1}`],
        conditions: { ready: e.ready ?? true },
        nodeName: e.node,
      })),
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    });
  });
  // JSON is YAML: one line per file, and far cheaper to produce (and parse) than block YAML at 10,000 Services.
  return { apiVersion: 'v1', kind: 'List', items };
}

// ---- FRR vty client ---------------------------------------------------------------------------------------

/**
 * One command on an FRR daemon's vty unix socket, the way vtysh talks to it: the command NUL-terminated, the
 * answer ends with three NUL bytes and a status byte.
 */
export function frrVty(socketPath: string, command: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    const chunks: Buffer[] = [];
    let len = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`vty ${socketPath}: "${command}" timed out`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(`${command}\0`));
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      len += d.length;
      const all = chunks.length === 1 ? d : Buffer.concat(chunks, len);
      if (all.length >= 4 && all[all.length - 4] === 0 && all[all.length - 3] === 0 && all[all.length - 2] === 0) {
        clearTimeout(timer);
        sock.destroy();
        const status = all[all.length - 1];
        const text = all.subarray(0, all.length - 4).toString('utf8');
        if (status !== 0) reject(new Error(`vty "${command}": status ${status}: ${text.trim()}`));
        else resolve(text);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

// ---- the lab ------------------------------------------------------------------------------------------------

export interface SpeakerOptions {
  /** `--bgp-listen`; default 0.0.0.0:179 */
  bgpListen?: string;
  /** The speaker outlives this process (`ingot lab up`). */
  detached?: boolean;
  extraArgs?: string[];
  env?: Record<string, string>;
  /**
   * The mode's arguments instead of standalone mode's `--config <node>/config.yaml --cluster <node>/cluster.yaml`
   * (Kubernetes mode: `['--kubeconfig', FILE]`).
   */
  modeArgs?: string[];
}

export interface SpeakerHandle {
  child: ChildProcess;
  pid: number;
  log: string;
  startedAt: number;
}

export class Topology {
  readonly lab: NetnsLab;
  readonly opts: Required<Omit<TopologyOptions, 'password' | 'holdTime' | 'lan'>> & Pick<TopologyOptions, 'password' | 'holdTime' | 'lan'>;
  readonly nodes: LabNode[];
  readonly dir: string;
  /** The router's addresses on the node segment. */
  readonly router4: string;
  readonly router6: string;
  private readonly speakers = new Map<string, SpeakerHandle>();
  private routerDir = '';
  private routerPidFiles: string[] = [];

  constructor(prefix: string, opts: TopologyOptions, lab: NetnsLab = new NetnsLab(prefix)) {
    this.lab = lab;
    const routerAsn = opts.routerAsn ?? 65000;
    const lan = opts.lan ?? { v4Net: '10.77.0', v6Net: 'fd00:77::', router: 1, firstNode: 11 };
    this.router4 = `${lan.v4Net}.${lan.router}`;
    this.router6 = `${lan.v6Net}${lan.router}`;
    this.opts = {
      nodes: 3,
      routerAsn,
      nodeAsn: 65001,
      gracefulRestart: false,
      passive: false,
      ipv6: true,
      zebra: true,
      peerGroup: false,
      lan,
      ...opts,
    };
    this.dir = this.lab.tempDir('topo');
    this.nodes = Array.from({ length: this.opts.nodes }, (_, i) => {
      const n = i + 1;
      const dir = join(this.dir, `n${n}`);
      mkdirSync(dir, { recursive: true });
      const host = lan.firstNode + i;
      return { ns: `n${n}`, name: `node-${n}`, v4: `${lan.v4Net}.${host}`, v6: `${lan.v6Net}${host}`, dir };
    });
  }

  get prefix(): string {
    return this.lab.prefix;
  }

  node(name: string): LabNode {
    const n = this.nodes.find((x) => x.name === name || x.ns === name);
    if (!n) throw new Error(`no lab node ${name}`);
    return n;
  }

  /** Namespaces, bridge, addresses; then the router daemon. */
  async up(): Promise<void> {
    this.lab.bridge('br', [
      { ns: ROUTER, ifname: LAN_IF, v4: `${this.router4}/24`, v6: `${this.router6}/64`, mac: '02:00:00:77:00:01' },
      ...this.nodes.map((n, i) => ({ ns: n.ns, ifname: LAN_IF, v4: `${n.v4}/24`, v6: `${n.v6}/64`, mac: `02:00:00:77:00:${(0x11 + i).toString(16)}` })),
    ]);
    this.lab.onTeardown(() => {
      for (const h of this.speakers.values()) {
        try {
          process.kill(h.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    });
    await this.startRouter();
  }

  async teardown(): Promise<void> {
    // A frozen (SIGSTOPped) speaker ignores SIGTERM until continued; continue them all first.
    for (const h of this.speakers.values()) {
      try {
        process.kill(h.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await this.lab.teardown();
    if (this.opts.router === 'frr') rmSync(this.frrRunDir, { recursive: true, force: true });
  }

  /** Runs a command in a lab namespace (short name: rtr, n1, ...). */
  exec(ns: string, cmd: string, args: readonly string[] = [], timeoutMs?: number): string {
    return this.lab.exec(ns, cmd, args, timeoutMs === undefined ? {} : { timeoutMs });
  }

  // ---- router -------------------------------------------------------------------------------------------

  get frrRunDir(): string {
    return `/var/run/frr/${this.prefix}`;
  }

  private neighborAddrs(): string[] {
    return this.nodes.map((n) => n.v4);
  }

  /** Starts (or restarts) the router daemon(s). */
  async startRouter(): Promise<void> {
    if (this.routerDir === '') this.routerDir = this.lab.tempDir('router');
    switch (this.opts.router) {
      case 'frr':
        return this.startFrr();
      case 'bird':
        return this.startBird();
      case 'gobgp':
        return this.startGobgp();
    }
  }

  /** Kills the router's BGP daemon (SIGKILL unless told); zebra stays for FRR, as when only bgpd crashes. */
  async stopRouter(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const pidFile = this.routerPidFiles[this.routerPidFiles.length - 1];
    if (!pidFile || !existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    await waitFor(`router pid ${pid} to exit`, () => !alive(pid), { timeoutMs: 10_000, intervalMs: 50 });
    rmSync(pidFile, { force: true });
  }

  private frrBgpdConf(): string {
    const o = this.opts;
    const lines = [
      `hostname ${this.prefix}-rtr`,
      'log timestamp precision 6',
      `router bgp ${o.routerAsn}`,
      ` bgp router-id ${this.router4}`,
      ' no bgp ebgp-requires-policy',
      ' no bgp default ipv4-unicast',
      ' bgp bestpath as-path multipath-relax',
    ];
    if (o.gracefulRestart) lines.push(' bgp graceful-restart');
    if (o.holdTime !== undefined) lines.push(` timers bgp ${Math.max(1, Math.floor(o.holdTime / 3))} ${o.holdTime}`);
    // With a peer group the per-neighbor settings are the group's, as on a home-lab router; else per address.
    const targets = o.peerGroup ? ['NODES'] : this.neighborAddrs();
    if (o.peerGroup) lines.push(' neighbor NODES peer-group');
    for (const a of targets) {
      lines.push(` neighbor ${a} remote-as ${o.nodeAsn}`);
      // FRR's default connect-retry is 120 s; short keeps "router dials back" fast when it dials at all.
      lines.push(` neighbor ${a} timers connect 5`);
      if (o.passive) lines.push(` neighbor ${a} passive`);
      if (o.password !== undefined) lines.push(` neighbor ${a} password ${o.password}`);
    }
    if (o.peerGroup) for (const a of this.neighborAddrs()) lines.push(` neighbor ${a} peer-group NODES`);
    lines.push(' address-family ipv4 unicast', '  maximum-paths 32', '  maximum-paths ibgp 32');
    for (const a of targets) lines.push(`  neighbor ${a} activate`);
    lines.push(' exit-address-family');
    if (o.ipv6) {
      lines.push(' address-family ipv6 unicast', '  maximum-paths 32', '  maximum-paths ibgp 32');
      for (const a of targets) lines.push(`  neighbor ${a} activate`);
      lines.push(' exit-address-family');
    }
    return `${lines.join('\n')}\n`;
  }

  private async startFrr(): Promise<void> {
    const run = this.frrRunDir;
    const first = !existsSync(join(run, 'zebra.pid')) || !this.routerPidFiles.some((f) => f.endsWith('zebra.pid'));
    mkdirSync(run, { recursive: true });
    const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim());
    chownSync(run, uid, gid);
    writeFileSync(join(this.routerDir, 'zebra.conf'), `hostname ${this.prefix}-rtr\n`);
    writeFileSync(join(this.routerDir, 'bgpd.conf'), this.frrBgpdConf());
    execFileSync('chmod', ['-R', 'a+rX', this.routerDir]);
    const common = ['-N', this.prefix, '-d', '-u', 'frr', '-g', 'frr'];
    if (first && this.opts.zebra) {
      const zpid = `${run}/zebra.pid`;
      this.routerPidFiles.push(zpid);
      this.lab.daemon(ROUTER, '/usr/lib/frr/zebra', [...common, '-f', join(this.routerDir, 'zebra.conf'), '-i', zpid], zpid);
      await waitFor('zebra', async () => (await this.frr('show version', 'zebra')).includes('FRRouting'), { timeoutMs: 15_000, intervalMs: 100 });
    }
    const bpid = `${run}/bgpd.pid`;
    this.routerPidFiles.push(bpid);
    const args = [...common, '-f', join(this.routerDir, 'bgpd.conf'), '-i', bpid];
    // Without zebra bgpd must not try to reach it (and treats every next hop as reachable).
    if (!this.opts.zebra) args.push('-Z');
    this.lab.daemon(ROUTER, '/usr/lib/frr/bgpd', args, bpid);
    await waitFor('bgpd', async () => (await this.frr('show bgp summary json')).includes(String(this.opts.routerAsn)), {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  }

  /** Runs one command on FRR's bgpd (or zebra) vty. */
  frr(command: string, daemon: 'bgpd' | 'zebra' = 'bgpd'): Promise<string> {
    return frrVty(join(this.frrRunDir, `${daemon}.vty`), command);
  }

  async frrJson<T = Record<string, unknown>>(command: string, daemon: 'bgpd' | 'zebra' = 'bgpd'): Promise<T> {
    const text = await this.frr(command, daemon);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`FRR "${command}" did not answer JSON: ${text.slice(0, 200)}`);
    }
  }

  /** Configuration commands on FRR's bgpd (through vtysh, which handles `configure terminal` nesting). */
  frrConfigure(lines: readonly string[]): string {
    const args = ['-N', this.prefix, '-c', 'configure terminal', ...lines.flatMap((l) => ['-c', l])];
    return execFileSync('vtysh', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
  }

  private birdConf(): string {
    const o = this.opts;
    const lines = [
      `router id ${this.router4};`,
      'protocol device {}',
      'protocol direct { ipv4; ipv6; interface "eth-lan"; }',
      // merge paths: equal-cost routes from several neighbors become one multipath kernel route (ECMP).
      'protocol kernel kern4 { ipv4 { export all; }; merge paths yes limit 32; }',
      'protocol kernel kern6 { ipv6 { export all; }; merge paths yes limit 32; }',
      'template bgp node {',
      `  local ${this.router4} as ${o.routerAsn};`,
      '  ipv4 { import all; export none; };',
      ...(o.ipv6 ? ['  ipv6 { import all; export none; };'] : []),
      ...(o.holdTime !== undefined ? [`  hold time ${o.holdTime};`] : []),
      ...(o.passive ? ['  passive on;'] : []),
      ...(o.password !== undefined ? [`  password "${o.password}";`] : []),
      ...(o.gracefulRestart ? ['  graceful restart on;'] : []),
      '  connect retry time 5;',
      '}',
    ];
    this.nodes.forEach((n) => lines.push(`protocol bgp ${n.ns} from node { neighbor ${n.v4} as ${o.nodeAsn}; }`));
    return `${lines.join('\n')}\n`;
  }

  private get birdSock(): string {
    return join(this.routerDir, 'bird.ctl');
  }

  private async startBird(): Promise<void> {
    writeFileSync(join(this.routerDir, 'bird.conf'), this.birdConf());
    const pid = join(this.routerDir, 'bird.pid');
    this.routerPidFiles.push(pid);
    this.lab.daemon(ROUTER, 'bird', ['-c', join(this.routerDir, 'bird.conf'), '-s', this.birdSock, '-P', pid], pid);
    await waitFor('bird', () => this.birdc('show status').includes('Daemon is up'), { timeoutMs: 15_000, intervalMs: 100 });
  }

  birdc(command: string): string {
    return execFileSync('birdc', ['-s', this.birdSock, command], { encoding: 'utf8', timeout: 15_000 });
  }

  private gobgpdConf(): string {
    const o = this.opts;
    const lines = [
      '[global.config]',
      `  as = ${o.routerAsn}`,
      `  router-id = "${this.router4}"`,
      '  port = 179',
      `  local-address-list = ["${this.router4}"]`,
    ];
    for (const a of this.neighborAddrs()) {
      lines.push('[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${a}"`, `    peer-as = ${o.nodeAsn}`);
      if (o.password !== undefined) lines.push(`    auth-password = "${o.password}"`);
      if (o.holdTime !== undefined) {
        lines.push('  [neighbors.timers.config]', `    hold-time = ${o.holdTime}`, `    keepalive-interval = ${Math.max(1, Math.floor(o.holdTime / 3))}`);
      }
      lines.push('  [neighbors.transport.config]', `    local-address = "${this.router4}"`, `    passive-mode = ${o.passive}`);
      lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', '      afi-safi-name = "ipv4-unicast"');
      if (o.ipv6) lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', '      afi-safi-name = "ipv6-unicast"');
      if (o.gracefulRestart) lines.push('  [neighbors.graceful-restart.config]', '    enabled = true', '    helper-only = true');
    }
    return `${lines.join('\n')}\n`;
  }

  private async startGobgp(): Promise<void> {
    writeFileSync(join(this.routerDir, 'gobgpd.toml'), this.gobgpdConf());
    const log = openSync(join(this.routerDir, 'gobgpd.log'), 'a');
    const child = this.lab.spawn(
      ROUTER,
      'gobgpd',
      ['-f', join(this.routerDir, 'gobgpd.toml'), '-p', '--api-hosts', '127.0.0.1:50051', '--pprof-disable', '-l', 'info'],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    const pidFile = join(this.routerDir, 'gobgpd.pid');
    writeFileSync(pidFile, String(child.pid));
    this.routerPidFiles.push(pidFile);
    await waitFor('gobgpd', () => this.gobgp(['global']).includes(String(this.opts.routerAsn)), { timeoutMs: 15_000, intervalMs: 100 });
  }

  /** Runs the gobgp CLI against the router's gobgpd. */
  gobgp(args: readonly string[], ns = ROUTER): string {
    return this.exec(ns, 'gobgp', ['-u', '127.0.0.1', '-p', '50051', ...args], 30_000);
  }

  // ---- router queries ---------------------------------------------------------------------------------------

  /** Every prefix the router has in its BGP table for the family, with all paths. */
  async routes(family: 4 | 6 = 4): Promise<RouteMap> {
    switch (this.opts.router) {
      case 'frr':
        return frrRouteMap(await this.frrJson(`show bgp ${family === 4 ? 'ipv4' : 'ipv6'} unicast json`));
      case 'bird':
        return birdRouteMap(this.birdc(`show route all table master${family}`));
      case 'gobgp':
        return gobgpRouteMap(JSON.parse(this.gobgp(['global', 'rib', '-a', family === 4 ? 'ipv4' : 'ipv6', '-j'])) as unknown);
    }
  }

  /** The paths of one prefix with every attribute the router shows (FRR: the per-prefix detail JSON). */
  async route(prefix: string): Promise<RouterPath[]> {
    const family = prefix.includes(':') ? 6 : 4;
    if (this.opts.router === 'frr') {
      const j = await this.frrJson<{ paths?: FrrDetailPath[] }>(`show bgp ${family === 4 ? 'ipv4' : 'ipv6'} unicast ${prefix} json`);
      return (j.paths ?? []).map(frrDetailPath);
    }
    return (await this.routes(family))[prefix] ?? [];
  }

  /** Session state and accepted prefix count per neighbor address. */
  async peers(): Promise<Record<string, PeerState>> {
    const out: Record<string, PeerState> = {};
    switch (this.opts.router) {
      case 'frr': {
        const j = await this.frrJson<Record<string, { bgpState?: string; addressFamilyInfo?: Record<string, { acceptedPrefixCounter?: number }> }>>(
          'show bgp neighbors json',
        );
        for (const [addr, p] of Object.entries(j)) {
          const prefixes = Object.values(p.addressFamilyInfo ?? {}).reduce((s, af) => s + (af.acceptedPrefixCounter ?? 0), 0);
          out[addr] = { state: p.bgpState ?? '?', established: p.bgpState === 'Established', prefixes };
        }
        return out;
      }
      case 'bird': {
        const text = this.birdc('show protocols all');
        for (const n of this.nodes) {
          const block = text.split(/\n(?=\S)/).find((b) => b.startsWith(`${n.ns} `)) ?? '';
          const state = /BGP state:\s+(\S+)/.exec(block)?.[1] ?? '?';
          const prefixes = [...block.matchAll(/Routes:\s+(\d+) imported/g)].reduce((s, m) => s + Number(m[1]), 0);
          out[n.v4] = { state, established: state === 'Established', prefixes };
        }
        return out;
      }
      case 'gobgp': {
        const j = JSON.parse(this.gobgp(['neighbor', '-j'])) as GobgpNeighbor[];
        for (const p of j) {
          const addr = p.conf?.neighbor_address ?? p.state?.neighbor_address ?? '?';
          const st = String(p.state?.session_state ?? '?');
          const prefixes = (p.afi_safis ?? []).reduce((s, af) => s + (af.state?.received ?? 0), 0);
          out[addr] = { state: st, established: st === '6' || /established/i.test(st), prefixes };
        }
        return out;
      }
    }
  }

  /** Waits until the given nodes' sessions (default all) are Established at the router. */
  async waitEstablished(nodes: readonly LabNode[] = this.nodes, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `sessions Established at ${this.opts.router}: ${nodes.map((n) => n.name).join(', ')}`,
      async () => {
        const p = await this.peers();
        return nodes.every((n) => p[n.v4]?.established);
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** The kernel routes of the router namespace for a prefix: next hops of the (possibly multipath) route. */
  kernelNexthops(prefix: string): string[] {
    const fam = prefix.includes(':') ? '-6' : '-4';
    const out = this.exec(ROUTER, 'ip', [fam, '-j', 'route', 'show', prefix]);
    const routes = JSON.parse(out || '[]') as Array<{ gateway?: string; nexthops?: Array<{ gateway?: string }> }>;
    const hops: string[] = [];
    for (const r of routes) {
      if (r.gateway) hops.push(r.gateway);
      for (const h of r.nexthops ?? []) if (h.gateway) hops.push(h.gateway);
    }
    return hops.sort();
  }

  // ---- speaker files and processes ----------------------------------------------------------------------------

  /** A peer entry for the router as every node sees it (router's address and AS). */
  routerPeer(extra: Partial<PeerSpec> = {}): PeerSpec {
    return { peerAddress: this.router4, peerAsn: this.opts.routerAsn, myAsn: this.opts.nodeAsn, ...extra };
  }

  configPath(node: LabNode): string {
    return join(node.dir, 'config.yaml');
  }

  clusterPath(node: LabNode): string {
    return join(node.dir, 'cluster.yaml');
  }

  /** Writes the config to every node (or the given ones). */
  writeConfig(spec: ConfigSpec | string, nodes: readonly LabNode[] = this.nodes): void {
    const text = typeof spec === 'string' ? spec : configYaml(spec);
    for (const n of nodes) writeFileSync(this.configPath(n), text);
  }

  /** Writes the cluster file (Nodes for every lab node plus the Services) to every node (or the given ones). */
  writeCluster(services: readonly ServiceSpec[], nodes: readonly LabNode[] = this.nodes): void {
    const text = `${JSON.stringify(clusterObjects(this.nodes, services))}\n`;
    for (const n of nodes) writeFileSync(this.clusterPath(n), text);
  }

  /** Builds dist/ once, in the foreground, so that parallel speaker starts never race to build it. */
  static prebuild(): void {
    const r = spawnSync(INGOT_BIN, ['--version'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000 });
    if (r.error) throw r.error;
  }

  /** Starts `ingot speaker` in the node's namespace; stdout+stderr go to <node dir>/speaker.log (appended). */
  startSpeaker(node: LabNode, o: SpeakerOptions = {}): SpeakerHandle {
    const old = this.speakers.get(node.name);
    if (old && alive(old.pid)) throw new Error(`${node.name}: a speaker is already running (pid ${old.pid})`);
    const log = join(node.dir, 'speaker.log');
    const fd = openSync(log, 'a');
    writeFileSync(fd, `\n==== start ${new Date().toISOString()}\n`);
    const args = [
      'speaker',
      '--node-name',
      node.name,
      ...(o.modeArgs ?? ['--config', this.configPath(node), '--cluster', this.clusterPath(node)]),
      '--metrics-addr',
      '127.0.0.1:7472',
      '--bgp-listen',
      o.bgpListen ?? '0.0.0.0:179',
      ...(o.extraArgs ?? []),
    ];
    const startedAt = Date.now();
    const child = this.lab.spawn(node.ns, INGOT_BIN, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...(o.env ?? {}) },
      detached: o.detached ?? false,
    });
    closeSync(fd);
    if (o.detached) child.unref();
    if (child.pid === undefined) throw new Error(`${node.name}: speaker did not start`);
    const h: SpeakerHandle = { child, pid: child.pid, log, startedAt };
    this.speakers.set(node.name, h);
    return h;
  }

  speaker(node: LabNode): SpeakerHandle | undefined {
    return this.speakers.get(node.name);
  }

  /**
   * Sends `signal` to the node's speaker. For SIGTERM/SIGKILL/SIGINT waits (up to `timeoutMs`) for the exit and
   * returns its code/signal.
   */
  async stopSpeaker(
    node: LabNode,
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 10_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    const h = this.speakers.get(node.name);
    if (!h) return undefined;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      if (h.child.exitCode !== null || h.child.signalCode !== null) resolve({ code: h.child.exitCode, signal: h.child.signalCode });
      else h.child.once('exit', (code, sig) => resolve({ code, signal: sig }));
    });
    try {
      process.kill(h.pid, signal);
    } catch {
      /* already gone */
    }
    if (signal === 'SIGSTOP' || signal === 'SIGCONT' || signal === 'SIGHUP') return undefined;
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      exited,
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (result === undefined) throw new Error(`${node.name}: speaker did not exit within ${timeoutMs} ms after ${signal}`);
    return result;
  }

  speakerLog(node: LabNode): string {
    try {
      return readFileSync(join(node.dir, 'speaker.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** GET on the speaker's metrics address (inside its namespace); returns status code and body. */
  httpGet(node: LabNode, path: string): { status: number; body: string } {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', this.lab.ns(node.ns), 'curl', '-s', '-m', '5', '-o', '-', '-w', '\n%{http_code}', `http://127.0.0.1:7472${path}`],
      { encoding: 'utf8', timeout: 10_000 },
    );
    const out = r.stdout ?? '';
    const i = out.lastIndexOf('\n');
    return { status: Number(out.slice(i + 1)) || 0, body: out.slice(0, i) };
  }

  /** Waits until the speaker's /readyz answers 200 (files loaded, peers configured). */
  async waitReady(node: LabNode, timeoutMs = 60_000): Promise<void> {
    await waitFor(`${node.name} speaker /readyz`, () => this.httpGet(node, '/readyz').status === 200, { timeoutMs, intervalMs: 100 }).catch((e: Error) => {
      throw new Error(`${e.message}\n${this.speakerLog(node).slice(-2000)}`);
    });
  }

  /** The speaker's /status JSON, or undefined when it does not answer. */
  status(node: LabNode): Record<string, unknown> | undefined {
    const r = this.httpGet(node, '/status');
    if (r.status !== 200) return undefined;
    try {
      return JSON.parse(r.body) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /**
   * tcpdump on the router's LAN interface (every packet to or from the router, including what netem drops on
   * the way out). `filter` is a pcap expression. lines() is what it printed so far; stop() ends it.
   */
  capture(filter: string): Capture {
    const child = this.lab.spawn(ROUTER, 'tcpdump', ['-i', LAN_IF, '-nn', '-l', '-v', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      out.push(...parts);
    });
    let ready = false;
    child.stderr!.on('data', (d: Buffer) => {
      if (/listening on/.test(d.toString())) ready = true;
    });
    return {
      lines: () => out.slice(),
      ready: () => waitFor('tcpdump to listen', () => ready, { timeoutMs: 10_000, intervalMs: 50 }).then(() => undefined),
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await gone;
        }
        if (buf !== '') out.push(buf);
        return out.slice();
      },
    };
  }

  /** Last lines of every speaker log, for assertion messages. */
  logs(lines = 15): string {
    return this.nodes
      .map((n) => {
        const t = this.speakerLog(n).trimEnd().split('\n');
        return `--- ${n.name} speaker.log (last ${lines})\n${t.slice(-lines).join('\n')}`;
      })
      .join('\n');
  }
}

export interface Capture {
  lines(): string[];
  ready(): Promise<void>;
  stop(): Promise<string[]>;
}

/**
 * TCP connection attempts from `src` to port 179 in tcpdump -nn -v output: distinct source ports of SYNs
 * without ACK (a retransmitted SYN is the same attempt, so counting SYN packets would over-count).
 */
export function connectionAttempts(lines: readonly string[], src: string): number {
  const ports = new Set<string>();
  const re = new RegExp(`\\b${src.replace(/\./g, '\\.')}\\.(\\d+) > [0-9.]+\\.179: Flags \\[S\\]`);
  for (const l of lines) {
    const m = re.exec(l);
    if (m) ports.add(m[1]!);
  }
  return ports.size;
}

/**
 * BGP NOTIFICATIONs sent by `src` in tcpdump -v output: tcpdump prints the TCP line (`SRC.PORT > DST.PORT: ...
 * length N: BGP`) and then one decoded line per BGP message; returns those "Notification Message" lines.
 */
export function bgpNotifications(lines: readonly string[], src: string): string[] {
  const out: string[] = [];
  let fromSrc = false;
  for (const l of lines) {
    if (/^\s+\S+\.\d+ > \S+\.\d+: /.test(l)) fromSrc = l.trimStart().startsWith(`${src}.`);
    else if (/^\d/.test(l)) fromSrc = false;
    else if (fromSrc && /Notification Message/.test(l)) out.push(l.trim());
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---- router JSON → RouteMap ----------------------------------------------------------------------------------

interface FrrTablePath {
  valid?: boolean;
  bestpath?: boolean;
  multipath?: boolean;
  stale?: boolean;
  peerId?: string;
  path?: string;
  locPrf?: number;
  nexthops?: Array<{ ip?: string; scope?: string; afi?: string }>;
}

export function frrRouteMap(j: { routes?: Record<string, FrrTablePath[]> }): RouteMap {
  const out: RouteMap = {};
  for (const [prefix, paths] of Object.entries(j.routes ?? {})) {
    out[prefix] = paths.map((p) => {
      const nh = p.nexthops?.find((n) => n.scope !== 'link-local') ?? p.nexthops?.[0];
      const r: RouterPath = { nexthop: nh?.ip ?? '?' };
      if (p.peerId !== undefined) r.peer = p.peerId;
      if (p.bestpath !== undefined) r.best = p.bestpath;
      if (p.multipath !== undefined) r.multipath = p.multipath;
      if (p.stale !== undefined) r.stale = p.stale;
      if (p.locPrf !== undefined) r.localPref = p.locPrf;
      if (p.path !== undefined) r.asPath = p.path;
      return r;
    });
  }
  return out;
}

export interface FrrDetailPath {
  valid?: boolean;
  stale?: boolean;
  multipath?: boolean;
  bestpath?: { overall?: boolean };
  locPrf?: number;
  localpref?: number;
  aspath?: { string?: string };
  community?: { string?: string };
  largeCommunity?: { string?: string };
  nexthops?: Array<{ ip: string; scope?: string }>;
  peer?: { peerId?: string };
}

function frrDetailPath(p: FrrDetailPath): RouterPath {
  const nh = p.nexthops?.find((n) => n.scope !== 'link-local') ?? p.nexthops?.[0];
  const r: RouterPath = { nexthop: nh?.ip ?? '?' };
  if (p.peer?.peerId !== undefined) r.peer = p.peer.peerId;
  if (p.bestpath?.overall !== undefined) r.best = p.bestpath.overall;
  if (p.multipath !== undefined) r.multipath = p.multipath;
  if (p.stale !== undefined) r.stale = p.stale;
  const lp = p.localpref ?? p.locPrf;
  if (lp !== undefined) r.localPref = lp;
  if (p.aspath?.string !== undefined) r.asPath = p.aspath.string;
  if (p.community?.string) r.communities = p.community.string.split(' ');
  if (p.largeCommunity?.string) r.largeCommunities = p.largeCommunity.string.split(' ');
  return r;
}

/**
 * `birdc show route all` text → RouteMap. A line starting in column 0 opens a prefix; an indented
 * "unicast [proto ...]" line opens another path of the same prefix; tab-indented lines carry the next hop(s)
 * and the BGP attributes.
 */
export function birdRouteMap(text: string): RouteMap {
  const out: RouteMap = {};
  let prefix = '';
  let cur: RouterPath | undefined;
  for (const line of text.split('\n')) {
    const open = /^(\S+\/\d+)\s+\S+\s+\[(\S+)/.exec(line);
    const more = /^\s+(?:unicast|unreachable|blackhole)\s+\[(\S+)/.exec(line);
    if (open) {
      prefix = open[1]!;
      cur = { nexthop: '?', peer: open[2]! };
      (out[prefix] ??= []).push(cur);
      if (/\*/.test(line.slice(open[0].length))) cur.best = true;
    } else if (more && prefix !== '') {
      cur = { nexthop: '?', peer: more[1]! };
      (out[prefix] ??= []).push(cur);
    } else if (cur) {
      const via = /^\s+via (\S+)/.exec(line);
      const attr = /^\s+BGP\.(\w+): (.*)$/.exec(line);
      if (via && cur.nexthop === '?') cur.nexthop = via[1]!;
      else if (attr) {
        const [, k, v] = attr;
        if (k === 'local_pref') cur.localPref = Number(v);
        else if (k === 'as_path') cur.asPath = v!.trim();
        else if (k === 'community') cur.communities = [...v!.matchAll(/\((\d+),(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
        else if (k === 'large_community') cur.largeCommunities = [...v!.matchAll(/\((\d+), (\d+), (\d+)\)/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
        else if (k === 'next_hop' && cur.nexthop === '?') cur.nexthop = v!.trim().split(' ')[0]!;
      }
    }
  }
  return out;
}

interface GobgpNeighbor {
  conf?: { neighbor_address?: string };
  state?: { neighbor_address?: string; session_state?: number | string };
  afi_safis?: Array<{ state?: { received?: number; accepted?: number } }>;
}

interface GobgpPath {
  nlri?: { prefix?: string };
  attrs?: Array<{
    type: number;
    nexthop?: string;
    value?: unknown;
    communities?: number[];
    as_paths?: Array<{ asns?: number[] }>;
  }>;
  best?: boolean;
  stale?: boolean;
  'source-id'?: string;
  'neighbor-ip'?: string;
}

/** `gobgp global rib -j`: {prefix: [path]}; IPv4 next hops in attribute 3, IPv6 in MP_REACH (14). */
export function gobgpRouteMap(j: unknown): RouteMap {
  const out: RouteMap = {};
  for (const [prefix, paths] of Object.entries((j ?? {}) as Record<string, GobgpPath[]>)) {
    out[prefix] = paths.map((p) => {
      const nh = p.attrs?.find((a) => a.type === 3)?.nexthop ?? p.attrs?.find((a) => a.type === 14)?.nexthop ?? '?';
      const r: RouterPath = { nexthop: nh };
      const peer = p['neighbor-ip'] ?? p['source-id'];
      if (peer !== undefined) r.peer = peer;
      if (p.best !== undefined) r.best = p.best;
      if (p.stale !== undefined) r.stale = p.stale;
      const lp = p.attrs?.find((a) => a.type === 5);
      if (lp && typeof lp.value === 'number') r.localPref = lp.value;
      const asp = p.attrs?.find((a) => a.type === 2);
      if (asp) r.asPath = (asp.as_paths ?? []).flatMap((seg) => seg.asns ?? []).join(' ');
      const comm = p.attrs?.find((a) => a.type === 8);
      if (comm?.communities) r.communities = comm.communities.map((c) => `${c >>> 16}:${c & 0xffff}`);
      return r;
    });
  }
  return out;
}

/** The next hops of one prefix in a RouteMap, sorted (empty when the prefix is absent). */
export function nexthopsOf(m: RouteMap, prefix: string): string[] {
  return (m[prefix] ?? []).map((p) => p.nexthop).sort();
}

// Standalone mode (../shared/spec/cli.md, `ingot speaker --config F --cluster F`): no Kubernetes. The same two
// files as `ingot plan`; the same deterministic allocation (src/plan) for Services without status IPs; the
// same pure announcement decision (src/announce) for this node; the result goes to the BgpSpeaker. Files are
// re-read when they change (a directory watch, so editors that write a new file and rename it over the old
// one are seen) and on SIGHUP (the CLI calls reload()). A file that no longer parses is logged, naming the
// file and the error, and its last good content stays in force.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import {
  bgpWithdrawReason,
  buildAdvertisements,
  peersForNode,
  poolOfService,
  type Advertisement,
  type AnnouncedService,
  type NodeView,
} from '../announce/index.js';
import { parseConfig, type Config, type Peer } from '../config/index.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import { nullLogger } from '../log.js';
import { parseCluster, type Cluster } from '../plan/cluster.js';
import { planCluster } from '../plan/plan.js';
import { announceContext, serviceView } from '../plan/announce.js';
import type { BgpSpeaker, ServiceAnnouncement } from './bgp-speaker.js';

/** Reason for a Service whose pool is a layer2 pool: not announced over BGP (Layer 2 is its own issue). */
export const LAYER2_REASON = 'layer2Pool';

export interface NodeState {
  /** Config peers whose node-selectors select this node (MetalLB §3.2). */
  readonly peers: readonly Peer[];
  /** What every session carries: the same list to every peer, as MetalLB does. */
  readonly advertisements: readonly Advertisement[];
  /** Every LoadBalancer Service, announced or with the reason it is not. Sorted by key. */
  readonly services: readonly ServiceAnnouncement[];
  /** The node has no Node object in the cluster file (labels taken as empty). */
  readonly nodeMissing: boolean;
}

/**
 * What `nodeName` announces, from a config and a cluster: allocation exactly as `ingot plan` does it
 * (planCluster), then for each LoadBalancer Service the BGP decision for this node. Pure.
 */
export function nodeState(config: Config, cluster: Cluster, nodeName: string): NodeState {
  const nodeObj = cluster.nodes.find((n) => n.name === nodeName);
  const node: NodeView = { name: nodeName, labels: nodeObj?.labels ?? {} };
  const plan = planCluster(config, cluster, { node: nodeName, announce: false });
  const { endpointsOf } = announceContext(cluster);
  const announced: AnnouncedService[] = [];
  const services: { key: string; ips: readonly string[]; reason: string | null }[] = [];
  for (const svc of cluster.services) {
    if (svc.type !== 'LoadBalancer') continue;
    const ips = plan.services[svc.key]?.ips ?? [];
    const view = serviceView(svc, ips);
    const endpoints = endpointsOf.get(svc.key) ?? [];
    let reason: string | null = bgpWithdrawReason(config, view, endpoints, node);
    const pool = poolOfService(config, view);
    if (reason === null && pool.ok && pool.pool.protocol !== 'bgp') reason = LAYER2_REASON;
    if (reason === null && pool.ok) announced.push({ key: svc.key, ips, pool: pool.pool });
    services.push({ key: svc.key, ips, reason });
  }
  const advertisements = buildAdvertisements(announced);
  const prefixesOf = new Map<string, string[]>();
  for (const a of advertisements) {
    for (const s of a.services) {
      let l = prefixesOf.get(s);
      if (l === undefined) prefixesOf.set(s, (l = []));
      l.push(a.prefix);
    }
  }
  return {
    peers: peersForNode(config, node),
    advertisements,
    services: services
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((s) => ({ service: s.key, ips: [...s.ips], prefixes: s.reason === null ? (prefixesOf.get(s.key) ?? []) : [], reason: s.reason })),
    nodeMissing: nodeObj === undefined,
  };
}

export type LoadError = { readonly file: string; readonly kind: 'unreadable' | 'invalid-config' | 'invalid-cluster'; readonly error: string };

export interface StandaloneOptions {
  readonly nodeName: string;
  readonly configFile: string;
  readonly clusterFile: string;
  readonly speaker: BgpSpeaker;
  readonly logger?: Logger;
  /** Quiet time after the last file event before re-reading (ms). */
  readonly debounceMs?: number;
  /** Watch the files' directories (default true; tests call reload() themselves). */
  readonly watch?: boolean;
  /** Timers (the debounce); default the system clock. */
  readonly clock?: Clock;
}

/** Keeps a BgpSpeaker in line with the two files. */
export class Standalone {
  private readonly o: StandaloneOptions;
  private readonly log: Logger;
  private config: Config | null = null;
  private cluster: Cluster | null = null;
  private configText: string | null = null;
  private clusterText: string | null = null;
  private watchers: FSWatcher[] = [];
  private debounce: TimerHandle | undefined;
  private readonly clock: Clock;
  private closed = false;
  private warnedNodeMissing = false;
  /** Files whose latest content is bad (their last good content is in force). */
  readonly stale = new Map<string, string>();
  /** How many times a state was applied to the speaker. */
  applied = 0;

  constructor(o: StandaloneOptions) {
    this.o = { ...o, configFile: resolve(o.configFile), clusterFile: resolve(o.clusterFile) };
    this.log = o.logger ?? nullLogger;
    this.clock = o.clock ?? systemClock();
  }

  /**
   * First load: both files must be readable and valid (there is no last good state to fall back on).
   * Returns the error otherwise; nothing is applied then. Starts watching on success.
   */
  start(): LoadError | null {
    const errors = this.read();
    if (this.config === null || this.cluster === null) {
      return errors[0] ?? { file: this.o.configFile, kind: 'unreadable', error: 'not loaded' };
    }
    this.apply();
    if (this.o.watch !== false) this.startWatching();
    return null;
  }

  /** Re-reads both files and applies what changed (SIGHUP, file events). Bad files keep their last good state. */
  reload(why: string): void {
    if (this.closed) return;
    const beforeConfig = this.configText;
    const beforeCluster = this.clusterText;
    this.read();
    if (this.configText === beforeConfig && this.clusterText === beforeCluster && why !== 'SIGHUP') return;
    this.log.info('reload', { why });
    this.apply();
  }

  close(): void {
    this.closed = true;
    if (this.debounce !== undefined) this.clock.clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  /** Reads and parses both files; a good file replaces the state, a bad one is reported and ignored. */
  private read(): LoadError[] {
    const errors: LoadError[] = [];
    const cfg = readText(this.o.configFile);
    if (!cfg.ok) errors.push({ file: this.o.configFile, kind: 'unreadable', error: cfg.error });
    else if (cfg.text !== this.configText) {
      const r = parseConfig(cfg.text);
      if (r.ok) {
        this.config = r.config;
        this.configText = cfg.text;
        this.log.info('configLoaded', { file: this.o.configFile, peers: r.config.peers.length, pools: r.config.pools.length });
      } else errors.push({ file: this.o.configFile, kind: 'invalid-config', error: r.error });
    }
    const cl = readText(this.o.clusterFile);
    if (!cl.ok) errors.push({ file: this.o.clusterFile, kind: 'unreadable', error: cl.error });
    else if (cl.text !== this.clusterText) {
      const r = parseCluster(cl.text);
      if (r.ok) {
        this.cluster = r.cluster;
        this.clusterText = cl.text;
        this.log.info('clusterLoaded', { file: this.o.clusterFile, services: r.cluster.services.length, nodes: r.cluster.nodes.length });
      } else errors.push({ file: this.o.clusterFile, kind: 'invalid-cluster', error: r.error });
    }
    for (const f of [this.o.configFile, this.o.clusterFile]) {
      const e = errors.find((x) => x.file === f);
      if (e === undefined) {
        if (this.stale.delete(f)) this.log.info('fileRecovered', { file: f });
      } else if (this.stale.get(f) !== e.error) {
        this.stale.set(f, e.error);
        // MetalLB's event name for "running on an old config" (metallb-compat.md §2.9).
        this.log.error('configStale', { file: f, error: e.error, keeping: 'last good state' });
      }
    }
    return errors;
  }

  private apply(): void {
    if (this.config === null || this.cluster === null) return;
    const st = nodeState(this.config, this.cluster, this.o.nodeName);
    if (st.nodeMissing && !this.warnedNodeMissing) {
      this.warnedNodeMissing = true;
      this.log.warn('nodeNotInCluster', { node: this.o.nodeName, file: this.o.clusterFile, assuming: 'no labels' });
    }
    const sp = this.o.speaker;
    // Peers first, then their tables, in one synchronous turn: no session can reach Established in between,
    // so End-of-RIB (RFC 4724) never goes out before the full table.
    sp.setPeers(st.peers);
    sp.setAdvertisementsAll(st.advertisements);
    sp.setServices(st.services);
    this.applied++;
    this.log.info('stateSynced', {
      peers: st.peers.length,
      announced: st.services.filter((s) => s.reason === null).length,
      services: st.services.length,
      prefixes: st.advertisements.length,
    });
  }

  private startWatching(): void {
    const dirs = new Map<string, Set<string>>();
    for (const f of [this.o.configFile, this.o.clusterFile]) {
      const d = dirname(f);
      let s = dirs.get(d);
      if (s === undefined) dirs.set(d, (s = new Set()));
      s.add(basename(f));
    }
    for (const [dir, names] of dirs) {
      try {
        const w = watch(dir, { persistent: false }, (_event, filename) => {
          // The directory, not the file: a rename-replace gives the file a new inode that a file watch
          // would never see. Filter on the name (null: unknown, re-read to be safe).
          if (filename !== null && !names.has(filename.toString())) return;
          this.schedule();
        });
        w.on('error', (e) => this.log.error('watchError', { dir, error: e }));
        this.watchers.push(w);
      } catch (e) {
        this.log.error('watchError', { dir, error: e, fallback: 'SIGHUP only' });
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.debounce !== undefined) this.clock.clearTimeout(this.debounce);
    this.debounce = this.clock.setTimeout(() => {
      this.debounce = undefined;
      this.reload('file changed');
    }, this.o.debounceMs ?? 200);
  }
}

function readText(file: string): { ok: true; text: string } | { ok: false; error: string } {
  try {
    return { ok: true, text: readFileSync(file, 'utf8') };
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String((e as NodeJS.ErrnoException).code) : String(e);
    return { ok: false, error: `cannot read ${file}: ${code}` };
  }
}

// Standalone mode (../shared/spec/cli.md, `ingot speaker --config F --cluster F`): no Kubernetes. The same two
// files as `ingot plan`; the same deterministic allocation (src/plan) for Services without status IPs; the
// same pure announcement decision (src/announce) for this node; the result goes to the BgpSpeaker. Files are
// re-read when they change (a directory watch, so editors that write a new file and rename it over the old
// one are seen) and on SIGHUP (the CLI calls reload()). A file that no longer parses is logged, naming the
// file and the error, and its last good content stays in force.
import { resolve } from 'node:path';
import type { Clock } from '../bgp/clock.js';
import type { SpeakerMetrics } from '../metrics/registry.js';
import { FileSource, MAX_CLUSTER_FILE_BYTES, MAX_CONFIG_FILE_BYTES, type FileContent } from './file-source.js';
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

export type LoadError = {
  readonly file: string;
  readonly kind: 'unreadable' | 'not-regular' | 'too-large' | 'empty' | 'invalid-config' | 'invalid-cluster' | 'internal';
  readonly error: string;
};

export interface StandaloneOptions {
  readonly nodeName: string;
  readonly configFile: string;
  readonly clusterFile: string;
  readonly speaker: BgpSpeaker;
  readonly logger?: Logger;
  /** `metallb_k8s_client_config_{loaded,stale}_bool`. */
  readonly metrics?: Pick<SpeakerMetrics, 'setConfigState'>;
  /** Timers (settle, poll). Default: the system clock. */
  readonly clock?: Clock;
  /** A changed file is read once its size and mtime have been stable this long (ms). Default 250. */
  readonly settleMs?: number;
  /** Safety-net poll of both files (ms); 0 disables. Default 5000. */
  readonly pollMs?: number;
  /** @deprecated old name of settleMs */
  readonly debounceMs?: number;
  /** Watch the files' directories (default true; tests call reload() or check() themselves). */
  readonly watch?: boolean;
  /** Size limits; defaults MAX_CONFIG_FILE_BYTES (1 MiB) and MAX_CLUSTER_FILE_BYTES (64 MiB). */
  readonly maxConfigBytes?: number;
  readonly maxClusterBytes?: number;
}

/** Keeps a BgpSpeaker in line with the two files. Nothing it does throws into a timer, watcher or signal. */
export class Standalone {
  private readonly o: StandaloneOptions;
  private readonly log: Logger;
  private config: Config | null = null;
  private cluster: Cluster | null = null;
  private readonly configSrc: FileSource;
  private readonly clusterSrc: FileSource;
  private closed = false;
  private warnedNodeMissing = false;
  /** Set by a file handler when a new good state is waiting to be applied. */
  private dirty = false;
  /** While true (start, reload), handlers only record; the caller applies once. */
  private batching = false;
  /** Files whose latest content is bad (their last good content is in force), with the error. */
  readonly stale = new Map<string, string>();
  /** How many times a state was applied to the speaker. */
  applied = 0;
  /** The latest failure to apply a state (internal error), for /status. */
  lastApplyError: string | null = null;

  constructor(o: StandaloneOptions) {
    this.o = { ...o, configFile: resolve(o.configFile), clusterFile: resolve(o.clusterFile) };
    this.log = o.logger ?? nullLogger;
    const common = {
      ...(o.clock !== undefined ? { clock: o.clock } : {}),
      logger: this.log,
      settleMs: o.settleMs ?? o.debounceMs ?? 250,
      pollMs: o.pollMs ?? 5000,
      watch: o.watch !== false,
    };
    this.configSrc = new FileSource({
      ...common,
      path: this.o.configFile,
      maxBytes: o.maxConfigBytes ?? MAX_CONFIG_FILE_BYTES,
      onContent: (f) => this.guard(this.o.configFile, () => this.onConfig(f)),
      onError: (e) => this.markStale(this.o.configFile, e.kind, e.error),
      onUnchanged: () => this.markGood(this.o.configFile),
    });
    this.clusterSrc = new FileSource({
      ...common,
      path: this.o.clusterFile,
      maxBytes: o.maxClusterBytes ?? MAX_CLUSTER_FILE_BYTES,
      onContent: (f) => this.guard(this.o.clusterFile, () => this.onCluster(f)),
      onError: (e) => this.markStale(this.o.clusterFile, e.kind, e.error),
      onUnchanged: () => this.markGood(this.o.clusterFile),
    });
  }

  /**
   * First load: both files must be readable and valid (there is no last good state to fall back on).
   * Returns the error otherwise; nothing is applied then. Starts watching on success.
   */
  start(): LoadError | null {
    const errors: LoadError[] = [];
    this.batching = true;
    try {
      const r1 = this.configSrc.readNow('start');
      if (!r1.ok) errors.push({ file: this.o.configFile, kind: r1.kind, error: r1.error });
      const r2 = this.clusterSrc.readNow('start');
      if (!r2.ok) errors.push({ file: this.o.clusterFile, kind: r2.kind, error: r2.error });
    } finally {
      this.batching = false;
    }
    if (this.config === null || this.cluster === null) {
      for (const f of [this.o.configFile, this.o.clusterFile]) {
        const e = this.staleKinds.get(f);
        if (e !== undefined && !errors.some((x) => x.file === f)) errors.push({ file: f, kind: e, error: this.stale.get(f) ?? '' });
      }
      return errors[0] ?? { file: this.o.configFile, kind: 'internal', error: 'not loaded' };
    }
    if (!this.applyNow()) return { file: this.o.clusterFile, kind: 'internal', error: this.lastApplyError ?? 'apply failed' };
    this.configSrc.start();
    this.clusterSrc.start();
    return null;
  }

  /** Re-reads both files now and applies what changed (SIGHUP). Bad files keep their last good state. Never throws. */
  reload(why: string): void {
    if (this.closed) return;
    try {
      this.batching = true;
      try {
        this.configSrc.readNow(why, why === 'SIGHUP');
        this.clusterSrc.readNow(why, why === 'SIGHUP');
      } finally {
        this.batching = false;
      }
      if (this.dirty || why === 'SIGHUP') {
        this.log.info('reload', { why });
        this.applyNow();
      }
    } catch (e) {
      this.internalError('reload', e);
    }
  }

  /** Looks at both files for changes (what the watch and the poll do); changes apply once they settle. */
  check(): void {
    this.configSrc.check();
    this.clusterSrc.check();
  }

  close(): void {
    this.closed = true;
    this.configSrc.close();
    this.clusterSrc.close();
  }

  /** For /status: which files are stale, and why. */
  statusFiles(): { staleFiles: Record<string, string>; lastApplyError: string | null } {
    return { staleFiles: Object.fromEntries(this.stale), lastApplyError: this.lastApplyError };
  }

  private readonly staleKinds = new Map<string, LoadError['kind']>();

  private onConfig(f: FileContent): void {
    const r = parseConfig(f.text);
    if (!r.ok) return this.markStale(this.o.configFile, 'invalid-config', r.error);
    // The config is checked against the cluster in force before it replaces anything (a state that cannot be
    // computed must not replace the last good one).
    if (this.cluster !== null && !this.tryState(r.config, this.cluster, this.o.configFile)) return;
    this.config = r.config;
    this.log.info('configLoaded', { file: this.o.configFile, peers: r.config.peers.length, pools: r.config.pools.length });
    this.markGood(this.o.configFile);
    this.changed();
  }

  private onCluster(f: FileContent): void {
    const r = parseCluster(f.text);
    if (!r.ok) return this.markStale(this.o.clusterFile, 'invalid-cluster', r.error);
    if (this.config !== null && !this.tryState(this.config, r.cluster, this.o.clusterFile)) return;
    this.cluster = r.cluster;
    this.log.info('clusterLoaded', { file: this.o.clusterFile, services: r.cluster.services.length, nodes: r.cluster.nodes.length });
    this.markGood(this.o.clusterFile);
    this.changed();
  }

  /** Computes the node state of a candidate; on failure the candidate file is marked stale. */
  private tryState(config: Config, cluster: Cluster, file: string): boolean {
    try {
      this.pendingState = nodeState(config, cluster, this.o.nodeName);
      return true;
    } catch (e) {
      this.markStale(file, 'internal', `cannot compute this node's state: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  private pendingState: NodeState | null = null;

  private changed(): void {
    this.dirty = true;
    if (!this.batching) this.applyNow();
  }

  /** Runs `fn` (a file handler); anything it throws marks the file stale and is logged. */
  private guard(file: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.markStale(file, 'internal', `internal error: ${e instanceof Error ? e.message : String(e)}`);
      this.log.error('reloadError', { file, error: e });
    }
  }

  private markStale(file: string, kind: LoadError['kind'], error: string): void {
    this.staleKinds.set(file, kind);
    if (this.stale.get(file) !== error) {
      this.stale.set(file, error);
      // MetalLB's event name for "running on an old config" (metallb-compat.md §2.9).
      this.log.error('configStale', { file, kind, error, keeping: this.config !== null && this.cluster !== null ? 'last good state' : 'nothing loaded yet' });
    }
    this.reportMetrics();
  }

  private markGood(file: string): void {
    this.staleKinds.delete(file);
    if (this.stale.delete(file)) this.log.info('fileRecovered', { file });
    this.reportMetrics();
  }

  private reportMetrics(): void {
    try {
      this.o.metrics?.setConfigState(this.config !== null && this.cluster !== null, this.stale.size > 0);
    } catch (e) {
      this.log.error('metricsError', { error: e });
    }
  }

  private internalError(where: string, e: unknown): void {
    this.lastApplyError = `${where}: ${e instanceof Error ? e.message : String(e)}`;
    this.log.error('internalError', { where, error: e });
  }

  /** Applies the current state to the speaker. Returns false (and reports) when that failed. */
  private applyNow(): boolean {
    this.dirty = false;
    if (this.config === null || this.cluster === null || this.closed) return true;
    try {
      const st = this.pendingState ?? nodeState(this.config, this.cluster, this.o.nodeName);
      this.pendingState = null;
      this.apply(st);
      this.lastApplyError = null;
      this.reportMetrics();
      return true;
    } catch (e) {
      this.pendingState = null;
      this.internalError('apply', e);
      return false;
    }
  }

  private apply(st: NodeState): void {
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
}

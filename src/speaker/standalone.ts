// Standalone mode (../shared/spec/cli.md, `ingot speaker --config F --cluster F`): no Kubernetes. The files'
// StateSource (src/agent/types.ts): the same two files as `ingot plan`, the same deterministic allocation
// (src/plan) for Services without status IPs; each file state is diffed against the last one and fed to
// the node agent as incremental updates (the same agent the informers feed in Kubernetes mode). Files are
// read through src/speaker/file-source.ts (regular files only, size limits, settled before they are read,
// directory watch plus a poll, so rename-replace and kubelet `..data` symlink swaps are seen) and on SIGHUP
// (the CLI calls reload()). A file that no longer parses is logged, naming the file and the error, and its
// last good content stays in force; nothing here throws into a timer, a watcher or a signal handler.
import { resolve } from 'node:path';
import type { EndpointView, NodeView, ServiceView } from '../announce/index.js';
import type { NodeAgent } from '../agent/agent.js';
import type { StateSource, StateSourceError } from '../agent/types.js';
import type { Clock } from '../clock.js';
import { parseConfig, type Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { nullLogger } from '../log.js';
import type { SpeakerMetrics } from '../metrics/registry.js';
import { parseCluster, type Cluster, type ClusterResult } from '../plan/cluster.js';
import { parseClusterInWorker, WORKER_PARSE_BYTES } from '../plan/cluster-async.js';
import { planCluster } from '../plan/plan.js';
import { announceContext, serviceView } from '../plan/announce.js';
import { FileSource, MAX_CLUSTER_FILE_BYTES, MAX_CONFIG_FILE_BYTES, type FileContent } from './file-source.js';

/** One file state as the agent sees it. */
interface Snapshot {
  readonly config: Config;
  readonly node: NodeView;
  /** LoadBalancer Services with the IPs they announce (status IPs, else the allocation). */
  readonly services: ReadonlyMap<string, ServiceView>;
  readonly endpoints: ReadonlyMap<string, readonly EndpointView[]>;
  /** The node has no Node object in the cluster file (labels taken as empty). */
  readonly nodeMissing: boolean;
}

/**
 * The agent's inputs from a config and a cluster for `nodeName`: allocation exactly as `ingot plan` does it
 * (planCluster), then per LoadBalancer Service its view and endpoints. Pure.
 */
export function snapshotOf(config: Config, cluster: Cluster, nodeName: string): Snapshot {
  const nodeObj = cluster.nodes.find((n) => n.name === nodeName);
  const plan = planCluster(config, cluster, { node: nodeName, announce: false });
  const { endpointsOf } = announceContext(cluster);
  const services = new Map<string, ServiceView>();
  for (const svc of cluster.services) {
    if (svc.type !== 'LoadBalancer') continue;
    services.set(svc.key, serviceView(svc, plan.services[svc.key]?.ips ?? []));
  }
  return { config, node: { name: nodeName, labels: nodeObj?.labels ?? {} }, services, endpoints: endpointsOf, nodeMissing: nodeObj === undefined };
}

/** Feeds the difference between two snapshots to the agent (everything when `prev` is null), in one batch. */
export function applySnapshot(agent: NodeAgent, prev: Snapshot | null, next: Snapshot): number {
  let changed = 0;
  agent.batch(() => {
    if (prev === null || !sameLabels(prev.node.labels, next.node.labels)) agent.setNode(next.node);
    if (prev === null || prev.config !== next.config) agent.setConfig(next.config);
    if (prev !== null) {
      for (const key of prev.services.keys()) {
        if (next.services.has(key)) continue;
        agent.deleteService(key);
        changed++;
      }
    }
    for (const [key, view] of next.services) {
      const was = prev?.services.get(key);
      if (was !== undefined && sameView(was, view)) continue;
      agent.upsertService(view);
      changed++;
    }
    const keys = new Set([...(prev?.endpoints.keys() ?? []), ...next.endpoints.keys()]);
    for (const key of keys) {
      const a = prev?.endpoints.get(key) ?? [];
      const b = next.endpoints.get(key) ?? [];
      if (prev !== null && sameEndpoints(a, b)) continue;
      agent.setEndpoints(key, b);
    }
  });
  return changed;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function sameView(a: ServiceView, b: ServiceView): boolean {
  return a.type === b.type && a.externalTrafficPolicy === b.externalTrafficPolicy && a.ips.join() === b.ips.join();
}

function sameEndpoints(a: readonly EndpointView[], b: readonly EndpointView[]): boolean {
  return a.length === b.length && a.every((e, i) => e.nodeName === b[i]!.nodeName && e.ready === b[i]!.ready);
}

export type LoadError = StateSourceError;

export interface StandaloneOptions {
  readonly nodeName: string;
  readonly configFile: string;
  readonly clusterFile: string;
  /** The node agent this source feeds. */
  readonly agent: NodeAgent;
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
  /** Size limits; defaults MAX_CONFIG_FILE_BYTES (1 MiB) and MAX_CLUSTER_FILE_BYTES (256 MiB). */
  readonly maxConfigBytes?: number;
  readonly maxClusterBytes?: number;
  /** Cluster files of at least this many bytes are parsed in a worker thread (default 1 MiB). */
  readonly workerParseBytes?: number;
  /**
   * Called with each newly applied cluster file (first load included), before the agent gets the state:
   * the speaker takes the Layer 2 members (Nodes and their InternalIPs) from it.
   */
  readonly onCluster?: (cluster: Cluster) => void;
}

/** The files' StateSource: keeps a node agent in line with the two files. Nothing it does throws. */
export class Standalone implements StateSource {
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
  private appliedCluster: Cluster | null = null;
  /** Files whose latest content is bad (their last good content is in force), with the error. */
  readonly stale = new Map<string, string>();
  private last: Snapshot | null = null;
  /** How many times a state was applied to the agent. */
  applied = 0;
  /** The latest failure to apply a state (internal error), for /status. */
  lastApplyError: string | null = null;
  /** A big cluster file being parsed in a worker (only the newest one counts). */
  private parsing: Promise<void> | null = null;
  private parseSeq = 0;
  /** start() is waiting for a worker parse: the parse only records, start() applies. */
  private starting = false;

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
   * Returns the error otherwise; nothing is applied then. Starts watching on success. A big cluster file is
   * parsed in a worker thread: meanwhile the config's peers already get their sessions (when no peer has
   * node-selectors, so the node's labels cannot change which peers apply), and End-of-RIB waits for the
   * routes (the table is incomplete until the first apply).
   */
  start(): LoadError | null | Promise<LoadError | null> {
    const errors: LoadError[] = [];
    this.batching = true;
    this.starting = true;
    try {
      const r1 = this.configSrc.readNow('start');
      if (!r1.ok) errors.push({ file: this.o.configFile, kind: r1.kind, error: r1.error });
      const r2 = this.clusterSrc.readNow('start');
      if (!r2.ok) errors.push({ file: this.o.clusterFile, kind: r2.kind, error: r2.error });
    } finally {
      this.batching = false;
    }
    const parsing = this.parsing;
    if (parsing === null) return this.finishStart(errors);
    const config = this.config;
    if (config !== null && config.peers.every((p) => p.nodeSelectors.length === 0)) {
      try {
        this.o.agent.setConfig(config);
        this.log.info('peersStarted', { peers: config.peers.length, while: 'the cluster file is parsed' });
      } catch (e) {
        this.internalError('early peers', e);
      }
    }
    return parsing.then(() => this.finishStart(errors));
  }

  private finishStart(errors: LoadError[]): LoadError | null {
    this.starting = false;
    if (this.config === null || this.cluster === null) {
      for (const f of [this.o.configFile, this.o.clusterFile]) {
        const e = this.staleKinds.get(f);
        if (e !== undefined && !errors.some((x) => x.file === f)) errors.push({ file: f, kind: e, error: this.stale.get(f) ?? '' });
      }
      return errors[0] ?? { file: this.o.configFile, kind: 'internal', error: 'not loaded' };
    }
    if (!this.applyNow()) return { file: this.o.clusterFile, kind: 'internal', error: this.lastApplyError ?? 'apply failed' };
    if (this.closed) return null;
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
    const seq = ++this.parseSeq;
    if (f.text.length >= (this.o.workerParseBytes ?? WORKER_PARSE_BYTES)) {
      // Off the main thread: KEEPALIVEs, sessions and /healthz keep going while it parses.
      const p = parseClusterInWorker(f.text).then((r) => {
        if (seq !== this.parseSeq || this.closed) return;
        this.guard(this.o.clusterFile, () => this.acceptCluster(r));
      });
      this.parsing = p.finally(() => {
        if (this.parsing === p || seq === this.parseSeq) this.parsing = null;
      });
      return;
    }
    this.acceptCluster(parseCluster(f.text));
  }

  private acceptCluster(r: ClusterResult): void {
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
      this.pendingState = snapshotOf(config, cluster, this.o.nodeName);
      return true;
    } catch (e) {
      this.markStale(file, 'internal', `cannot compute this node's state: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  private pendingState: Snapshot | null = null;

  private changed(): void {
    this.dirty = true;
    if (!this.batching && !this.starting) this.applyNow();
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

  /** Applies the current state to the agent. Returns false (and reports) when that failed. */
  private applyNow(): boolean {
    this.dirty = false;
    if (this.config === null || this.cluster === null || this.closed) return true;
    try {
      const st = this.pendingState ?? snapshotOf(this.config, this.cluster, this.o.nodeName);
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

  private apply(next: Snapshot): void {
    if (this.o.onCluster !== undefined && this.cluster !== null && this.cluster !== this.appliedCluster) {
      try {
        this.o.onCluster(this.cluster);
      } catch (e) {
        this.log.error('clusterHookFailed', { error: e });
      }
    }
    this.appliedCluster = this.cluster;
    if (next.nodeMissing && !this.warnedNodeMissing) {
      this.warnedNodeMissing = true;
      this.log.warn('nodeNotInCluster', { node: this.o.nodeName, file: this.o.clusterFile, assuming: 'no labels' });
    }
    // One synchronous batch: the config's peers first, then the Services' routes, so no session can reach
    // Established in between and End-of-RIB (RFC 4724) never goes out before the full table.
    const first = this.last === null;
    const changed = applySnapshot(this.o.agent, this.last, next);
    this.last = next;
    if (first) this.o.agent.synced();
    this.applied++;
    const c = this.o.agent.counts();
    this.log.info('stateSynced', { announced: c.announced, services: c.services, changed });
  }
}

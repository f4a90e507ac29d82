// Standalone mode (../shared/spec/cli.md, `ingot speaker --config F --cluster F`): no Kubernetes. The files'
// StateSource (src/agent/types.ts): the same two files as `ingot plan`, the same deterministic allocation
// (src/plan) for Services without status IPs; each file state is diffed against the last one and fed to
// the node agent as incremental updates (the same agent the informers will feed in Kubernetes mode). Files
// are re-read when they change (a directory watch, so editors that write a new file and rename it over the
// old one are seen) and on SIGHUP (the CLI calls reload()). A file that no longer parses is logged, naming
// the file and the error, and its last good content stays in force.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { EndpointView, NodeView, ServiceView } from '../announce/index.js';
import type { NodeAgent } from '../agent/agent.js';
import type { StateSource, StateSourceError } from '../agent/types.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { parseConfig, type Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { nullLogger } from '../log.js';
import { parseCluster, type Cluster } from '../plan/cluster.js';
import { planCluster } from '../plan/plan.js';
import { announceContext, serviceView } from '../plan/announce.js';

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
  /** Quiet time after the last file event before re-reading (ms). */
  readonly debounceMs?: number;
  /** Watch the files' directories (default true; tests call reload() themselves). */
  readonly watch?: boolean;
  /** Timers (the debounce); default the system clock. */
  readonly clock?: Clock;
  /**
   * Called with each newly applied cluster file (first load included), before the agent gets the state:
   * the speaker takes the Layer 2 members (Nodes and their InternalIPs) from it.
   */
  readonly onCluster?: (cluster: Cluster) => void;
}

/** The files' StateSource: keeps a node agent in line with the two files. */
export class Standalone implements StateSource {
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
  private last: Snapshot | null = null;
  private appliedCluster: Cluster | null = null;
  /** Files whose latest content is bad (their last good content is in force). */
  readonly stale = new Map<string, string>();
  /** How many times a state was applied to the agent. */
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
    if (this.o.onCluster !== undefined && this.cluster !== this.appliedCluster) {
      try {
        this.o.onCluster(this.cluster);
      } catch (e) {
        this.log.error('clusterHookFailed', { error: e });
      }
    }
    this.appliedCluster = this.cluster;
    const next = snapshotOf(this.config, this.cluster, this.o.nodeName);
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

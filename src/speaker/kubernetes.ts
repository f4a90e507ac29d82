// Kubernetes mode's StateSource (../shared/spec/cli.md "ingot speaker --node-name NAME [--kubeconfig FILE]"):
// informers on Services, EndpointSlices (discovery.k8s.io/v1), this node's Node and the config ConfigMap feed
// the same NodeAgent as the files of standalone mode, incrementally:
//   Service event        → upsertService / deleteService of that Service only
//   EndpointSlice event  → setEndpoints of its Service only (every slice of that Service, flattened)
//   Node event           → setNode (labels: peers' node-selectors, the exclusion label)
//   ConfigMap event      → setConfig; a config that does not parse is logged, stale=1, the last good one stays
// The IPs announced are exactly status.loadBalancer.ingress (the speaker never allocates: a Service the
// controller has not served gets `noIPAllocated`), and `--lb-class` selects Services as the controller does
// (isOurClass). Nothing reaches the agent before every informer has synced: the first full state goes in as one
// batch, then agent.synced() (so no route is withdrawn, and End-of-RIB never goes out, on a partial view).
// Informer objects go through src/plan/cluster.ts's converters, the ones `ingot plan` uses for the cluster file.
// This file imports only types from src/k8s: the CLI loads src/k8s lazily.
import type { AgentObserver, NodeAgent } from '../agent/agent.js';
import type { StateSource } from '../agent/types.js';
import type { EndpointView, NodeView, ServiceView } from '../announce/index.js';
import { poolOfService } from '../announce/index.js';
import { parseConfig, type Config } from '../config/index.js';
import type { ConfigMap, EventRecorder, Informer, InformerDeps, KubeApi, KubeObject } from '../k8s/index.js';
import { objectKey } from '../k8s/types.js';
import { nullLogger, type Logger } from '../log.js';
import { endpointViews, serviceView } from '../plan/announce.js';
import { endpointSliceFromObject, isOurClass, nodeFromObject, serviceFromObject, type NodeObject } from '../plan/cluster.js';

/** Where the config gauges go (`metallb_k8s_client_config_loaded_bool` / `_stale_bool`). */
export interface ConfigStateSink {
  setConfigState(loaded: boolean, stale: boolean): void;
}

export interface KubernetesSourceOptions {
  readonly nodeName: string;
  /** Builds the agent this source feeds, with the observer that posts `nodeAssigned`. */
  readonly agent: (observer: AgentObserver) => NodeAgent;
  readonly api: Pick<KubeApi, 'servicesInformer' | 'endpointSlicesInformer' | 'nodesInformer' | 'configMapInformer'>;
  /** Informer plumbing (REST client, clock, logger, metrics, backoff policy). */
  readonly informers: InformerDeps;
  /** Where the ConfigMap lives (`--namespace`) and its name (`--config-map`); data key `config`. */
  readonly namespace: string;
  readonly configMap: string;
  /** `--lb-class`: null handles only Services without a class. */
  readonly lbClass: string | null;
  /** Posts `nodeAssigned` (absent: no events). */
  readonly events?: Pick<EventRecorder, 'record' | 'forget'>;
  readonly configMetrics?: ConfigStateSink;
  readonly logger?: Logger;
  /** Most `nodeAssigned` events waiting to be posted; more are dropped (counted, logged). Default 50,000. */
  readonly maxPendingEvents?: number;
  /**
   * The cluster's Nodes (name and addresses) whenever they change: the Layer 2 liveness members. With it the
   * source watches every Node (RBAC: nodes list/watch); without it only this node.
   */
  readonly onNodes?: (nodes: readonly NodeObject[]) => void;
}

interface SliceEntry {
  /** "namespace/service" */
  readonly service: string;
  readonly endpoints: readonly EndpointView[];
}

export const CONFIG_DATA_KEY = 'config';

export class KubernetesSource implements StateSource {
  readonly agent: NodeAgent;
  /** Inputs whose latest version is bad: `configmap ns/name` → error (the last good config is in force). */
  readonly stale = new Map<string, string>();
  private readonly o: KubernetesSourceOptions;
  private readonly log: Logger;
  private readonly services: Informer<KubeObject>;
  private readonly slices: Informer<KubeObject>;
  private readonly nodes: Informer<KubeObject>;
  private readonly configMaps: Informer<ConfigMap>;
  /** EndpointSlice "ns/name" → its Service and endpoints. */
  private readonly sliceIndex = new Map<string, SliceEntry>();
  /** Service "ns/name" → its slices' keys (one slice, the common case, is stored as the key itself). */
  private readonly slicesOf = new Map<string, string | Set<string>>();
  private nodeLabels: Readonly<Record<string, string>> | null = null;
  private configText: string | null = null;
  /** A config that parsed but would orphan announced IPs: applied once its blockers change or go away. */
  private pending: { config: Config; text: string; blockers: Set<string> } | null = null;
  private configLoaded = false;
  private started = false;
  private closed = false;
  private isSynced = false;
  private handlerErrors = 0;
  /** `nodeAssigned` to post, in order (key → protocol); one request at a time. */
  private readonly eventQueue = new Map<string, string>();
  private posting = false;
  private eventsDropped = 0;
  private readonly configKey: string;

  constructor(o: KubernetesSourceOptions) {
    this.o = o;
    this.log = o.logger ?? nullLogger;
    this.configKey = `configmap ${o.namespace}/${o.configMap}`;
    this.agent = o.agent({
      announced: (key, protocol) => this.guard('announced', () => this.queueAssigned(key, protocol)),
      withdrawn: (key) => this.guard('withdrawn', () => this.assignedEnded(key)),
    });
    // Handlers get only what the decision reads; the caches keep only identities (the source's views and
    // slice index are the state): memory at 10,000 Services, bench/README.md.
    this.services = o.api.servicesInformer({ ...o.informers, transform: slimService, identityCache: { keepUid: true } });
    this.slices = o.api.endpointSlicesInformer({ ...o.informers, transform: slimEndpointSlice, identityCache: { keepUid: false } });
    // This node's labels are all the decision needs (peers' node-selectors, the exclusion label); Layer 2's
    // liveness members are every node (name + InternalIP), so with onNodes every Node is watched.
    this.nodes = o.onNodes !== undefined ? o.api.nodesInformer({ ...o.informers, transform: slimNode }) : o.api.nodesInformer({ ...o.informers, transform: slimNode }, o.nodeName);
    this.configMaps = o.api.configMapInformer(o.informers, o.namespace, o.configMap);
    o.configMetrics?.setConfigState(false, false);
  }

  /**
   * Starts the informers and resolves once every one has synced and the first full state is in the agent
   * (one batch, then agent.synced()). Never rejects: the informers retry by themselves (an API server that
   * is down, a 403) and this waits for them. Resolves null (also when closed before syncing).
   */
  async start(): Promise<null> {
    if (this.started) return null;
    this.started = true;
    // Handlers first (the Service and EndpointSlice caches keep only identities, so nothing could be replayed
    // later), and the agent held: what arrives while the informers list goes into the source's own state and
    // the agent's pending set, and is decided once, when every informer has synced — no route is withdrawn,
    // and End-of-RIB never goes out, on a partial view.
    const release = this.agent.hold();
    this.configMaps.addHandlers({
      onAdd: (cm) => this.guard('configmap', () => this.onConfigMap(cm)),
      onUpdate: (_old, cm) => this.guard('configmap', () => this.onConfigMap(cm)),
      onDelete: () => this.guard('configmap', () => this.onConfigMapDeleted()),
    });
    this.nodes.addHandlers({
      onAdd: (n) => this.guard('node', () => this.onNode(n)),
      onUpdate: (_old, n) => this.guard('node', () => this.onNode(n)),
      onDelete: (n) => this.guard('node', () => this.onNodeDeleted(n)),
    });
    this.slices.addHandlers({
      onAdd: (s) => this.guard('endpointslice', () => this.onSlice(s)),
      onUpdate: (_old, s) => this.guard('endpointslice', () => this.onSlice(s)),
      onDelete: (s) => this.guard('endpointslice', () => this.onSliceDeleted(s)),
    });
    this.services.addHandlers({
      onAdd: (s) => this.guard('service', () => this.onService(s)),
      onUpdate: (_old, s) => this.guard('service', () => this.onService(s)),
      onDelete: (s) => this.guard('service', () => this.onServiceDeleted(s)),
    });
    const all = [this.services, this.slices, this.nodes, this.configMaps];
    for (const inf of all) inf.start();
    await Promise.race([Promise.all(all.map((i) => i.waitForSync())), new Promise<void>((r) => (this.wakeStart = r))]);
    if (this.closed) return null;
    release();
    this.isSynced = true;
    this.agent.synced();
    if (this.nodeLabels === null) this.log.warn('nodeNotFound', { node: this.o.nodeName, assuming: 'no labels until the Node appears' });
    if (!this.configLoaded) this.log.warn('noConfig', { configMap: `${this.o.namespace}/${this.o.configMap}`, what: 'not announcing anything until a valid config is loaded' });
    const c = this.agent.counts();
    this.log.info('stateSynced', { announced: c.announced, services: c.services, endpointSlices: this.sliceIndex.size });
    return null;
  }

  private wakeStart: (() => void) | undefined;

  /** Nothing to re-read: the informers follow every change. Logged so a SIGHUP is visibly handled. */
  reload(why: string): void {
    this.log.info('reload', { why, what: 'nothing to do in Kubernetes mode: informers follow every change' });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const inf of [this.services, this.slices, this.nodes, this.configMaps]) inf.stop();
    this.eventQueue.clear();
    this.wakeStart?.();
  }

  /** Every informer synced and the first state applied. */
  get synced(): boolean {
    return this.isSynced;
  }

  /** /readyz: synced, and a config is in force (nothing can be announced without one). */
  ready(): boolean {
    return this.isSynced && this.configLoaded && !this.closed;
  }

  /** For /status. */
  status(): Record<string, unknown> {
    const inf = (i: Informer<KubeObject> | Informer<ConfigMap>) => ({ synced: i.hasSynced(), objects: i.size, restarts: i.restarts, lastError: i.lastError });
    return {
      source: 'kubernetes',
      synced: this.isSynced,
      informers: { services: inf(this.services), endpointslices: inf(this.slices), nodes: inf(this.nodes), configmaps: inf(this.configMaps) },
      config: { configMap: `${this.o.namespace}/${this.o.configMap}`, loaded: this.configLoaded, stale: this.stale.get(this.configKey) ?? null },
      node: { name: this.o.nodeName, found: this.nodeLabels !== null },
      lbClass: this.o.lbClass,
      handlerErrors: this.handlerErrors,
      events: { pending: this.eventQueue.size, dropped: this.eventsDropped },
    };
  }

  // ---- handlers ---------------------------------------------------------------------------------------------

  /** Every handler's work: an exception is logged and counted; the source keeps its last good state. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.handlerErrors++;
      this.log.error('handlerError', { handler: what, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** A Service added or changed. A malformed one keeps its last good view (the informer has the new object). */
  onService(obj: KubeObject): void {
    const key = objectKey(obj);
    let svc;
    try {
      svc = serviceFromObject(obj as Record<string, unknown>, `Service ${key}`);
    } catch (err) {
      this.log.error('invalidObject', { object: `Service ${key}`, error: err instanceof Error ? err.message : String(err), keeping: 'last good state' });
      return;
    }
    const known = this.agent.view(key);
    if (!isOurClass(svc, this.o.lbClass) || svc.type !== 'LoadBalancer') {
      if (known === undefined) return;
      // Withdrawn (logged with MetalLB's reason when it was a type change), then forgotten: the agent keeps
      // records only for our LoadBalancer Services.
      if (svc.type !== 'LoadBalancer') this.agent.upsertService(serviceView(svc, svc.statusIPs ?? []));
      this.agent.deleteService(key);
      this.agent.setEndpoints(key, []);
      this.retryPending(key);
      if (!isOurClass(svc, this.o.lbClass)) this.log.info('serviceNotOurs', { service: key, loadBalancerClass: svc.loadBalancerClass, lbClass: this.o.lbClass });
      return;
    }
    // The speaker never allocates: exactly the IPs the controller wrote.
    const view = serviceView(svc, svc.statusIPs ?? []);
    if (known !== undefined && sameView(known, view)) return;
    if (known === undefined) {
      const eps = this.endpointsOf(key);
      if (eps.length > 0) this.agent.setEndpoints(key, eps);
    }
    this.agent.upsertService(view);
    this.retryPending(key);
  }

  onServiceDeleted(obj: KubeObject): void {
    const key = objectKey(obj);
    this.eventQueue.delete(key);
    this.o.events?.forget(obj);
    if (this.agent.view(key) === undefined) return;
    this.agent.deleteService(key);
    this.agent.setEndpoints(key, []);
    this.retryPending(key);
  }

  /** An EndpointSlice added or changed: its Service's endpoints are re-aggregated, that Service re-decided. */
  onSlice(obj: KubeObject): void {
    const sk = objectKey(obj);
    let slice;
    try {
      slice = endpointSliceFromObject(obj as Record<string, unknown>, `EndpointSlice ${sk}`);
    } catch (err) {
      this.log.error('invalidObject', { object: `EndpointSlice ${sk}`, error: err instanceof Error ? err.message : String(err), keeping: 'last good state' });
      return;
    }
    const old = this.sliceIndex.get(sk);
    const named = slice.serviceName === null ? null : `${slice.namespace}/${slice.serviceName}`;
    // The Service's own key string when it is known: one copy shared by the index, the agent and the table.
    const service = named === null ? null : (this.agent.view(named)?.key ?? named);
    if (old !== undefined && old.service !== service) {
      this.unlink(old.service, sk);
      this.sliceIndex.delete(sk);
      this.pushEndpoints(old.service);
    }
    if (service === null) return;
    const endpoints = Object.freeze(endpointViews(slice));
    this.sliceIndex.set(sk, { service, endpoints });
    const set = this.slicesOf.get(service);
    if (set === undefined) this.slicesOf.set(service, sk);
    else if (typeof set === 'string') {
      if (set !== sk) this.slicesOf.set(service, new Set([set, sk]));
    } else set.add(sk);
    if (old !== undefined && old.service === service && sameEndpoints(old.endpoints, endpoints)) return;
    this.pushEndpoints(service);
  }

  /** MetalLB: a Service whose slices are all gone has no endpoints (withdrawn: noEndpoints / noLocalEndpoints). */
  onSliceDeleted(obj: KubeObject): void {
    const sk = objectKey(obj);
    const old = this.sliceIndex.get(sk);
    if (old === undefined) return;
    this.sliceIndex.delete(sk);
    this.unlink(old.service, sk);
    this.pushEndpoints(old.service);
  }

  onNode(obj: KubeObject): void {
    const node = nodeFromObject(obj as Record<string, unknown>, `Node ${objectKey(obj)}`);
    this.nodesChanged(node.name, node);
    if (node.name !== this.o.nodeName) return;
    if (this.nodeLabels !== null && sameLabels(this.nodeLabels, node.labels)) return;
    this.nodeLabels = node.labels;
    const view: NodeView = { name: node.name, labels: node.labels };
    this.agent.setNode(view);
  }

  onNodeDeleted(obj: KubeObject): void {
    const name = obj.metadata?.name ?? '';
    if (name === this.o.nodeName) this.log.warn('nodeDeleted', { node: this.o.nodeName, keeping: 'last labels' });
    this.nodesChanged(name, null);
  }

  /** The member list for onNodes: every Node's name and addresses, told only when it changed. */
  private nodesChanged(name: string, node: NodeObject | null): void {
    if (this.o.onNodes === undefined) return;
    const before = this.nodeAddrs.get(name);
    if (node === null) {
      if (!this.nodeAddrs.delete(name)) return;
    } else {
      const key = JSON.stringify(node.addresses);
      if (before !== undefined && JSON.stringify(before.addresses) === key) return;
      this.nodeAddrs.set(name, node);
    }
    this.o.onNodes([...this.nodeAddrs.values()]);
  }

  private readonly nodeAddrs = new Map<string, NodeObject>();

  onConfigMap(cm: ConfigMap): void {
    const text = cm.data?.[CONFIG_DATA_KEY];
    this.pending = null;
    if (text === undefined) {
      this.configRefused(`configmap ${this.o.namespace}/${this.o.configMap} has no data key "${CONFIG_DATA_KEY}"`);
      return;
    }
    if (text === this.configText) {
      // Back to the config in force (a bad edit reverted): no longer stale.
      if (this.stale.delete(this.configKey)) {
        this.o.configMetrics?.setConfigState(this.configLoaded, false);
        this.log.info('configRecovered', { configMap: `${this.o.namespace}/${this.o.configMap}` });
      }
      return;
    }
    const r = parseConfig(text);
    if (!r.ok) {
      this.configRefused(r.error);
      return;
    }
    this.tryApply(r.config, text);
  }

  /**
   * MetalLB's speaker rule (metallb-compat.md §1.1, 3.1): a config under which an announced Service's IPs
   * fall outside every pool is refused (stale=1, routes kept), as the controller refuses one that would
   * orphan an allocated IP; it applies as soon as those Services change or go away.
   */
  private tryApply(config: Config, text: string): void {
    const blockers = new Set<string>();
    let example = '';
    for (const [key, view] of this.agent.serviceViews()) {
      if (!this.agent.isAnnounced(key)) continue;
      const p = poolOfService(config, view);
      if (!p.ok && (p.reason === 'ipNotAllowed' || p.reason === 'mixedProtocols')) {
        if (blockers.size === 0) example = `service "${key}" (${view.ips.join(', ')}) has no pool in the new config`;
        blockers.add(key);
      }
    }
    if (blockers.size > 0) {
      this.pending = { config, text, blockers };
      this.configRefused(`${example}${blockers.size > 1 ? ` (and ${blockers.size - 1} more Services)` : ''}; kept until they change or go away`);
      return;
    }
    this.pending = null;
    this.applyConfig(config, text);
  }

  /** A blocker of the pending config changed or went away: try the pending config again. */
  private retryPending(key: string): void {
    if (this.pending === null || !this.pending.blockers.has(key)) return;
    const p = this.pending;
    p.blockers.delete(key);
    const view = this.agent.view(key);
    if (view !== undefined && this.agent.isAnnounced(key)) {
      const r = poolOfService(p.config, view);
      if (!r.ok && (r.reason === 'ipNotAllowed' || r.reason === 'mixedProtocols')) p.blockers.add(key);
    }
    if (p.blockers.size === 0) this.tryApply(p.config, p.text);
  }

  private applyConfig(config: Config, text: string): void {
    const r = { config };
    this.configText = text;
    this.configLoaded = true;
    this.stale.delete(this.configKey);
    this.o.configMetrics?.setConfigState(true, false);
    this.log.info('configLoaded', { configMap: `${this.o.namespace}/${this.o.configMap}`, peers: r.config.peers.length, pools: r.config.pools.length });
    this.agent.setConfig(r.config);
  }

  /** MetalLB: "configuration is missing"; the last good config keeps running, stale=1. */
  onConfigMapDeleted(): void {
    this.configRefused(`configmap ${this.o.namespace}/${this.o.configMap} was deleted`);
  }

  private configRefused(error: string): void {
    this.stale.set(this.configKey, error);
    this.o.configMetrics?.setConfigState(this.configLoaded, true);
    // MetalLB's event name for running on an old config (metallb-compat.md §1.1).
    this.log.error('configStale', { configMap: `${this.o.namespace}/${this.o.configMap}`, error, keeping: this.configLoaded ? 'last good config' : 'no config loaded yet: nothing is announced' });
  }

  // ---- endpoints ----------------------------------------------------------------------------------------------

  private unlink(service: string, sk: string): void {
    const set = this.slicesOf.get(service);
    if (set === undefined) return;
    if (typeof set === 'string') {
      if (set === sk) this.slicesOf.delete(service);
      return;
    }
    set.delete(sk);
    if (set.size === 1) this.slicesOf.set(service, set.values().next().value as string);
    else if (set.size === 0) this.slicesOf.delete(service);
  }

  private endpointsOf(service: string): readonly EndpointView[] {
    const set = this.slicesOf.get(service);
    if (set === undefined) return [];
    // One slice: its own (frozen) array, shared with the agent.
    if (typeof set === 'string') return this.sliceIndex.get(set)?.endpoints ?? [];
    const out: EndpointView[] = [];
    for (const sk of set) {
      const e = this.sliceIndex.get(sk);
      if (e !== undefined) for (const ep of e.endpoints) out.push(ep);
    }
    return out;
  }

  /** Only our LoadBalancer Services' endpoints go to the agent (a new one gets them in onService). */
  private pushEndpoints(service: string): void {
    if (this.agent.view(service) === undefined) return;
    this.agent.setEndpoints(service, this.endpointsOf(service));
  }

  // ---- nodeAssigned -------------------------------------------------------------------------------------------

  /** This node started announcing `key`: MetalLB's `nodeAssigned` event, once per start (not per sync). */
  private queueAssigned(key: string, protocol: string): void {
    if (this.o.events === undefined) return;
    if (this.eventQueue.size >= (this.o.maxPendingEvents ?? 50_000) && !this.eventQueue.has(key)) {
      if (this.eventsDropped++ % 1000 === 0) this.log.warn('eventsDropped', { dropped: this.eventsDropped, why: 'too many nodeAssigned events waiting' });
      return;
    }
    this.eventQueue.delete(key);
    this.eventQueue.set(key, protocol);
    if (!this.posting) void this.postEvents();
  }

  /** Withdrawn: a later start is a new assignment (the recorder would otherwise suppress the same message). */
  private assignedEnded(key: string): void {
    if (this.o.events === undefined) return;
    this.eventQueue.delete(key);
    const obj = this.services.get(key);
    if (obj !== undefined) this.o.events.forget(obj);
  }

  /**
   * One Event at a time: the requests share the client's token bucket with the informers, so a startup with
   * 10,000 Services queues its events here instead of in front of a relist.
   */
  private async postEvents(): Promise<void> {
    this.posting = true;
    try {
      while (!this.closed && this.eventQueue.size > 0) {
        const [key, protocol] = this.eventQueue.entries().next().value as [string, string];
        this.eventQueue.delete(key);
        const obj = this.services.get(key);
        if (obj === undefined) continue;
        await this.o.events!.record(obj, 'Normal', 'nodeAssigned', `announcing from node ${JSON.stringify(this.o.nodeName)} with protocol ${JSON.stringify(protocol)}`);
      }
    } catch (err) {
      this.log.error('eventError', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.posting = false;
    }
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** metadata fields every cached object keeps: identity and resourceVersion (the relist diff), uid (Events). */
function slimMeta(o: KubeObject, labels?: Record<string, string> | undefined, uid = true): KubeObject['metadata'] {
  const m = o.metadata ?? {};
  return {
    name: m.name,
    namespace: typeof m.namespace === 'string' ? namespaces.get(m.namespace, () => m.namespace) : m.namespace,
    ...(uid ? { uid: m.uid } : {}),
    resourceVersion: m.resourceVersion,
    ...(labels !== undefined ? { labels } : {}),
  } as KubeObject['metadata'];
}

/**
 * Shared, frozen parts of cached objects. Tens of thousands of Services and slices repeat a handful of
 * values (a spec's type/policy/class, an endpoint's node and readiness); one copy each keeps the speaker's
 * caches small (memory at 10,000 Services: bench/README.md). Bounded; past the bound nothing is shared.
 */
class Interner<T> {
  private readonly m = new Map<string, T>();
  constructor(private readonly limit: number) {}
  get(key: string, make: () => T): T {
    const v = this.m.get(key);
    if (v !== undefined) return v;
    const made = Object.freeze(make());
    if (this.m.size < this.limit) this.m.set(key, made);
    return made;
  }
}
const specs = new Interner<Record<string, unknown>>(1024);
/** Every object of a namespace repeats its name (JSON.parse makes a new string each time). */
const namespaces = new Interner<string | undefined>(100_000);
const endpointObjs = new Interner<Record<string, unknown>>(100_000);
const isOptString = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';

/**
 * A Service as the speaker needs it: type, externalTrafficPolicy, loadBalancerClass and the ingress IPs
 * (ports, selector, annotations and the rest stay out of the cache). Never throws: a malformed field is
 * passed through for serviceFromObject to report.
 */
export function slimService(o: KubeObject): KubeObject {
  const spec = isObj(o.spec) ? o.spec : undefined;
  const lb = isObj(o.status) && isObj(o.status.loadBalancer) ? o.status.loadBalancer : undefined;
  const ingress = lb?.ingress;
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: slimMeta(o),
    spec:
      spec === undefined
        ? o.spec
        : isOptString(spec.type) && isOptString(spec.externalTrafficPolicy) && isOptString(spec.loadBalancerClass)
          ? specs.get(`${spec.type}\0${spec.externalTrafficPolicy}\0${spec.loadBalancerClass}`, () => ({ type: spec.type, externalTrafficPolicy: spec.externalTrafficPolicy, loadBalancerClass: spec.loadBalancerClass }))
          : { type: spec.type, externalTrafficPolicy: spec.externalTrafficPolicy, loadBalancerClass: spec.loadBalancerClass },
    ...(lb === undefined ? (o.status === undefined ? {} : { status: isObj(o.status) ? {} : o.status }) : { status: { loadBalancer: { ingress: Array.isArray(ingress) ? ingress.map((e: unknown) => (isObj(e) ? { ip: e.ip } : e)) : ingress } } }),
  };
}

/** An EndpointSlice as the speaker needs it: its Service, and each endpoint's node and readiness (no uid). */
export function slimEndpointSlice(o: KubeObject): KubeObject {
  const svc = o.metadata?.labels?.['kubernetes.io/service-name'];
  const eps = o.endpoints;
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: slimMeta(o, svc === undefined ? undefined : { 'kubernetes.io/service-name': svc }, false),
    addressType: o.addressType,
    endpoints: Array.isArray(eps) ? eps.map(slimEndpoint) : eps,
  };
}

function slimEndpoint(e: unknown): unknown {
  if (!isObj(e)) return e;
  const ready = isObj(e.conditions) ? e.conditions.ready : undefined;
  if (isOptString(e.nodeName) && isObj(e.conditions) && (ready === undefined || typeof ready === 'boolean')) {
    return endpointObjs.get(`${String(ready)}\0${e.nodeName ?? '\0'}`, () => ({ nodeName: e.nodeName, conditions: Object.freeze({ ready }) }));
  }
  return { nodeName: e.nodeName, conditions: isObj(e.conditions) ? { ready: e.conditions.ready } : e.conditions };
}

/** A node as the speaker needs it: its labels, and its addresses (Layer 2 liveness members). */
export function slimNode(o: KubeObject): KubeObject {
  const addresses = (o as { status?: { addresses?: unknown } }).status?.addresses;
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: slimMeta(o, o.metadata?.labels), ...(Array.isArray(addresses) ? { status: { addresses } } : {}) } as KubeObject;
}

function sameView(a: ServiceView, b: ServiceView): boolean {
  return a.type === b.type && a.externalTrafficPolicy === b.externalTrafficPolicy && a.ips.length === b.ips.length && a.ips.every((ip, i) => ip === b.ips[i]);
}

function sameEndpoints(a: readonly EndpointView[], b: readonly EndpointView[]): boolean {
  return a.length === b.length && a.every((e, i) => e.nodeName === b[i]!.nodeName && e.ready === b[i]!.ready);
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

// The `--cluster` file of `ingot plan` (and of the standalone speaker): Kubernetes objects as
// `kubectl get -o yaml` prints them, multi-document YAML and/or `kind: List`, turned into plain inputs.
// Services, EndpointSlices and Nodes are kept; other kinds (Pods, Deployments, ...) are skipped, so a whole
// `kubectl get all,endpointslices,nodes -A -o yaml` dump works. Malformed objects are errors that name the
// document, the object and the field, e.g.
//   object #3 (Service default/web): spec.ports[1].port: want an integer 1-65535, got "http"
// Semantic problems that MetalLB reports per Service (a bad loadBalancerIP, an unknown pool) are not errors
// here: the Service is kept and the allocator reports them in its `error`.
import { parseAllDocuments } from 'yaml';
import type { ServiceInput, ServicePort } from '../allocator/types.js';

export interface ServiceObject extends ServiceInput {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly loadBalancerClass: string | null;
  readonly ports: readonly (ServicePort & { readonly name: string | null })[];
}

export interface EndpointConditions {
  /** null = unset, which Kubernetes defines as ready/serving. */
  readonly ready: boolean | null;
  readonly serving: boolean | null;
  readonly terminating: boolean | null;
}

export interface Endpoint {
  readonly addresses: readonly string[];
  readonly conditions: EndpointConditions;
  readonly nodeName: string | null;
}

export interface EndpointSliceObject {
  readonly namespace: string;
  readonly name: string;
  /** From the `kubernetes.io/service-name` label; null when absent (such slices belong to no Service). */
  readonly serviceName: string | null;
  readonly addressType: string;
  readonly endpoints: readonly Endpoint[];
  readonly ports: readonly { readonly name: string | null; readonly protocol: string; readonly port: number | null }[];
}

export interface NodeObject {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly addresses: readonly { readonly type: string; readonly address: string }[];
  /** The Ready condition; null when the object has no conditions (hand-written files). */
  readonly ready: boolean | null;
  readonly unschedulable: boolean;
}

export interface Cluster {
  /** In file order; `ingot plan` sorts as the contract says. */
  readonly services: readonly ServiceObject[];
  readonly endpointSlices: readonly EndpointSliceObject[];
  readonly nodes: readonly NodeObject[];
}

/**
 * Whether a Service is ingot's under `--lb-class` (cli.md "Kubernetes mode"): without the flag only Services
 * that set no class, with it only those of that class (as MetalLB 0.13 and Kubernetes expect).
 */
export function isOurClass(svc: Pick<ServiceObject, 'loadBalancerClass'>, lbClass: string | null): boolean {
  const cls = svc.loadBalancerClass ?? null;
  return lbClass === null ? cls === null || cls === '' : cls === lbClass;
}

export type ClusterResult = { readonly ok: true; readonly cluster: Cluster } | { readonly ok: false; readonly error: string };

class ClusterError extends Error {}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Field readers that name the path on failure. */
class Reader {
  constructor(private readonly where: string) {}

  fail(path: string, want: string, got: unknown): never {
    throw new ClusterError(`${this.where}: ${path}: want ${want}, got ${show(got)}`);
  }

  obj(parent: Obj, key: string, path: string): Obj | null {
    const v = parent[key];
    if (v === undefined || v === null) return null;
    if (!isObj(v)) this.fail(path, 'a mapping', v);
    return v;
  }

  str(parent: Obj, key: string, path: string): string | null {
    const v = parent[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') this.fail(path, 'a string', v);
    return v;
  }

  bool(parent: Obj, key: string, path: string): boolean | null {
    const v = parent[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'boolean') this.fail(path, 'true or false', v);
    return v;
  }

  list(parent: Obj, key: string, path: string): unknown[] {
    const v = parent[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(path, 'a list', v);
    return v;
  }

  strList(parent: Obj, key: string, path: string): string[] {
    return this.list(parent, key, path).map((v, i) => {
      if (typeof v !== 'string') this.fail(`${path}[${i}]`, 'a string', v);
      return v;
    });
  }

  /** Kubernetes string maps (labels, annotations, selector): every value must be a string. */
  strMap(parent: Obj, key: string, path: string): Record<string, string> {
    const o = this.obj(parent, key, path);
    if (o === null) return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) {
      if (typeof v !== 'string') this.fail(`${path}.${k}`, 'a string', v);
      out[k] = v;
    }
    return out;
  }

  port(parent: Obj, key: string, path: string, required: boolean): number | null {
    const v = parent[key];
    if ((v === undefined || v === null) && !required) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) this.fail(path, 'an integer 1-65535', v);
    return v;
  }
}

function metadata(r: Reader, o: Obj, namespaced: boolean): { name: string; namespace: string; labels: Record<string, string>; meta: Obj } {
  const meta = r.obj(o, 'metadata', 'metadata');
  if (meta === null) return r.fail('metadata', 'a mapping', undefined);
  const name = r.str(meta, 'name', 'metadata.name');
  if (name === null || name === '') return r.fail('metadata.name', 'a non-empty string', name ?? undefined);
  const namespace = namespaced ? r.str(meta, 'namespace', 'metadata.namespace') || 'default' : '';
  return { name, namespace, labels: r.strMap(meta, 'labels', 'metadata.labels'), meta };
}

const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);

function parseService(o: Obj, where: string): ServiceObject {
  const r: Reader = new Reader(where);
  const { name, namespace, labels, meta } = metadata(r, o, true);
  const ts = r.str(meta, 'creationTimestamp', 'metadata.creationTimestamp');
  if (ts !== null && Number.isNaN(Date.parse(ts))) r.fail('metadata.creationTimestamp', 'an RFC 3339 time', ts);
  const spec = r.obj(o, 'spec', 'spec') ?? {};
  const ports = r.list(spec, 'ports', 'spec.ports').map((p, i) => {
    const path = `spec.ports[${i}]`;
    if (!isObj(p)) return r.fail(path, 'a mapping', p);
    const protocol = r.str(p, 'protocol', `${path}.protocol`) ?? 'TCP';
    if (!PROTOCOLS.has(protocol)) r.fail(`${path}.protocol`, 'TCP, UDP or SCTP', protocol);
    return { name: r.str(p, 'name', `${path}.name`), protocol, port: r.port(p, 'port', `${path}.port`, true)! };
  });
  const ingress = r.list(r.obj(r.obj(o, 'status', 'status') ?? {}, 'loadBalancer', 'status.loadBalancer') ?? {}, 'ingress', 'status.loadBalancer.ingress');
  const statusIPs: string[] = [];
  ingress.forEach((e, i) => {
    const path = `status.loadBalancer.ingress[${i}]`;
    if (!isObj(e)) r.fail(path, 'a mapping', e);
    // Hostname-only entries carry no IP; MetalLB skips them too.
    const ip = r.str(e, 'ip', `${path}.ip`);
    if (ip !== null && ip !== '') statusIPs.push(ip);
  });
  const clusterIPs = r.strList(spec, 'clusterIPs', 'spec.clusterIPs');
  const clusterIP = r.str(spec, 'clusterIP', 'spec.clusterIP');
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    labels,
    creationTimestamp: ts,
    type: r.str(spec, 'type', 'spec.type') ?? 'ClusterIP',
    clusterIPs: clusterIPs.length > 0 ? clusterIPs : clusterIP !== null && clusterIP !== '' ? [clusterIP] : [],
    ipFamilies: r.strList(spec, 'ipFamilies', 'spec.ipFamilies'),
    ipFamilyPolicy: r.str(spec, 'ipFamilyPolicy', 'spec.ipFamilyPolicy'),
    loadBalancerIP: r.str(spec, 'loadBalancerIP', 'spec.loadBalancerIP'),
    loadBalancerClass: r.str(spec, 'loadBalancerClass', 'spec.loadBalancerClass'),
    annotations: r.strMap(meta, 'annotations', 'metadata.annotations'),
    ports,
    externalTrafficPolicy: r.str(spec, 'externalTrafficPolicy', 'spec.externalTrafficPolicy') ?? 'Cluster',
    selector: r.strMap(spec, 'selector', 'spec.selector'),
    statusIPs,
  };
}

function parseEndpointSlice(o: Obj, where: string): EndpointSliceObject {
  const r: Reader = new Reader(where);
  const { name, namespace, labels } = metadata(r, o, true);
  const addressType = r.str(o, 'addressType', 'addressType');
  if (addressType === null) return r.fail('addressType', 'IPv4, IPv6 or FQDN', undefined);
  const endpoints = r.list(o, 'endpoints', 'endpoints').map((e, i) => {
    const path = `endpoints[${i}]`;
    if (!isObj(e)) return r.fail(path, 'a mapping', e);
    const c = r.obj(e, 'conditions', `${path}.conditions`) ?? {};
    return {
      addresses: r.strList(e, 'addresses', `${path}.addresses`),
      conditions: {
        ready: r.bool(c, 'ready', `${path}.conditions.ready`),
        serving: r.bool(c, 'serving', `${path}.conditions.serving`),
        terminating: r.bool(c, 'terminating', `${path}.conditions.terminating`),
      },
      nodeName: r.str(e, 'nodeName', `${path}.nodeName`),
    };
  });
  const ports = r.list(o, 'ports', 'ports').map((p, i) => {
    const path = `ports[${i}]`;
    if (!isObj(p)) return r.fail(path, 'a mapping', p);
    return {
      name: r.str(p, 'name', `${path}.name`),
      protocol: r.str(p, 'protocol', `${path}.protocol`) ?? 'TCP',
      port: r.port(p, 'port', `${path}.port`, false),
    };
  });
  return { namespace, name, serviceName: labels['kubernetes.io/service-name'] ?? null, addressType, endpoints, ports };
}

function parseNode(o: Obj, where: string): NodeObject {
  const r: Reader = new Reader(where);
  const { name, labels } = metadata(r, o, false);
  const status = r.obj(o, 'status', 'status') ?? {};
  const addresses = r.list(status, 'addresses', 'status.addresses').map((a, i) => {
    const path = `status.addresses[${i}]`;
    if (!isObj(a)) return r.fail(path, 'a mapping', a);
    const type = r.str(a, 'type', `${path}.type`);
    const address = r.str(a, 'address', `${path}.address`);
    if (type === null) return r.fail(`${path}.type`, 'a string', undefined);
    if (address === null) return r.fail(`${path}.address`, 'a string', undefined);
    return { type, address };
  });
  let ready: boolean | null = null;
  r.list(status, 'conditions', 'status.conditions').forEach((c, i) => {
    if (!isObj(c)) r.fail(`status.conditions[${i}]`, 'a mapping', c);
    if (c['type'] === 'Ready') ready = c['status'] === 'True';
  });
  const spec = r.obj(o, 'spec', 'spec') ?? {};
  return { name, labels, addresses, ready, unschedulable: r.bool(spec, 'unschedulable', 'spec.unschedulable') ?? false };
}

/** Parses the text of a cluster file. Pure: the caller reads the file. */
export function parseCluster(text: string): ClusterResult {
  try {
    return { ok: true, cluster: parseClusterOrThrow(text) };
  } catch (e) {
    if (e instanceof ClusterError) return { ok: false, error: e.message };
    throw e;
  }
}

/**
 * The documents of the file as plain values. `kubectl get -o json` output (and any file whose first
 * character opens a JSON object or array) goes through JSON.parse: JSON is YAML 1.2 with the same meaning,
 * and JSON.parse reads a 10,000-Service dump in tens of milliseconds where the YAML parser takes seconds,
 * which is the difference between a standalone speaker announcing at once and after a long pause.
 */
function documents(text: string): unknown[] {
  const first = /\S/.exec(text)?.[0];
  if (first === '{' || first === '[') {
    try {
      return [JSON.parse(text) as unknown];
    } catch {
      // Not strict JSON (a flow-style YAML mapping, say): the YAML parser reads it, with its precise errors.
    }
  }
  const docs = parseAllDocuments(text, { prettyErrors: false });
  if (!Array.isArray(docs)) throw new ClusterError('not a YAML document stream');
  return docs.map((doc, di) => {
    const err = doc.errors[0];
    if (err !== undefined) throw new ClusterError(`document #${di + 1}: invalid YAML: ${err.message.split('\n')[0]}`);
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  });
}

function parseClusterOrThrow(text: string): Cluster {
  const objects: { obj: Obj; where: string }[] = [];
  documents(text).forEach((v, di) => {
    if (v === null || v === undefined) return;
    if (!isObj(v)) throw new ClusterError(`document #${di + 1}: want a Kubernetes object (a mapping), got ${show(v)}`);
    const kind = v['kind'];
    if (typeof kind !== 'string') throw new ClusterError(`document #${di + 1}: kind: want a string, got ${show(kind)}`);
    // `kubectl get -o yaml` of several objects prints `kind: List` (or ServiceList, NodeList, ...).
    if (kind.endsWith('List') && Array.isArray(v['items'])) {
      (v['items'] as unknown[]).forEach((item, ii) => {
        if (!isObj(item)) throw new ClusterError(`document #${di + 1} items[${ii}]: want a Kubernetes object, got ${show(item)}`);
        objects.push({ obj: item, where: `document #${di + 1} items[${ii}]` });
      });
    } else {
      objects.push({ obj: v, where: `document #${di + 1}` });
    }
  });

  const services: ServiceObject[] = [];
  const endpointSlices: EndpointSliceObject[] = [];
  const nodes: NodeObject[] = [];
  const seen = new Set<string>();
  for (const { obj, where } of objects) {
    const kind = obj['kind'];
    const meta = isObj(obj['metadata']) ? obj['metadata'] : {};
    const label = `${where} (${String(kind)} ${typeof meta['namespace'] === 'string' ? `${meta['namespace']}/` : ''}${String(meta['name'] ?? '?')})`;
    let id: string;
    if (kind === 'Service') {
      const s = parseService(obj, label);
      services.push(s);
      id = `Service ${s.key}`;
    } else if (kind === 'EndpointSlice') {
      const e = parseEndpointSlice(obj, label);
      endpointSlices.push(e);
      id = `EndpointSlice ${e.namespace}/${e.name}`;
    } else if (kind === 'Node') {
      const n = parseNode(obj, label);
      nodes.push(n);
      id = `Node ${n.name}`;
    } else {
      if (typeof kind !== 'string') throw new ClusterError(`${where}: kind: want a string, got ${show(kind)}`);
      continue;
    }
    if (seen.has(id)) throw new ClusterError(`${label}: duplicate ${id}`);
    seen.add(id);
  }
  return { services, endpointSlices, nodes };
}

/**
 * The object converters, shared by the cluster file and (Kubernetes mode) the informers, so a Service, an
 * EndpointSlice or a Node means the same whichever way it arrived. Each takes one object as plain JSON and
 * throws ClusterError naming `where` and the field when it is malformed.
 */
export { parseService as serviceFromObject, parseEndpointSlice as endpointSliceFromObject, parseNode as nodeFromObject, ClusterError };

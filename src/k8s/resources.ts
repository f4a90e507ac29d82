// Typed helpers for exactly the requests ingot makes (and so exactly what manifests/ingot.yaml must grant):
//   services            list/watch (all namespaces), get; services/status patch (merge patch)
//   endpointslices      list/watch (discovery.k8s.io/v1, all namespaces)
//   nodes               list/watch (all, or one by fieldSelector metadata.name)
//   configmaps          get, list/watch by fieldSelector metadata.name=<name> in the namespace
//   events              create (core/v1)
//   secrets             get, create (the memberlist key)
//   leases              get, create, update (coordination.k8s.io/v1)
// Informer factories take the same paths, so RBAC for list and watch follows the same table.
import { randomBytes } from 'node:crypto';
import { Informer, type InformerOptions } from './informer.js';
import { isAlreadyExists, isNotFound, type RestClient } from './rest.js';
import type { ConfigMap, CoreEvent, KubeList, KubeObject, Lease, LeaseSpec, LoadBalancerIngress, Secret } from './types.js';

export const MEMBERLIST_SECRET = 'ingot-memberlist';
export const MEMBERLIST_SECRET_KEY = 'secretkey';
export const LEADER_LEASE = 'ingot-controller';

const enc = encodeURIComponent;

export const paths = {
  services: (): string => '/api/v1/services',
  service: (ns: string, name: string): string => `/api/v1/namespaces/${enc(ns)}/services/${enc(name)}`,
  serviceStatus: (ns: string, name: string): string => `/api/v1/namespaces/${enc(ns)}/services/${enc(name)}/status`,
  endpointSlices: (): string => '/apis/discovery.k8s.io/v1/endpointslices',
  nodes: (): string => '/api/v1/nodes',
  configMaps: (ns: string): string => `/api/v1/namespaces/${enc(ns)}/configmaps`,
  configMap: (ns: string, name: string): string => `/api/v1/namespaces/${enc(ns)}/configmaps/${enc(name)}`,
  events: (ns: string): string => `/api/v1/namespaces/${enc(ns)}/events`,
  secrets: (ns: string): string => `/api/v1/namespaces/${enc(ns)}/secrets`,
  secret: (ns: string, name: string): string => `/api/v1/namespaces/${enc(ns)}/secrets/${enc(name)}`,
  leases: (ns: string): string => `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases`,
  lease: (ns: string, name: string): string => `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases/${enc(name)}`,
};

const MERGE_PATCH = 'application/merge-patch+json';

/** Everything an informer needs except what to watch. */
export type InformerDeps = Omit<InformerOptions, 'name' | 'path' | 'labelSelector' | 'fieldSelector'>;

export class KubeApi {
  constructor(readonly rest: RestClient) {}

  // --- Lists (one-shot; components normally read informer caches instead) --------------------------------

  /** Every object of a collection, following `continue` pages; the list's resourceVersion with them. */
  async listAll<T extends KubeObject = KubeObject>(path: string, selectors: { labelSelector?: string; fieldSelector?: string } = {}, pageSize = 500): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.rest.request<KubeList<T>>('GET', path, { query: { ...selectors, limit: pageSize, continue: cont }, timeoutMs: 60_000 });
      items.push(...(page?.items ?? []));
      resourceVersion = page?.metadata?.resourceVersion ?? resourceVersion;
      cont = page?.metadata?.continue || undefined;
    } while (cont !== undefined);
    return { items, resourceVersion };
  }

  /** Services in every namespace. */
  async listServices(): Promise<KubeObject[]> {
    return (await this.listAll(paths.services())).items;
  }

  async listEndpointSlices(labelSelector?: string): Promise<KubeObject[]> {
    return (await this.listAll(paths.endpointSlices(), labelSelector ? { labelSelector } : {})).items;
  }

  async listNodes(name?: string): Promise<KubeObject[]> {
    return (await this.listAll(paths.nodes(), name ? { fieldSelector: `metadata.name=${name}` } : {})).items;
  }

  // --- Services -------------------------------------------------------------------------------------------

  getService(namespace: string, name: string): Promise<KubeObject | null> {
    return orNull(this.rest.request<KubeObject>('GET', paths.service(namespace, name)));
  }

  /**
   * Sets `status.loadBalancer.ingress` to one `{ip}` entry per IP through the status subresource with a JSON
   * merge patch (RFC 7386), touching nothing else; an empty list removes the field (what the real API server
   * stores for an empty list anyway). With `resourceVersion`, the patch only applies to that version (409
   * otherwise): a writer that decided on a stale Service loses instead of overwriting.
   */
  patchServiceIngress(namespace: string, name: string, ips: readonly string[], resourceVersion?: string, guard?: () => boolean): Promise<KubeObject> {
    const ingress: LoadBalancerIngress[] | null = ips.length > 0 ? ips.map((ip) => ({ ip })) : null;
    const body: Record<string, unknown> = { status: { loadBalancer: { ingress } } };
    if (resourceVersion !== undefined) body.metadata = { resourceVersion };
    return this.rest.request<KubeObject>('PATCH', paths.serviceStatus(namespace, name), { body, contentType: MERGE_PATCH, ...(guard ? { guard } : {}) });
  }

  // --- ConfigMap ------------------------------------------------------------------------------------------

  getConfigMap(namespace: string, name: string): Promise<ConfigMap | null> {
    return orNull(this.rest.request<ConfigMap>('GET', paths.configMap(namespace, name)));
  }

  // --- Informers ------------------------------------------------------------------------------------------

  /** Services in every namespace. */
  servicesInformer(deps: InformerDeps): Informer<KubeObject> {
    return new Informer({ ...deps, name: 'services', path: paths.services(), kind: 'Service', apiVersion: 'v1' });
  }

  /** discovery.k8s.io/v1 EndpointSlices in every namespace (optionally narrowed by a label selector). */
  endpointSlicesInformer(deps: InformerDeps, labelSelector?: string): Informer<KubeObject> {
    return new Informer({ ...deps, name: 'endpointslices', path: paths.endpointSlices(), kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', ...(labelSelector ? { labelSelector } : {}) });
  }

  /** All Nodes (Layer 2 membership needs them all), or only `name` (fieldSelector metadata.name). */
  nodesInformer(deps: InformerDeps, name?: string): Informer<KubeObject> {
    return new Informer({ ...deps, name: 'nodes', path: paths.nodes(), kind: 'Node', apiVersion: 'v1', ...(name ? { fieldSelector: `metadata.name=${name}` } : {}) });
  }

  /** One ConfigMap, by field selector, so a Role granting it by resourceNames suffices. */
  configMapInformer(deps: InformerDeps, namespace: string, name: string): Informer<ConfigMap> {
    return new Informer<ConfigMap>({ ...deps, name: 'configmaps', path: paths.configMaps(namespace), kind: 'ConfigMap', apiVersion: 'v1', fieldSelector: `metadata.name=${name}` });
  }

  // --- Events ---------------------------------------------------------------------------------------------

  createEvent(event: CoreEvent): Promise<CoreEvent> {
    const ns = event.metadata.namespace ?? event.involvedObject.namespace ?? 'default';
    return this.rest.request<CoreEvent>('POST', paths.events(ns), { body: { apiVersion: 'v1', kind: 'Event', ...event, metadata: { ...event.metadata, namespace: ns } } });
  }

  // --- Secrets --------------------------------------------------------------------------------------------

  getSecret(namespace: string, name: string): Promise<Secret | null> {
    return orNull(this.rest.request<Secret>('GET', paths.secret(namespace, name)));
  }

  createSecret(secret: Secret): Promise<Secret> {
    const ns = secret.metadata.namespace ?? 'default';
    return this.rest.request<Secret>('POST', paths.secrets(ns), { body: { apiVersion: 'v1', kind: 'Secret', ...secret } });
  }

  /**
   * The Layer 2 memberlist key: Secret `ingot-memberlist`, key `secretkey`, 32 random bytes; created when
   * missing. Two controllers racing both end with the one the API server stored (409 AlreadyExists → read it).
   * A Secret that exists without the key is an error naming it; it is never overwritten.
   */
  async ensureMemberlistSecret(namespace: string, random: (n: number) => Buffer = randomBytes): Promise<{ secret: Secret; created: boolean }> {
    let secret = await this.getSecret(namespace, MEMBERLIST_SECRET);
    let created = false;
    if (secret === null) {
      try {
        secret = await this.createSecret({
          metadata: { name: MEMBERLIST_SECRET, namespace },
          type: 'Opaque',
          data: { [MEMBERLIST_SECRET_KEY]: random(32).toString('base64') },
        });
        created = true;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        secret = await this.getSecret(namespace, MEMBERLIST_SECRET);
        if (secret === null) throw err;
      }
    }
    const key = secret.data?.[MEMBERLIST_SECRET_KEY];
    if (key === undefined || key === '') throw new Error(`secret ${namespace}/${MEMBERLIST_SECRET} has no data key "${MEMBERLIST_SECRET_KEY}"; delete it and ingot creates a new one`);
    return { secret, created };
  }

  // --- Leases ---------------------------------------------------------------------------------------------

  /** `timeoutMs` bounds the request (the elector passes its renew deadline, so a hung call cannot outlive it). */
  getLease(namespace: string, name: string, timeoutMs?: number): Promise<Lease | null> {
    return orNull(this.rest.request<Lease>('GET', paths.lease(namespace, name), timeout(timeoutMs)));
  }

  createLease(namespace: string, name: string, spec: LeaseSpec, timeoutMs?: number): Promise<Lease> {
    return this.rest.request<Lease>('POST', paths.leases(namespace), {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec },
      ...timeout(timeoutMs),
    });
  }

  /** PUT with `resourceVersion` as the compare-and-swap: 409 Conflict when someone wrote in between. */
  updateLease(namespace: string, name: string, resourceVersion: string, spec: LeaseSpec, timeoutMs?: number): Promise<Lease> {
    return this.rest.request<Lease>('PUT', paths.lease(namespace, name), {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace, resourceVersion }, spec },
      ...timeout(timeoutMs),
    });
  }
}

function timeout(ms: number | undefined): { timeoutMs?: number } {
  return ms === undefined ? {} : { timeoutMs: ms };
}

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

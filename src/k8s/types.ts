// Kubernetes objects as they travel on the wire (JSON), not client-node's model classes. client-node's typed
// clients turn timestamps into Date objects while its watch stream hands out strings; the informers, the
// helpers and src/plan/cluster.ts's converters all work on one form, the one `kubectl get -o json` prints.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** A `metav1.Status`, the body of every API error. */
export interface ApiStatus {
  kind?: 'Status';
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; [field: string]: unknown };
}

/** `status.loadBalancer.ingress[]` as the controller writes it: one entry per IP. */
export interface LoadBalancerIngress {
  ip: string;
  [field: string]: unknown;
}

/** coordination.k8s.io/v1 LeaseSpec; times are MicroTime strings (RFC 3339 with exactly 6 fractional digits). */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface Lease extends KubeObject {
  metadata: ObjectMeta & { name: string };
  spec?: LeaseSpec;
}

export interface Secret extends KubeObject {
  metadata: ObjectMeta & { name: string };
  type?: string;
  /** base64 values */
  data?: Record<string, string>;
}

export interface ConfigMap extends KubeObject {
  metadata: ObjectMeta & { name: string };
  data?: Record<string, string>;
}

/** Reference to the object an Event is about (core/v1 ObjectReference). */
export interface ObjectReference {
  kind: string;
  apiVersion?: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

/** core/v1 Event, the form `kubectl describe` shows and client-go's recorder writes. */
export interface CoreEvent extends KubeObject {
  metadata: ObjectMeta;
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source?: { component?: string; host?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
  count?: number;
  reportingComponent?: string;
  reportingInstance?: string;
}

/** `ns/name` for namespaced objects, `name` for cluster-scoped ones: the cache and work-queue key. */
export function objectKey(obj: KubeObject): string {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key made by objectKey. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * A metav1.MicroTime: RFC 3339 in UTC with exactly six fractional digits. A real API server refuses Lease and
 * events.k8s.io times in any other precision (../shared/notes/node-platform.md §7b).
 */
export function microTime(ms: number): string {
  const iso = new Date(Math.floor(ms)).toISOString(); // 2026-12-07T19:20:34.123Z
  return `${iso.slice(0, 23)}000Z`;
}

/** A metav1.Time: RFC 3339 in UTC to the second, as core/v1 Event timestamps are. */
export function metaTime(ms: number): string {
  return `${new Date(Math.floor(ms)).toISOString().slice(0, 19)}Z`;
}

/** Milliseconds since the epoch of a Time/MicroTime string; NaN when it does not parse. */
export function parseTime(s: string | null | undefined): number {
  return s ? Date.parse(s) : NaN;
}

// An in-memory fake Kubernetes API server for tests: JSON over HTTP/1.1 (plain, or HTTPS with a CA made at start)
// on 127.0.0.1, enough of the REST semantics for @kubernetes/client-node 2.x informers (list, then watch from the
// list's resourceVersion, relist on 410), CRUD, the status subresource, Events and coordination.k8s.io Leases — and
// enough of discovery, OpenAPI, content negotiation, authentication and RBAC that the real kubectl (1.32) works
// against it as a user would, with every request's authorization decision recorded.
//
// Usage (see FakeApiServer below for every method):
//   const s = await startFakeApiServer({ tls: true, rbac: true, serviceDefaults: true });
//   const admin = s.kubeconfigFile();                  // $KUBECONFIG for kubectl as kubernetes-admin (system:masters)
//   await kubectl(admin, ['apply', '-f', 'manifests/ingot.yaml']);   // test/helpers/kubectl.ts
//   const ctl = s.kubeconfigFile({ token: s.serviceAccountToken('ingot-system', 'controller') });
//   s.kubeconfig('ingot-system', token);                // the same for client-node's loadFromOptions
//   s.denials(/^system:serviceaccount:ingot-system:/)   // 403s the components got
//   s.permissionUsage([/^system:serviceaccount:ingot-system:/]).filter((p) => !p.used)   // granted, never exercised
//
// What it follows from the real API server:
// - Paths: `/api/v1/...` (core) and `/apis/GROUP/VERSION/...`; `namespaces/NS/RESOURCE[/NAME[/status]]` for
//   namespaced objects, `RESOURCE[/NAME[/status]]` for cluster-scoped ones, and `RESOURCE` without a namespace
//   lists/watches every namespace. Resources are generic: any plural works, keyed by group/version/resource +
//   namespace + name. The fake does not know which resources are namespaced; an object created on a path without
//   a namespace is stored cluster-scoped.
// - One global resourceVersion counter (a decimal string), like etcd's revision: every write bumps it. Objects get
//   uid, creationTimestamp, resourceVersion and generation; generation starts at 1 and increments only when a
//   field other than `metadata` and `status` changes (the rule for resources with a status subresource).
// - LIST returns `<Kind>List` with the current resourceVersion; labelSelector (`k=v`, `k==v`, `k!=v`, `k`, `!k`,
//   `k in (a,b)`, `k notin (a,b)`, comma-ANDed), fieldSelector (`=`, `==`, `!=` on any dotted path), and
//   `limit`/`continue` pagination with an opaque token carrying the first page's resourceVersion.
// - WATCH (`watch=true|1`): newline-delimited `{type, object}` events over a chunked response whose headers are
//   flushed at once (client-node awaits them). resourceVersion N replays history after N from a bounded window,
//   then streams live events; unset, "" or "0" first sends a synthetic ADDED for every current matching object
//   (the documented behaviour for both). An N older than the window gets HTTP 410 Expired `too old resource
//   version: N (OLDEST)`. Selectors apply per event as on the real server: an object that stops matching after
//   an update reaches that watcher as DELETED, one that starts matching as ADDED. `allowWatchBookmarks=true`
//   enables BOOKMARKs (periodic if `bookmarkIntervalMs` is set, or on demand via `bookmark()`), and
//   `timeoutSeconds` ends the stream after that long.
// - POST 201 (409 AlreadyExists; `generateName`); a namespace in the body that differs from the path's is a 400,
//   as on the real server. PUT: a stale `metadata.resourceVersion` is a 409 Conflict, a name different from the
//   path's is a 400. PUT/PATCH on the main resource keeps the stored `status`; on `/status` they change only
//   `status`. PATCH: merge patch (RFC 7386), JSON patch (RFC 6902; a failed `test` or a bad path is 422 as in
//   the API server's patch handler, a body that is not an array is 400); the patched object's
//   `metadata.resourceVersion` acts as a precondition (409 on mismatch); strategic and apply patches below; other
//   patch types are 415. DELETE
//   honours DeleteOptions `preconditions` (uid, resourceVersion; 409 on mismatch), returns the object with its
//   final resourceVersion and emits DELETED; deletion is immediate (no finalizers or grace period).
// - Errors are `Status` objects with the HTTP code, reason and the real server's message wording.
// - Secrets' write-only `stringData` is folded into `data` (base64) on create and update.
// - Discovery (fake-apiserver-discovery.ts): legacy `/api`, `/api/v1`, `/apis`, `/apis/G`, `/apis/G/V` for the
//   resources in its table (core namespaces, services, endpoints, configmaps, secrets, events, nodes, pods,
//   serviceaccounts; events.k8s.io, discovery.k8s.io endpointslices, coordination.k8s.io leases, rbac, apps,
//   policy, networking, scheduling, apiextensions, SelfSubjectAccessReview) with verbs, scope, kind and short names
//   (`svc`, `cm`, `no`, `ep`, ...); `/version` (v1.32.0-fake); `/healthz|livez|readyz`; an OpenAPI v3 index and per
//   group-version documents whose PATCH operations advertise `fieldValidation`, so kubectl leaves validation to the
//   server and `kubectl apply -f` needs no `--validate=false`. `/openapi/v2` (JSON, or gnostic protobuf when asked)
//   has no definitions: kubectl's client-side validation (used for `kind: List` files) finds no schema and skips,
//   and strategic-merge patch metadata comes from its compiled-in types.
// - Tables: a request accepting `as=Table;g=meta.k8s.io` (kubectl get) gets a meta.k8s.io/v1 Table; Services have
//   the real columns (TYPE, CLUSTER-IP, EXTERNAL-IP with `<pending>`, PORT(S)), so do ConfigMaps, Namespaces, Nodes,
//   Leases and Events; other resources NAME and AGE. Rows carry PartialObjectMetadata unless includeObject=Object.
// - Protobuf (fake-apiserver-protobuf.ts): the bodies kubectl's typed commands POST (`create configmap|secret|
//   namespace|serviceaccount`, `auth can-i`) are decoded; any other protobuf body is a 415. Answers are JSON.
// - Patches: merge (RFC 7386), JSON (RFC 6902), strategic merge with the merge keys of the list fields kubectl
//   touches (containers/env/volumes/ports/... by name, port, containerPort, mountPath...) and the `$patch`,
//   `$setElementOrder`, `$retainKeys`, `$deleteFromPrimitiveList` directives; `apply-patch+yaml` (server-side
//   apply) creates a missing object or is merged like a strategic patch. `dryRun=All` runs every check and stores
//   nothing.
// - Services (fake-apiserver-services.ts, `serviceDefaults: true`): the registry's defaults and allocations —
//   clusterIP(s)/ipFamilies by ipFamilyPolicy, nodePorts from 30000-32767 (500 "range is full" when exhausted,
//   unless allocateLoadBalancerNodePorts is false), kept across updates, freed on delete.
// - TLS (fake-apiserver-tls.ts, `tls: true`): an EC P-256 CA and a server certificate for IP 127.0.0.1 made by the
//   openssl CLI once per process; `caPem`, and `certificate-authority-data` in kubeconfigs.
// - Authentication: bearer tokens. `adminToken` is kubernetes-admin in system:masters (bypasses authorization);
//   `serviceAccountToken(ns, name[, pod])` is `system:serviceaccount:NS:NAME` with the ServiceAccount groups (a
//   distinct token per pod, recorded in the audit log, tells replicas apart);
//   `userToken(name, groups)` any user. With `rbac: true` a missing or unknown token is 401; without, it is the
//   admin (as before: plain-HTTP tests send any token).
// - Authorization (fake-apiserver-rbac.ts, `rbac: true`): the RBAC authorizer over the Roles, ClusterRoles,
//   RoleBindings and ClusterRoleBindings in the store (applied with kubectl, or seeded), re-read on every request;
//   request attributes as kube-apiserver derives them (GET on a collection = list, `watch=1` = watch, PUT = update,
//   DELETE on a collection = deletecollection, a list/watch with fieldSelector `metadata.name=X` is for name X);
//   apiGroups, resources with subresources (`services/status`, `*/status`), resourceNames, verbs with `*`,
//   nonResourceURLs; RoleBindings grant in their namespace only (also for a ClusterRole), ClusterRoleBindings
//   everywhere; bootstrap discovery and SelfSubject{Access,Rules}Reviews (`kubectl auth can-i [--list]`) for every
//   authenticated user. A denial is 403 Forbidden with the real message. `audit` records every request (user,
//   groups, pod, verb, group, version, resource, subresource, namespace, name, decision, reason, the rules that
//   granted it, HTTP status, arrival time); `denials()` and `permissionUsage()` read it.
//
// Deliberate simplifications:
// - Strategic merge knows merge keys by field name only (a table, not the Go types' struct tags); lists it does not
//   name are replaced. Server-side apply keeps no managedFields and detects no field-manager conflicts.
// - `status` in a POST body is kept (the real server drops it for some resources, e.g. Services' strategy resets
//   it); tests can create an object with a status in one request.
// - Pages after the first read the current store (after the last key returned), not a snapshot at the first
//   page's resourceVersion; a continue token older than the history window is a 410, as on the real server.
// - LIST ignores `resourceVersion`/`resourceVersionMatch` and always serves the latest state; watches ignore
//   `sendInitialEvents` (watch-list streaming). A watch from a
//   resourceVersion newer than the current one just waits for events (the real server may answer 504 later).
// - fieldSelector accepts any dotted field path; the real server allows only a per-resource set.
// - No admission, defaulting (except Services with `serviceDefaults`), validation (`fieldValidation` is accepted and
//   ignored), finalizers, deletionTimestamp, ownerReferences GC; objects may be created in a namespace that does
//   not exist, and deleting a Namespace leaves its objects. RBAC: no aggregated ClusterRoles, no escalation/bind checks on RBAC writes, no impersonation;
//   a ServiceAccount token is valid whether or not the ServiceAccount exists. Aggregated discovery (v2), OpenAPI
//   schemas and protobuf responses are not served (clients fall back to the legacy/JSON forms).
// - Protocol timers (timeoutSeconds, the bookmark interval) run on real time, scaled by `msPerSecond` so tests
//   can make `timeoutSeconds=1` last a few milliseconds; nothing else waits.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as nodePath from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { apiGroupList, apiResourceList, apiVersions, OPENAPI_V2_JSON, OPENAPI_V2_PROTOBUF, openApiV2Protobuf, openApiV3Document, openApiV3Index, VERSION_INFO } from './fake-apiserver-discovery.js';
import {
  authorize,
  fieldSelectorName,
  nonResourceAttributes,
  permissionCovers,
  permissionsOf,
  requestVerb,
  rulesFor,
  sameRole,
  type Decision,
  type Permission,
  type RbacState,
  type RoleRef as RoleRefOf,
  type RequestAttributes,
  type RuleUse,
  type UserInfo,
} from './fake-apiserver-rbac.js';
import { decodeProtobufObject } from './fake-apiserver-protobuf.js';
import { ServiceAllocator, ServiceError } from './fake-apiserver-services.js';
import { testPki } from './fake-apiserver-tls.js';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

export type { Permission, RequestAttributes, RuleUse, UserInfo } from './fake-apiserver-rbac.js';

// The object shape is the client layer's own (src/k8s/types.ts): what the server stores is what ingot reads.
import type { KubeObject, ObjectMeta } from '../../src/k8s/types.js';
export type { KubeObject, ObjectMeta };

/** An object as the store holds it: identity fields are always set. */
export interface StoredObject extends KubeObject {
  metadata: ObjectMeta & { name: string; uid: string; resourceVersion: string; generation: number; creationTimestamp: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  code: number;
  details?: { name?: string; group?: string; kind?: string };
}

export interface RequestRecord {
  method: string;
  /** Path with the query string, as sent. */
  path: string;
  contentType: string;
  /** HTTP status sent; 0 while none has been (or when the connection was aborted by a fault). */
  status: number;
}

export type Fault =
  /** Answer with this HTTP status and a Status body. */
  | { type: 'status'; code: number; reason?: string; message?: string }
  /** Watch: 200, then one `ERROR` event carrying a 410 Expired Status, then end (the in-stream form of 410). */
  | { type: 'watchExpired' }
  /** Destroy the connection: a watch after its headers were sent, any other request before a response. */
  | { type: 'abort' }
  /** Wait this long, then handle the request normally. */
  | { type: 'delay'; ms: number };

export interface FaultRule {
  fault: Fault;
  method?: string;
  /** A substring of the path (without the query), or a RegExp tested against path and query. */
  path?: string | RegExp;
  /** Only watch requests (true) or only non-watch requests (false). */
  watch?: boolean;
  /** How many matching requests get the fault; default 1. */
  times?: number;
}

export interface FakeApiServerOptions {
  port?: number;
  /** Watch events kept for replay; a watch from before the window gets 410. */
  historyLimit?: number;
  /** The resourceVersion before the first write. */
  initialResourceVersion?: number;
  /** Sends a BOOKMARK this often to watches that allowed them; 0 (default) sends them only via bookmark(). */
  bookmarkIntervalMs?: number;
  /** Real milliseconds per protocol second, for timeoutSeconds; default 1000. */
  msPerSecond?: number;
  /** Clock for creationTimestamp. */
  now?: () => Date;
  /** Serve HTTPS with a certificate for 127.0.0.1 signed by a CA made at start (openssl); see `caPem`. */
  tls?: boolean;
  /** Require a known bearer token (401 otherwise) and authorize every request with RBAC from the stored Roles,
   *  ClusterRoles and bindings (403 when nothing grants it). Off: every request is allowed, as before. */
  rbac?: boolean;
  /** Default and allocate Services as the real registry does (fake-apiserver-services.ts): clusterIP(s),
   *  ipFamilies, ipFamilyPolicy, nodePorts from 30000-32767 (exhaustion is a 500), protocol, targetPort, traffic
   *  policies. Off (default): Services are stored as sent. */
  serviceDefaults?: boolean;
}

/** One request as the authorizer saw it (every request, in arrival order; RBAC mode or not). */
export interface AuditRecord extends RequestAttributes {
  method: string;
  /** The authenticated user. No known token: `system:anonymous` (401) with `rbac`, else `kubernetes-admin`. */
  user: string;
  groups: string[];
  allowed: boolean;
  /** Why it was allowed or the 403's message. */
  reason: string;
  /** Every RBAC rule that grants it (empty for system:masters, discovery and denials). */
  rules: RuleUse[];
  /** HTTP status sent; 0 while none has been. */
  status: number;
  /** The pod of a token from `serviceAccountToken(ns, name, pod)`. */
  pod?: string;
  /** Wall-clock arrival time (Date.now(), not the injected `now`), for request-rate checks. */
  at: number;
}

/** A permission granted by a stored role, and whether any allowed request exercised it. */
export interface PermissionUsage extends Permission {
  used: boolean;
}

export interface KubeconfigFileOptions {
  /** Bearer token of the user; default the admin token. */
  token?: string;
  /** The context's default namespace. */
  namespace?: string;
}

export interface KubeConfigOptions {
  clusters: Array<{ name: string; server: string; skipTLSVerify: boolean; caData?: string }>;
  users: Array<{ name: string; token: string }>;
  contexts: Array<{ name: string; cluster: string; user: string; namespace?: string }>;
  currentContext: string;
}

export interface FakeApiServer {
  readonly url: string;
  readonly port: number;
  /** The current global resourceVersion. */
  readonly resourceVersion: string;
  /** Every request received, in arrival order. */
  readonly requests: readonly RequestRecord[];
  /** Creates objects as another client would (ADDED events); throws if one exists. `resourcePath` is e.g.
   *  `/api/v1/services` or `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases`. */
  seed(resourcePath: string, ...objects: KubeObject[]): StoredObject[];
  /** Creates or replaces an object, status included (ADDED or MODIFIED). */
  set(resourcePath: string, object: KubeObject): StoredObject;
  /** Deletes an object (DELETED event); false when it did not exist. */
  remove(resourcePath: string, name: string, namespace?: string): boolean;
  get(resourcePath: string, name: string, namespace?: string): StoredObject | undefined;
  /** Objects of the resource, in one namespace when the path or `namespace` names one, ordered by namespace/name. */
  list(resourcePath: string, namespace?: string): StoredObject[];
  /** Drops the watch history: watches from any resourceVersion before now get 410. */
  compact(): void;
  injectFault(rule: FaultRule): void;
  /** Sends a BOOKMARK with the current resourceVersion to every watch that allowed bookmarks. */
  bookmark(): void;
  /** Ends every open watch cleanly, as the server does at its own timeout. */
  closeWatches(): void;
  /** Open watches, optionally only those on a resource path (same form as seed()). */
  watchCount(resourcePath?: string): number;
  /** Resolves once at least `count` watches are open on the resource (any when omitted). */
  waitForWatches(count: number, resourcePath?: string, timeoutMs?: number): Promise<void>;
  /** Options for client-node's `KubeConfig.loadFromOptions`: with the CA data in TLS mode, and `token` (default
   *  the admin token) as the user's bearer token. */
  kubeconfig(namespace?: string, token?: string): KubeConfigOptions;
  /** A kubeconfig YAML document (certificate-authority-data in TLS mode) for the user with this token. */
  kubeconfigYaml(options?: KubeconfigFileOptions): string;
  /** Writes kubeconfigYaml() to a file in a directory removed by close(); returns its path (for $KUBECONFIG). */
  kubeconfigFile(options?: KubeconfigFileOptions): string;
  /** PEM of the CA that signed the server's certificate (TLS mode), else undefined. */
  readonly caPem: string | undefined;
  /** The admin's bearer token: user `kubernetes-admin` in group `system:masters` (bypasses RBAC). */
  readonly adminToken: string;
  /** A bearer token for ServiceAccount NS/NAME: user `system:serviceaccount:NS:NAME`, groups
   *  `system:serviceaccounts`, `system:serviceaccounts:NS`, `system:authenticated`. Same token on every call with
   *  the same arguments; with `pod`, a distinct token whose requests the audit log marks with that pod (replicas
   *  of one Deployment share a ServiceAccount but not a token). */
  serviceAccountToken(namespace: string, name: string, pod?: string): string;
  /** A bearer token for an arbitrary user (for User and Group subjects). */
  userToken(name: string, groups?: string[]): string;
  /** What the authorizer saw for every request, in arrival order. */
  readonly audit: readonly AuditRecord[];
  /** Denied requests (403), optionally only a user's (exact name, or a RegExp such as /^system:serviceaccount:ingot-system:/). */
  denials(user?: string | RegExp): AuditRecord[];
  /** Every permission granted by the stored Roles and ClusterRoles (rules expanded to single
   *  apiGroup × resource × verb × resourceName), marked used when an allowed request was granted through that rule
   *  and matches that permission. With `users`, only roles bound to one of them, and only their requests count. */
  permissionUsage(users?: Array<string | RegExp>): PermissionUsage[];
  /** Ends watches, drops every connection and stops listening. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Paths

interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  /** '' for cluster-scoped objects and for all-namespace list/watch. */
  namespace: string;
  name?: string;
  subresource?: string;
}

/** Parses `/api/v1/...` or `/apis/G/V/...`; undefined when the path is not a resource path. */
function parseResourcePath(pathname: string): ResourceRef | undefined {
  const p = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (p[0] === 'api') {
    group = '';
    version = p[1];
    rest = p.slice(2);
  } else if (p[0] === 'apis' && p[1] !== undefined) {
    group = p[1];
    version = p[2];
    rest = p.slice(3);
  } else {
    return undefined;
  }
  if (version === undefined || rest.length === 0) return undefined;
  let namespace = '';
  // `namespaces/NS` alone (or `namespaces/NS/status`) addresses the Namespace object itself.
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status') {
    namespace = rest[1] ?? '';
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  if (resource === undefined || extra.length > 0) return undefined;
  return { group, version, resource, namespace, ...(name !== undefined ? { name } : {}), ...(subresource !== undefined ? { subresource } : {}) };
}

const gvrKey = (r: { group: string; version: string; resource: string }): string => `${r.group}/${r.version}/${r.resource}`;
const objectKey = (namespace: string, name: string): string => `${namespace}/${name}`;

// ---------------------------------------------------------------------------------------------------------------
// Errors

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Status['details'],
  ) {
    super(message);
  }

  toStatus(): Status {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code, ...(this.details ? { details: this.details } : {}) };
  }
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

const qualified = (ref: ResourceRef): string => (ref.group ? `${ref.resource}.${ref.group}` : ref.resource);
const detailsOf = (ref: ResourceRef, name: string): Status['details'] => ({ name, group: ref.group, kind: ref.resource });

const notFound = (ref: ResourceRef, name: string): ApiError => new ApiError(404, 'NotFound', `${qualified(ref)} "${name}" not found`, detailsOf(ref, name));
const conflict = (ref: ResourceRef, name: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(ref)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, detailsOf(ref, name));
const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);
const expired = (requested: number, oldest: number): ApiError => new ApiError(410, 'Expired', `too old resource version: ${requested} (${oldest})`);

// ---------------------------------------------------------------------------------------------------------------
// Selectors

type Predicate = (obj: KubeObject) => boolean;

/** Splits on commas outside parentheses, so `k in (a,b),x=y` is two requirements. */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts.map((s) => s.trim()).filter((s) => s !== '');
}

function labelRequirement(req: string): (labels: Record<string, string>) => boolean {
  const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in' ? (l) => l[key] !== undefined && values.has(l[key]) : (l) => l[key] === undefined || !values.has(l[key]);
  }
  const eq = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s!=]*)$/.exec(req);
  if (eq) {
    const [, key = '', op, value = ''] = eq;
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  const exists = /^(!?)([^\s!=(),]+)$/.exec(req);
  if (exists) {
    const [, not, key = ''] = exists;
    return not ? (l) => l[key] === undefined : (l) => l[key] !== undefined;
  }
  throw badRequest(`unable to parse requirement: ${JSON.stringify(req)}`);
}

function parseLabelSelector(selector: string | null): Predicate {
  if (!selector) return () => true;
  const reqs = splitRequirements(selector).map(labelRequirement);
  return (obj) => {
    const labels = obj.metadata?.labels ?? {};
    return reqs.every((r) => r(labels));
  };
}

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) cur = isRecord(cur) ? cur[part] : undefined;
  return cur === undefined || cur === null ? '' : String(cur);
}

function parseFieldSelector(selector: string | null): Predicate {
  if (!selector) return () => true;
  const reqs = splitRequirements(selector).map((req): Predicate => {
    const m = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${req}'`);
    const [, path = '', op, value = ''] = m;
    return op === '!=' ? (o) => fieldValue(o, path) !== value : (o) => fieldValue(o, path) === value;
  });
  return (obj) => reqs.every((r) => r(obj));
}

// ---------------------------------------------------------------------------------------------------------------
// Patches

type JsonObject = Record<string, unknown>;

function isRecord(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386: objects merge recursively, null deletes a key, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const out: JsonObject = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** A JSON patch that is well-formed but cannot be applied: the API server answers 422. */
const patchFailed = (message: string): ApiError => new ApiError(422, 'Invalid', message);

function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string' || (pointer !== '' && !pointer.startsWith('/'))) throw patchFailed(`invalid JSON pointer: ${JSON.stringify(pointer)}`);
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(arr: unknown[], token: string, allowEnd: boolean): number {
  if (allowEnd && token === '-') return arr.length;
  const i = /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : NaN;
  if (!(i >= 0 && i < arr.length + (allowEnd ? 1 : 0))) throw patchFailed(`array index out of bounds: ${token}`);
  return i;
}

function resolve(doc: unknown, tokens: string[]): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)];
    else if (isRecord(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw patchFailed(`path not found: /${tokens.join('/')}`);
  }
  return cur;
}

/** The container holding the last token, and that token; throws when the parent does not exist. */
function parentOf(doc: unknown, tokens: string[]): { parent: unknown; last: string } {
  const last = tokens[tokens.length - 1];
  if (last === undefined) throw patchFailed('the root cannot be the target of this operation');
  return { parent: resolve(doc, tokens.slice(0, -1)), last };
}

function addAt(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else if (isRecord(parent)) parent[last] = value;
  else throw patchFailed(`cannot add to a scalar at /${tokens.join('/')}`);
  return doc;
}

function removeAt(doc: unknown, tokens: string[]): void {
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
  else if (isRecord(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw patchFailed(`path not found: /${tokens.join('/')}`);
}

/** RFC 6902 on a copy of `doc`. */
function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('a JSON patch must be an array of operations');
  let out = structuredClone(doc);
  for (const op of ops) {
    if (!isRecord(op)) throw patchFailed('a JSON patch operation must be an object');
    const path = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        out = addAt(out, path, structuredClone(op.value));
        break;
      case 'remove':
        removeAt(out, path);
        break;
      case 'replace':
        resolve(out, path); // must exist
        if (path.length > 0) removeAt(out, path);
        out = addAt(out, path, structuredClone(op.value));
        break;
      case 'move': {
        const from = parsePointer(op.from);
        const value = resolve(out, from);
        removeAt(out, from);
        out = addAt(out, path, value);
        break;
      }
      case 'copy':
        out = addAt(out, path, structuredClone(resolve(out, parsePointer(op.from))));
        break;
      case 'test':
        if (!isDeepStrictEqual(resolve(out, path), op.value)) throw patchFailed(`testing value /${path.join('/')} failed`);
        break;
      default:
        throw patchFailed(`unexpected kind of operation: ${JSON.stringify(op.op)}`);
    }
  }
  return out;
}

const MERGE_PATCH = 'application/merge-patch+json';
const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';

/** Merge keys of the list fields kubectl's strategic-merge patches touch (from the API types' `patchMergeKey`),
 *  by field name. `ports` is keyed by `containerPort` in a container and by `port` in a Service. Lists not named
 *  here are atomic (replaced), as `patchStrategy` unset means. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  readinessGates: 'conditionType',
  taints: 'key',
  topologySpreadConstraints: 'topologyKey',
  ports: 'port',
};
/** Primitive lists with `patchStrategy: merge` (union, not replace). */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  if (field === 'ports' && items.some((x) => isRecord(x) && x.containerPort !== undefined)) return 'containerPort';
  return MERGE_KEYS[field];
}

/** A strategic-merge patch (the subset kubectl sends): maps merge as in RFC 7386; lists of known merge keys merge
 *  element-wise by key (`$patch: delete` on an element removes it); `$patch: replace|delete` on a map,
 *  `$retainKeys`, `$deleteFromPrimitiveList/F` and `$setElementOrder/F` (which orders the merged list). */
function strategicMerge(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return strategicMerge({}, rest);
  }
  let out: JsonObject = isRecord(target) ? { ...target } : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys.filter((k): k is string => typeof k === 'string'));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  const orders: Array<[string, unknown[]]> = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$retainKeys' || key === '$patch') continue;
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders.push([key.slice('$setElementOrder/'.length), value]);
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const drop = Array.isArray(value) ? value : [];
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !drop.some((d) => isDeepStrictEqual(d, x)));
      continue;
    }
    if (value === null || (isRecord(value) && value.$patch === 'delete')) delete out[key];
    else if (Array.isArray(value)) out[key] = mergeList(key, out[key], value);
    else out[key] = strategicMerge(out[key], value);
  }
  for (const [field, order] of orders) {
    const list = out[field];
    const key = Array.isArray(list) ? mergeKeyFor(field, list) : undefined;
    if (!Array.isArray(list)) continue;
    const rank = (x: unknown): number => {
      const i = order.findIndex((o) => (key && isRecord(o) && isRecord(x) ? o[key] === x[key] : isDeepStrictEqual(o, x)));
      return i < 0 ? order.length : i;
    };
    out[field] = [...list].sort((a, b) => rank(a) - rank(b));
  }
  return out;
}

function mergeList(field: string, current: unknown, patch: unknown[]): unknown[] {
  const base = Array.isArray(current) ? current : [];
  if (MERGED_PRIMITIVE_LISTS.has(field)) return [...base, ...patch.filter((x) => !base.some((b) => isDeepStrictEqual(b, x)))];
  const key = mergeKeyFor(field, [...base, ...patch]);
  if (!key || !patch.every(isRecord)) return structuredClone(patch.filter((x) => !(isRecord(x) && x.$patch !== undefined)));
  if (patch.some((x) => isRecord(x) && x.$patch === 'replace')) return structuredClone(patch.filter((x) => !(isRecord(x) && x.$patch !== undefined)));
  const out = [...base];
  for (const item of patch as JsonObject[]) {
    const i = out.findIndex((x) => isRecord(x) && x[key] === item[key]);
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = strategicMerge(out[i], item);
    else out.push(strategicMerge({}, item));
  }
  return out;
}

const APPLY_PATCH = 'application/apply-patch+yaml';

function applyPatch(contentType: string, current: StoredObject, patch: unknown): KubeObject {
  let patched: unknown;
  if (contentType === MERGE_PATCH) patched = mergePatch(current, patch);
  else if (contentType === STRATEGIC_MERGE_PATCH || contentType === APPLY_PATCH) patched = strategicMerge(current, patch);
  else if (contentType === JSON_PATCH) patched = jsonPatch(current, patch);
  else throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${APPLY_PATCH}, ${STRATEGIC_MERGE_PATCH}`);
  if (!isRecord(patched) || !isRecord(patched.metadata)) throw patchFailed('the patched object has no metadata');
  return patched as KubeObject;
}

// ---------------------------------------------------------------------------------------------------------------
// Store and watch history

interface HistoryEvent {
  rv: number;
  gvr: string;
  namespace: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: StoredObject;
  /** The state before a MODIFIED, so selector transitions can be computed per watcher. */
  previous?: StoredObject;
}

interface Watcher {
  gvr: string;
  namespace: string;
  matches: Predicate;
  bookmarks: boolean;
  res: http.ServerResponse;
  timers: NodeJS.Timeout[];
  /** Set for `kubectl get -w`, which asks for Tables: turns each event's object into a one-row Table. */
  render?: (object: KubeObject) => KubeObject;
}

/** What a watcher with these selectors sees of a store event (undefined: nothing). */
function eventFor(w: Watcher, e: HistoryEvent): WatchEvent | undefined {
  if (e.gvr !== w.gvr || (w.namespace !== '' && w.namespace !== e.namespace)) return undefined;
  const now = w.matches(e.object);
  if (e.type !== 'MODIFIED') return now ? { type: e.type, object: e.object } : undefined;
  const before = e.previous !== undefined && w.matches(e.previous);
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: e.object };
  return before ? { type: 'DELETED', object: e.object } : undefined;
}

/** Everything but metadata and status, which is what generation tracks. */
function specPart(obj: KubeObject): JsonObject {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

function parseBody(raw: string): KubeObject {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    throw badRequest(`invalid JSON in request body: ${(err as Error).message}`);
  }
  if (!isRecord(body)) throw badRequest('the request body must be a JSON object');
  if (body.metadata !== undefined && !isRecord(body.metadata)) throw badRequest('metadata must be an object');
  return body as KubeObject;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw badRequest(`invalid JSON in patch: ${(err as Error).message}`);
  }
}

interface ContinueToken {
  rv: number;
  after: string;
}

const encodeContinue = (t: ContinueToken): string => Buffer.from(JSON.stringify(t)).toString('base64url');

function decodeContinue(token: string): ContinueToken {
  try {
    const t: unknown = JSON.parse(Buffer.from(token, 'base64url').toString());
    if (isRecord(t) && typeof t.rv === 'number' && typeof t.after === 'string') return { rv: t.rv, after: t.after };
  } catch {
    // fall through
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

function nonNegativeInt(value: string | null, param: string): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^[0-9]+$/.test(value)) throw badRequest(`invalid value for ${param}: ${value}`);
  return Number(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Tables (what `kubectl get` asks for: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io, ...`)

function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((t) => /;\s*as=Table/.test(t) && /;\s*g=meta\.k8s\.io/.test(t));
}

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (o: StoredObject) => unknown;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, p) => (isRecord(cur) ? cur[p] : undefined), o);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function age(o: StoredObject): string {
  return since(o.metadata.creationTimestamp);
}

function since(timestamp: string): string {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (Number.isNaN(s)) return '<unknown>';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** The server-side printer columns of the real API server for the resources a user lists most; Name and Age for
 *  the rest. */
function columnsFor(ref: ResourceRef): Column[] {
  const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
  const ageCol: Column = { name: 'Age', type: 'string', cell: age };
  const key = `${ref.group}/${ref.resource}`;
  switch (key) {
    case '/services':
      return [
        name,
        { name: 'Type', type: 'string', cell: (o) => str(at(o, 'spec', 'type')) || 'ClusterIP' },
        { name: 'Cluster-IP', type: 'string', cell: (o) => str(at(o, 'spec', 'clusterIP')) || '<none>' },
        {
          name: 'External-IP',
          type: 'string',
          cell: (o) => {
            const ips = arr(at(o, 'status', 'loadBalancer', 'ingress')).map((i) => str(at(i, 'ip')) || str(at(i, 'hostname')));
            if (ips.length) return ips.join(',');
            return str(at(o, 'spec', 'type')) === 'LoadBalancer' ? '<pending>' : '<none>';
          },
        },
        {
          name: 'Port(s)',
          type: 'string',
          cell: (o) => arr(at(o, 'spec', 'ports')).map((p) => `${str(at(p, 'port'))}${at(p, 'nodePort') !== undefined ? `:${str(at(p, 'nodePort'))}` : ''}/${str(at(p, 'protocol')) || 'TCP'}`).join(',') || '<none>',
        },
        ageCol,
      ];
    case '/configmaps':
      return [name, { name: 'Data', type: 'integer', cell: (o) => Object.keys(isRecord(o.data) ? o.data : {}).length + Object.keys(isRecord(o.binaryData) ? o.binaryData : {}).length }, ageCol];
    case '/namespaces':
      return [name, { name: 'Status', type: 'string', cell: (o) => str(at(o, 'status', 'phase')) || 'Active' }, ageCol];
    case '/nodes':
      return [
        name,
        {
          name: 'Status',
          type: 'string',
          cell: (o) => (arr(at(o, 'status', 'conditions')).some((c) => at(c, 'type') === 'Ready' && at(c, 'status') === 'True') ? 'Ready' : 'NotReady'),
        },
        ageCol,
      ];
    case 'coordination.k8s.io/leases':
      return [name, { name: 'Holder', type: 'string', cell: (o) => str(at(o, 'spec', 'holderIdentity')) }, ageCol];
    case '/events':
      return [
        { name: 'Last Seen', type: 'string', cell: (o) => since(str(o.lastTimestamp) || str(o.eventTime) || o.metadata.creationTimestamp) },
        { name: 'Type', type: 'string', cell: (o) => str(o.type) },
        { name: 'Reason', type: 'string', cell: (o) => str(o.reason) },
        { name: 'Object', type: 'string', cell: (o) => `${str(at(o, 'involvedObject', 'kind')).toLowerCase()}/${str(at(o, 'involvedObject', 'name'))}` },
        { name: 'Message', type: 'string', cell: (o) => str(o.message) },
        { ...name, priority: 1 },
      ];
    default:
      return [name, ageCol];
  }
}

/** A meta.k8s.io/v1 Table; rows carry PartialObjectMetadata unless `includeObject=Object`. */
function toTable(ref: ResourceRef, items: StoredObject[], metadata: JsonObject, q: URLSearchParams): JsonObject {
  const columns = columnsFor(ref);
  const full = q.get('includeObject') === 'Object';
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: '', priority: c.priority ?? 0 })),
    rows: items.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      object: full ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

/** Roles bound (by any binding) to a subject whose user name passes `selected` (User and ServiceAccount subjects). */
function boundRoles(state: RbacState, selected: (user: string) => boolean): RoleRefOf[] {
  const out: RoleRefOf[] = [];
  const subjectUser = (s: unknown, ns: string): string | undefined => {
    if (!isRecord(s) || typeof s.name !== 'string') return undefined;
    if (s.kind === 'User') return s.name;
    if (s.kind === 'ServiceAccount') return `system:serviceaccount:${typeof s.namespace === 'string' && s.namespace ? s.namespace : ns}:${s.name}`;
    return undefined;
  };
  const scan = (bindings: RbacState['roleBindings'], cluster: boolean): void => {
    for (const b of bindings) {
      const ns = b.metadata?.namespace ?? '';
      const ref = b.roleRef;
      if (!isRecord(ref) || typeof ref.name !== 'string' || (ref.kind !== 'Role' && ref.kind !== 'ClusterRole')) continue;
      if (!Array.isArray(b.subjects) || !b.subjects.some((s) => { const u = subjectUser(s, ns); return u !== undefined && selected(u); })) continue;
      out.push({ kind: ref.kind, namespace: ref.kind === 'Role' && !cluster ? ns : '', name: ref.name });
    }
  };
  scan(state.clusterRoleBindings, true);
  scan(state.roleBindings, false);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The server

export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const historyLimit = options.historyLimit ?? 1000;
  const msPerSecond = options.msPerSecond ?? 1000;
  const now = options.now ?? (() => new Date());
  let rv = options.initialResourceVersion ?? 1;
  /** RVs after this one are all in `history`; a watch from an older RV cannot be served. */
  let compactedRv = rv;
  let uidCounter = 0;
  let nameCounter = 0;
  const store = new Map<string, Map<string, StoredObject>>(); // gvr -> namespace/name -> object
  const kinds = new Map<string, string>(); // gvr -> Kind, learned from written objects
  const history: HistoryEvent[] = [];
  const watchers = new Set<Watcher>();
  const requests: RequestRecord[] = [];
  const faults: FaultRule[] = [];
  const pendingTimers = new Set<NodeJS.Timeout>();
  const watchListeners = new Set<() => void>();
  let dryRun = false;
  const services = options.serviceDefaults ? new ServiceAllocator() : undefined;

  const bucket = (gvr: string): Map<string, StoredObject> => {
    let b = store.get(gvr);
    if (!b) store.set(gvr, (b = new Map()));
    return b;
  };

  // --- writes: every one goes through commit(), which bumps the RV and fans the event out -----------------------

  function commit(ref: ResourceRef, type: HistoryEvent['type'], object: StoredObject, previous?: StoredObject): StoredObject {
    // `dryRun=All` (kubectl --dry-run=server): every check ran, nothing is stored, no RV is used.
    if (dryRun) return structuredClone(object);
    const gvr = gvrKey(ref);
    object.metadata.resourceVersion = String(++rv);
    if (object.kind) kinds.set(gvr, object.kind);
    const key = objectKey(ref.namespace, object.metadata.name);
    if (type === 'DELETED') bucket(gvr).delete(key);
    else bucket(gvr).set(key, object);
    const event: HistoryEvent = { rv, gvr, namespace: ref.namespace, type, object, ...(previous ? { previous } : {}) };
    history.push(event);
    while (history.length > historyLimit) compactedRv = history.shift()?.rv ?? compactedRv;
    for (const w of watchers) {
      const ev = eventFor(w, event);
      if (ev) writeEvent(w.res, ev, w);
    }
    return structuredClone(object);
  }

  function create(ref: ResourceRef, body: KubeObject): StoredObject {
    const meta = body.metadata ?? {};
    checkNamespace(ref, meta);
    let name = meta.name;
    if (!name && meta.generateName) name = `${meta.generateName}${(++nameCounter).toString(36).padStart(5, '0')}`;
    if (!name) throw new ApiError(422, 'Invalid', `${qualified(ref)} "" is invalid: metadata.name: Required value: name or generateName is required`);
    if (bucket(gvrKey(ref)).has(objectKey(ref.namespace, name))) throw new ApiError(409, 'AlreadyExists', `${qualified(ref)} "${name}" already exists`, detailsOf(ref, name));
    const { namespace: _ns, resourceVersion: _rv, ...rest } = meta;
    const object = structuredClone({
      ...body,
      metadata: {
        ...rest,
        name,
        ...(ref.namespace ? { namespace: ref.namespace } : {}),
        uid: `00000000-0000-4000-8000-${(++uidCounter).toString(16).padStart(12, '0')}`,
        resourceVersion: '',
        generation: 1,
        creationTimestamp: now().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    }) as StoredObject;
    foldStringData(ref, object);
    if (services && isService(ref) && !dryRun) {
      if (!isRecord(object.spec)) object.spec = {};
      serviceCall(() => services.create(name, object.spec as JsonObject));
    }
    return commit(ref, 'ADDED', object);
  }

  /** Secrets' `stringData` is write-only: the API server folds it into `data` (base64), replacing equal keys. */
  function foldStringData(ref: ResourceRef, object: KubeObject): void {
    if (ref.group !== '' || ref.resource !== 'secrets' || !isRecord(object.stringData)) return;
    const data = isRecord(object.data) ? { ...object.data } : {};
    for (const [k, v] of Object.entries(object.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
    object.data = data;
    delete object.stringData;
  }

  const isService = (ref: ResourceRef): boolean => ref.group === '' && ref.resource === 'services' && ref.subresource === undefined;

  function serviceCall(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof ServiceError) throw new ApiError(err.code, err.code === 422 ? 'Invalid' : 'InternalError', err.message);
      throw err;
    }
  }

  /** The real server refuses a body whose namespace contradicts the path rather than moving the object. */
  function checkNamespace(ref: ResourceRef, meta: ObjectMeta): void {
    if (meta.namespace !== undefined && meta.namespace !== '' && ref.namespace !== '' && meta.namespace !== ref.namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }

  /** Writes `next` over `current`, keeping the identity fields and computing generation. */
  function replace(ref: ResourceRef, current: StoredObject, next: KubeObject): StoredObject {
    const m = current.metadata;
    const object = structuredClone({
      ...next,
      metadata: { ...next.metadata, name: m.name, uid: m.uid, creationTimestamp: m.creationTimestamp, resourceVersion: m.resourceVersion, generation: m.generation },
    }) as StoredObject;
    if (ref.namespace) object.metadata.namespace = ref.namespace;
    if (!isDeepStrictEqual(specPart(object), specPart(current))) object.metadata.generation = m.generation + 1;
    return commit(ref, 'MODIFIED', object, current);
  }

  /** The update rules shared by PUT and PATCH: preconditions, then main resource vs /status isolation. */
  function update(ref: ResourceRef, name: string, next: KubeObject): StoredObject {
    const current = bucket(gvrKey(ref)).get(objectKey(ref.namespace, name));
    if (!current) throw notFound(ref, name);
    const meta = next.metadata ?? {};
    if (meta.name !== undefined && meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    checkNamespace(ref, meta);
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== current.metadata.resourceVersion) throw conflict(ref, name);
    if (ref.subresource === 'status') {
      const { status, ...rest } = current;
      return replace(ref, current, next.status === undefined ? rest : { ...rest, status: next.status });
    }
    if (ref.subresource !== undefined) throw notFound(ref, `${name}/${ref.subresource}`);
    const { status: _ignored, ...rest } = next;
    foldStringData(ref, rest);
    if (services && isService(ref) && !dryRun) {
      const spec = isRecord(rest.spec) ? structuredClone(rest.spec) : {};
      serviceCall(() => services.update(name, isRecord(current.spec) ? current.spec : {}, spec));
      rest.spec = spec;
    }
    return replace(ref, current, current.status === undefined ? rest : { ...rest, status: current.status });
  }

  /** DELETE; `preconditions` are DeleteOptions' optimistic-concurrency checks (a Lease release uses them). */
  function remove(ref: ResourceRef, name: string, preconditions?: { uid?: unknown; resourceVersion?: unknown }): StoredObject {
    const current = bucket(gvrKey(ref)).get(objectKey(ref.namespace, name));
    if (!current) throw notFound(ref, name);
    const { uid, resourceVersion } = preconditions ?? {};
    if ((uid !== undefined && uid !== current.metadata.uid) || (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion)) throw conflict(ref, name);
    if (services && isService(ref) && !dryRun) services.release(current.spec);
    return commit(ref, 'DELETED', structuredClone(current));
  }

  // --- reads ------------------------------------------------------------------------------------------------------

  /** Matching objects in key order (namespace/name, as etcd returns them). */
  function select(ref: ResourceRef, matches: Predicate): Array<[string, StoredObject]> {
    return [...bucket(gvrKey(ref)).entries()]
      .filter(([, o]) => (ref.namespace === '' || o.metadata.namespace === ref.namespace) && matches(o))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  function listKind(ref: ResourceRef): string {
    const kind = kinds.get(gvrKey(ref));
    return kind ? `${kind}List` : 'List';
  }

  function apiVersion(ref: ResourceRef): string {
    return ref.group ? `${ref.group}/${ref.version}` : ref.version;
  }

  function selectorsOf(ref: ResourceRef, q: URLSearchParams): Predicate {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'));
    // A watch on `.../NAME?watch=true` (the deprecated form) is a watch filtered to that name.
    return ref.name === undefined ? (o) => labels(o) && fields(o) : (o) => o.metadata?.name === ref.name && labels(o) && fields(o);
  }

  function listResponse(ref: ResourceRef, q: URLSearchParams): JsonObject {
    const matches = selectorsOf(ref, q);
    const limit = nonNegativeInt(q.get('limit'), 'limit');
    const token = q.get('continue') ? decodeContinue(q.get('continue') ?? '') : undefined;
    if (token && token.rv < compactedRv)
      throw new ApiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
    let items = select(ref, matches);
    if (token) items = items.filter(([key]) => key > token.after);
    const listRv = token ? token.rv : rv;
    const metadata: JsonObject = { resourceVersion: String(listRv) };
    if (limit !== undefined && limit > 0 && items.length > limit) {
      const last = items[limit - 1];
      if (last) metadata.continue = encodeContinue({ rv: listRv, after: last[0] });
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    return { kind: listKind(ref), apiVersion: apiVersion(ref), metadata, items: items.map(([, o]) => o) };
  }

  // --- watches ----------------------------------------------------------------------------------------------------

  function writeEvent(res: http.ServerResponse, ev: WatchEvent, w?: Watcher): void {
    const out = w?.render && ev.type !== 'BOOKMARK' && ev.type !== 'ERROR' ? { type: ev.type, object: w.render(ev.object) } : ev;
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(out)}\n`);
  }

  function bookmarkEvent(w: Watcher): WatchEvent {
    const kind = kinds.get(w.gvr);
    const [group = '', version = ''] = w.gvr.split('/');
    return { type: 'BOOKMARK', object: { ...(kind ? { kind } : {}), apiVersion: group ? `${group}/${version}` : version, metadata: { resourceVersion: String(rv) } } };
  }

  function endWatch(w: Watcher): void {
    watchers.delete(w);
    for (const t of w.timers) clearTimeout(t); // also clears intervals: Node's timer handles are interchangeable
    if (!w.res.writableEnded) w.res.end();
  }

  function startStream(res: http.ServerResponse, record: RequestRecord): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' });
    // Node sends headers only with the first body write; client-node awaits them before reading events.
    res.flushHeaders();
    setStatus(record, 200);
  }

  function watch(ref: ResourceRef, q: URLSearchParams, res: http.ServerResponse, record: RequestRecord, table = false): void {
    const matches = selectorsOf(ref, q);
    const rvParam = q.get('resourceVersion') ?? '';
    const from = rvParam === '' || rvParam === '0' ? undefined : nonNegativeInt(rvParam, 'resourceVersion');
    if (from !== undefined && from < compactedRv) throw expired(from, compactedRv + 1);
    const timeoutSeconds = nonNegativeInt(q.get('timeoutSeconds'), 'timeoutSeconds');
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const w: Watcher = { gvr: gvrKey(ref), namespace: ref.namespace, matches, bookmarks, res, timers: [] };
    if (table) w.render = (o) => toTable(ref, [o as StoredObject], { resourceVersion: o.metadata?.resourceVersion ?? '' }, q);
    startStream(res, record);
    if (from === undefined) {
      for (const [, object] of select(ref, matches)) writeEvent(res, { type: 'ADDED', object }, w);
    } else {
      for (const e of history) {
        const ev = e.rv > from ? eventFor(w, e) : undefined;
        if (ev) writeEvent(res, ev, w);
      }
    }
    // A client that hung up while its request was read would never fire 'close' again: do not register it.
    if (res.socket === null || res.socket.destroyed) return;
    watchers.add(w);
    res.on('close', () => endWatch(w));
    if (timeoutSeconds !== undefined && timeoutSeconds > 0) w.timers.push(setTimeout(() => endWatch(w), timeoutSeconds * msPerSecond));
    if (bookmarks && options.bookmarkIntervalMs) w.timers.push(setInterval(() => writeEvent(res, bookmarkEvent(w)), options.bookmarkIntervalMs));
    for (const notify of watchListeners) notify();
  }

  // --- faults -----------------------------------------------------------------------------------------------------

  function takeFault(method: string, url: URL, isWatch: boolean): Fault | undefined {
    const i = faults.findIndex((r) => {
      if (r.method !== undefined && r.method.toUpperCase() !== method) return false;
      if (r.watch !== undefined && r.watch !== isWatch) return false;
      if (typeof r.path === 'string') return url.pathname.includes(r.path);
      if (r.path instanceof RegExp) return r.path.test(url.pathname + url.search);
      return true;
    });
    const rule = faults[i];
    if (!rule) return undefined;
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) faults.splice(i, 1);
    return rule.fault;
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        pendingTimers.delete(t);
        resolve();
      }, ms);
      pendingTimers.add(t);
    });
  }

  /** Applies a fault; true when it answered the request. */
  async function applyFault(fault: Fault, url: URL, isWatch: boolean, req: http.IncomingMessage, res: http.ServerResponse, record: RequestRecord): Promise<boolean> {
    switch (fault.type) {
      case 'delay':
        await delay(fault.ms);
        return false;
      case 'status':
        throw new ApiError(fault.code, fault.reason ?? REASONS[fault.code] ?? 'Unknown', fault.message ?? `injected fault ${fault.code}`);
      case 'watchExpired': {
        // As if history had been compacted up to now, which is why the requested version is too old.
        const requested = Number(url.searchParams.get('resourceVersion')) || compactedRv;
        const error = expired(requested, rv + 1);
        if (!isWatch) throw error;
        startStream(res, record);
        res.end(`${JSON.stringify({ type: 'ERROR', object: error.toStatus() })}\n`);
        return true;
      }
      case 'abort':
        if (isWatch) {
          startStream(res, record);
          // destroySoon() flushes the headers first, so the client sees an established watch whose body then
          // breaks off without the final chunk.
          req.socket.destroySoon();
        } else {
          req.socket.destroy();
        }
        return true;
    }
  }

  // --- authentication and authorization ---------------------------------------------------------------------------

  const ADMIN: UserInfo = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
  const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
  const adminToken = `admin-${randomBytes(12).toString('hex')}`;
  const tokens = new Map<string, UserInfo>([[adminToken, ADMIN]]);
  const audit: AuditRecord[] = [];
  const auditOf = new WeakMap<RequestRecord, AuditRecord>();

  function tokenFor(user: UserInfo): string {
    for (const [t, u] of tokens) if (u.name === user.name && u.pod === user.pod && isDeepStrictEqual(u.groups, user.groups)) return t;
    const t = `${user.name.replace(/[^a-z0-9]+/gi, '-')}-${randomBytes(12).toString('hex')}`;
    tokens.set(t, user);
    return t;
  }

  function authenticate(req: http.IncomingMessage): UserInfo | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m?.[1] !== undefined ? tokens.get(m[1]) : undefined;
  }

  function attributesOf(method: string, url: URL, ref: ResourceRef | undefined): RequestAttributes {
    if (!ref) return nonResourceAttributes(method, url.pathname);
    const verb = requestVerb(method, ref.name !== undefined, url.searchParams);
    const name = ref.name ?? (verb === 'list' || verb === 'watch' ? fieldSelectorName(url.searchParams.get('fieldSelector')) : '');
    // kube-apiserver's RequestInfo: `/api/v1/namespaces/NS` is in namespace NS.
    const namespace = ref.namespace || (ref.group === '' && ref.resource === 'namespaces' && ref.name !== undefined ? ref.name : '');
    return { verb, resourceRequest: true, path: url.pathname, apiGroup: ref.group, apiVersion: ref.version, resource: ref.resource, subresource: ref.subresource ?? '', namespace, name };
  }

  function rbacState(): Parameters<typeof authorize>[2] {
    const objects = (resource: string): StoredObject[] => [...bucket(`rbac.authorization.k8s.io/v1/${resource}`).values()];
    return { roles: objects('roles'), clusterRoles: objects('clusterroles'), roleBindings: objects('rolebindings'), clusterRoleBindings: objects('clusterrolebindings') };
  }

  /** Authenticates and authorizes; throws the 401 or 403 the real server sends. */
  function admit(req: http.IncomingMessage, record: RequestRecord, attrs: RequestAttributes): UserInfo {
    const user = authenticate(req) ?? (options.rbac ? ANONYMOUS : ADMIN);
    const decision: Decision = options.rbac ? authorize(user, attrs, rbacState()) : { allowed: true, reason: 'authorization disabled', rules: [] };
    const entry: AuditRecord = {
      ...attrs,
      method: record.method,
      user: user.name,
      groups: user.groups,
      ...(user.pod !== undefined ? { pod: user.pod } : {}),
      allowed: decision.allowed,
      reason: decision.reason,
      rules: decision.rules,
      status: 0,
      at: Date.now(),
    };
    audit.push(entry);
    auditOf.set(record, entry);
    if (user === ANONYMOUS) {
      entry.allowed = false;
      entry.reason = 'Unauthorized';
      throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    }
    if (!decision.allowed) {
      const details: Status['details'] = { ...(attrs.name ? { name: attrs.name } : {}), ...(attrs.apiGroup ? { group: attrs.apiGroup } : {}), ...(attrs.resource ? { kind: attrs.resource } : {}) };
      throw new ApiError(403, 'Forbidden', decision.reason, details);
    }
    return user;
  }

  /** `kubectl auth can-i`: the authorizer's answer for the caller, nothing stored. */
  function selfSubjectAccessReview(user: UserInfo, raw: string): JsonObject {
    const review = parseBody(raw);
    const spec = isRecord(review.spec) ? review.spec : {};
    const ra = isRecord(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
    const nra = isRecord(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
    const s = (v: unknown): string => (typeof v === 'string' ? v : '');
    const attrs: RequestAttributes = ra
      ? { verb: s(ra.verb), resourceRequest: true, path: '', apiGroup: s(ra.group), apiVersion: s(ra.version), resource: s(ra.resource), subresource: s(ra.subresource), namespace: s(ra.namespace), name: s(ra.name) }
      : nonResourceAttributes(s(nra?.verb).toUpperCase(), s(nra?.path));
    const decision = options.rbac ? authorize(user, attrs, rbacState()) : { allowed: true, reason: 'authorization disabled', rules: [] };
    return { ...review, apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: { creationTimestamp: null }, status: { allowed: decision.allowed, ...(decision.allowed ? { reason: decision.reason } : {}) } };
  }

  // --- HTTP -------------------------------------------------------------------------------------------------------

  function setStatus(record: RequestRecord, code: number): void {
    record.status = code;
    const entry = auditOf.get(record);
    if (entry) entry.status = code;
  }

  function sendJson(res: http.ServerResponse, record: RequestRecord, code: number, body: unknown): void {
    setStatus(record, code);
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  async function readBody(req: http.IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Discovery, /version, OpenAPI and health: true when it answered. */
  function nonResource(method: string, pathname: string, accept: string | undefined, res: http.ServerResponse, record: RequestRecord): boolean {
    if (method !== 'GET' && method !== 'HEAD') return false;
    const p = pathname.replace(/\/+$/, '') || '/';
    const parts = p.split('/').filter((x) => x !== '');
    let body: object | undefined;
    if (p === '/version') body = VERSION_INFO;
    else if (p === '/api') body = apiVersions(`127.0.0.1:${port}`);
    else if (p === '/apis') body = apiGroupList();
    else if (parts[0] === 'api' && parts.length === 2) body = apiResourceList('', parts[1] ?? '');
    else if (parts[0] === 'apis' && parts.length === 2) body = (apiGroupList() as { groups: Array<{ name: string }> }).groups.find((g) => g.name === parts[1]);
    else if (parts[0] === 'apis' && parts.length === 3) body = apiResourceList(parts[1] ?? '', parts[2] ?? '');
    else if (p === '/openapi/v2' && (accept ?? '').includes('proto-openapi.spec.v2')) {
      setStatus(record, 200);
      res.writeHead(200, { 'content-type': OPENAPI_V2_PROTOBUF });
      res.end(openApiV2Protobuf());
      return true;
    } else if (p === '/openapi/v2') body = OPENAPI_V2_JSON;
    else if (p === '/openapi/v3') body = openApiV3Index();
    else if (parts[0] === 'openapi' && parts[1] === 'v3') body = openApiV3Document(parts.slice(2).join('/'));
    else if (p === '/healthz' || p === '/livez' || p === '/readyz') {
      setStatus(record, 200);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return true;
    } else return false;
    if (body === undefined) return false;
    if (parts[0] === 'apis' && parts.length === 2) body = { kind: 'APIGroup', apiVersion: 'v1', ...body };
    sendJson(res, record, 200, body);
    return true;
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse, record: RequestRecord): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    const isWatch = method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1');
    const body = await readBody(req);
    let raw = body.toString('utf8');
    const ref = parseResourcePath(url.pathname);
    const user = admit(req, record, attributesOf(method, url, ref));
    const fault = takeFault(method, url, isWatch);
    if (fault && (await applyFault(fault, url, isWatch, req, res, record))) return;
    if (!ref) {
      if (nonResource(method, url.pathname, req.headers.accept, res, record)) return;
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (contentType === PROTOBUF) {
      // Only POST of the few kinds kubectl's typed create commands send; decoded to the JSON form.
      if (method !== 'POST') throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
      try {
        raw = JSON.stringify(decodeProtobufObject(body));
      } catch (err) {
        throw new ApiError(415, 'UnsupportedMediaType', `the fake API server cannot decode this protobuf body (${(err as Error).message}); send application/json`);
      }
    }
    if (isWatch) return watch(ref, q, res, record, wantsTable(req.headers.accept));
    dryRun = method !== 'GET' && q.getAll('dryRun').includes('All');
    try {
      return writeOrRead(req, res, record, ref, q, raw, contentType, user, method);
    } finally {
      dryRun = false;
    }
  }

  /** The resource handlers; synchronous, so the dry-run flag cannot leak into another request. */
  function writeOrRead(req: http.IncomingMessage, res: http.ServerResponse, record: RequestRecord, ref: ResourceRef, q: URLSearchParams, raw: string, contentType: string, user: UserInfo, method: string): void {
    const name = ref.name;
    const table = wantsTable(req.headers.accept);
    if (name === undefined) {
      if (method === 'GET') {
        const list = listResponse(ref, q);
        return sendJson(res, record, 200, table ? toTable(ref, list.items as StoredObject[], list.metadata as JsonObject, q) : list);
      }
      if (method === 'POST' && ref.group === 'authorization.k8s.io' && ref.resource === 'selfsubjectaccessreviews') return sendJson(res, record, 201, selfSubjectAccessReview(user, raw));
      if (method === 'POST' && ref.group === 'authorization.k8s.io' && ref.resource === 'selfsubjectrulesreviews') {
        const review = parseBody(raw);
        const ns = isRecord(review.spec) && typeof review.spec.namespace === 'string' ? review.spec.namespace : '';
        const rules = options.rbac ? rulesFor(user, ns, rbacState()) : rulesFor(ADMIN, ns, rbacState());
        return sendJson(res, record, 201, { ...review, apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: { creationTimestamp: null }, status: { ...rules, incomplete: false } });
      }
      if (method === 'POST') return sendJson(res, record, 201, create(ref, parseBody(raw)));
    } else {
      const current = bucket(gvrKey(ref)).get(objectKey(ref.namespace, name));
      switch (method) {
        case 'GET':
          if (!current) throw notFound(ref, name);
          return sendJson(res, record, 200, table ? toTable(ref, [current], { resourceVersion: current.metadata.resourceVersion }, q) : current);
        case 'PUT':
          return sendJson(res, record, 200, update(ref, name, parseBody(raw)));
        case 'PATCH': {
          if (contentType === APPLY_PATCH) return serverSideApply(ref, name, current, raw, res, record);
          if (!current) throw notFound(ref, name);
          return sendJson(res, record, 200, update(ref, name, applyPatch(contentType, current, parseJson(raw))));
        }
        case 'DELETE': {
          if (ref.subresource !== undefined) break;
          const options = raw.trim() === '' ? {} : parseBody(raw);
          return sendJson(res, record, 200, remove(ref, name, isRecord(options.preconditions) ? options.preconditions : undefined));
        }
      }
    }
    throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }

  /** `kubectl apply --server-side`: the body (YAML or JSON) creates the object or is merged into it as a strategic
   *  merge patch. No managedFields or conflict detection between field managers. */
  function serverSideApply(ref: ResourceRef, name: string, current: StoredObject | undefined, raw: string, res: http.ServerResponse, record: RequestRecord): void {
    let body: unknown;
    try {
      body = parseYaml(raw);
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
    if (!isRecord(body)) throw badRequest('the apply patch must be an object');
    if (!current) {
      if (ref.subresource !== undefined) throw notFound(ref, name);
      return sendJson(res, record, 201, create(ref, { ...body, metadata: { ...(isRecord(body.metadata) ? body.metadata : {}), name } } as KubeObject));
    }
    return sendJson(res, record, 200, update(ref, name, applyPatch(APPLY_PATCH, current, body)));
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const record: RequestRecord = { method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'] ?? '', status: 0 };
    requests.push(record);
    route(req, res, record).catch((err: unknown) => {
      const apiError = err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err));
      if (!res.headersSent) sendJson(res, record, apiError.code, apiError.toStatus());
      else res.destroy();
    });
  };
  const pki = options.tls ? await testPki() : undefined;
  const server = pki ? https.createServer({ key: pki.keyPem, cert: pki.certPem }, handler) : http.createServer(handler);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${pki ? 'https' : 'http'}://127.0.0.1:${port}`;
  let kubeconfigDir: string | undefined;
  let kubeconfigCount = 0;

  function kubeconfigYaml(opts: KubeconfigFileOptions = {}): string {
    const cluster = { server: url, ...(pki ? { 'certificate-authority-data': Buffer.from(pki.caPem).toString('base64') } : {}) };
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster }],
      users: [{ name: 'fake-user', user: { token: opts.token ?? adminToken } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake-user', ...(opts.namespace ? { namespace: opts.namespace } : {}) } }],
      'current-context': 'fake',
      preferences: {},
    };
    return stringifyYaml(config);
  }

  // --- test control -----------------------------------------------------------------------------------------------

  /** A resource path plus an object's namespace → the ref the object lives under. */
  function refFor(resourcePath: string, namespace?: string): ResourceRef {
    const ref = parseResourcePath(resourcePath.startsWith('/') ? resourcePath : `/${resourcePath}`);
    if (!ref || ref.name !== undefined) throw new Error(`not a resource collection path: ${resourcePath}`);
    return { ...ref, namespace: ref.namespace || namespace || '' };
  }

  function stored(ref: ResourceRef, name: string): StoredObject | undefined {
    return bucket(gvrKey(ref)).get(objectKey(ref.namespace, name));
  }

  function countWatches(resourcePath?: string): number {
    if (resourcePath === undefined) return watchers.size;
    const ref = refFor(resourcePath);
    return [...watchers].filter((w) => w.gvr === gvrKey(ref) && w.namespace === ref.namespace).length;
  }

  return {
    url,
    port,
    get resourceVersion() {
      return String(rv);
    },
    requests,
    seed(resourcePath, ...objects) {
      return objects.map((o) => create(refFor(resourcePath, o.metadata?.namespace), o));
    },
    set(resourcePath, object) {
      const ref = refFor(resourcePath, object.metadata?.namespace);
      const current = stored(ref, object.metadata?.name ?? '');
      return current ? replace(ref, current, object) : create(ref, object);
    },
    remove(resourcePath, name, namespace) {
      const ref = refFor(resourcePath, namespace);
      if (!stored(ref, name)) return false;
      remove(ref, name);
      return true;
    },
    get(resourcePath, name, namespace) {
      const o = stored(refFor(resourcePath, namespace), name);
      return o && structuredClone(o);
    },
    list(resourcePath, namespace) {
      return select(refFor(resourcePath, namespace), () => true).map(([, o]) => structuredClone(o));
    },
    compact() {
      history.length = 0;
      compactedRv = rv;
    },
    injectFault(rule) {
      faults.push({ ...rule });
    },
    bookmark() {
      for (const w of watchers) if (w.bookmarks) writeEvent(w.res, bookmarkEvent(w));
    },
    closeWatches() {
      for (const w of [...watchers]) endWatch(w);
    },
    watchCount: countWatches,
    waitForWatches(count, resourcePath, timeoutMs = 2000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (countWatches(resourcePath) < count) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} watch(es) on ${resourcePath ?? 'any resource'}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          watchListeners.delete(check);
        };
        watchListeners.add(check);
        check();
      });
    },
    kubeconfig(namespace, token = adminToken) {
      return {
        clusters: [{ name: 'fake', server: url, skipTLSVerify: !pki, ...(pki ? { caData: Buffer.from(pki.caPem).toString('base64') } : {}) }],
        users: [{ name: 'fake', token }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', ...(namespace ? { namespace } : {}) }],
        currentContext: 'fake',
      };
    },
    kubeconfigYaml: kubeconfigYaml,
    kubeconfigFile(opts = {}) {
      kubeconfigDir ??= mkdtempSync(nodePath.join(tmpdir(), 'fake-apiserver-kubeconfig-'));
      const file = nodePath.join(kubeconfigDir, `kubeconfig-${++kubeconfigCount}.yaml`);
      writeFileSync(file, kubeconfigYaml(opts), { mode: 0o600 });
      return file;
    },
    caPem: pki?.caPem,
    adminToken,
    serviceAccountToken(namespace, name, pod) {
      const groups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];
      return tokenFor({ name: `system:serviceaccount:${namespace}:${name}`, groups, ...(pod !== undefined ? { pod } : {}) });
    },
    userToken(name, groups = []) {
      return tokenFor({ name, groups: [...groups, 'system:authenticated'] });
    },
    audit,
    denials(user) {
      return audit.filter((a) => !a.allowed && a.status === 403 && (user === undefined || (typeof user === 'string' ? a.user === user : user.test(a.user))));
    },
    permissionUsage(users) {
      const selected = (name: string): boolean => users === undefined || users.some((u) => (typeof u === 'string' ? u === name : u.test(name)));
      const state = rbacState();
      const roles: Array<{ role: RoleRefOf; rules: unknown }> = [];
      const boundToSelected = (role: RoleRefOf): boolean => {
        if (users === undefined) return true;
        return boundRoles(state, selected).some((r) => sameRole(r, role));
      };
      for (const r of state.clusterRoles) roles.push({ role: { kind: 'ClusterRole', namespace: '', name: r.metadata?.name ?? '' }, rules: r.rules });
      for (const r of state.roles) roles.push({ role: { kind: 'Role', namespace: r.metadata?.namespace ?? '', name: r.metadata?.name ?? '' }, rules: r.rules });
      const out: PermissionUsage[] = [];
      for (const { role, rules } of roles) {
        if (!boundToSelected(role)) continue;
        for (const p of permissionsOf(role, rules)) {
          const used = audit.some((a) => a.allowed && selected(a.user) && a.rules.some((u) => sameRole(u.role, role) && u.rule === p.rule) && permissionCovers(p, a));
          out.push({ ...p, used });
        }
      }
      return out;
    },
    async close() {
      if (kubeconfigDir) rmSync(kubeconfigDir, { recursive: true, force: true });
      for (const w of [...watchers]) endWatch(w);
      for (const t of pendingTimers) clearTimeout(t);
      pendingTimers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

// The fake API server's resource table and the documents that make a real kubectl work against it: legacy
// discovery (`/api`, `/api/v1`, `/apis`, `/apis/G/V`), `/version`, a minimal OpenAPI v3 and an empty OpenAPI v2.
//
// kubectl 1.32 first asks `/api` and `/apis` for aggregated discovery (apidiscovery.k8s.io/v2); a plain
// `APIVersions`/`APIGroupList` answer makes it fall back to the legacy per-group-version documents, which are all
// this serves. The OpenAPI v3 documents carry, per resource, the PATCH operation with its
// `x-kubernetes-group-version-kind` and the `fieldValidation` query parameter: that is what kubectl's
// query-parameter verifier looks for before it leaves validation to the server (`--validate=strict`, the default),
// so `kubectl apply -f` works without `--validate=false` and without full schemas. Component schemas are empty, so
// kubectl's client-side schema lookups (for strategic-merge patch metadata) fall back to its compiled-in types.

export interface ResourceInfo {
  group: string;
  version: string;
  /** Plural, as in the path. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Subresources served (status only). */
  subresources?: string[];
  /** Verbs on the main resource; defaults to every verb. */
  verbs?: string[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const r = (group: string, version: string, resource: string, kind: string, namespaced: boolean, extra: Partial<ResourceInfo> = {}): ResourceInfo => ({
  group,
  version,
  resource,
  singular: kind.toLowerCase(),
  kind,
  namespaced,
  ...extra,
});

/** The resources the fake advertises. Others still work over REST (the store is generic), but kubectl only knows
 *  these. */
const RESOURCES: readonly ResourceInfo[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['status'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  r('', 'v1', 'services', 'Service', true, { shortNames: ['svc'], subresources: ['status'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
  r('', 'v1', 'endpoints', 'Endpoints', true, { shortNames: ['ep'], singular: 'endpoints' }),
  r('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  r('', 'v1', 'secrets', 'Secret', true),
  r('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  r('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], subresources: ['status'] }),
  r('', 'v1', 'pods', 'Pod', true, { shortNames: ['po'], subresources: ['status'] }),
  r('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  r('events.k8s.io', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  r('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  r('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  r('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  r('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  r('apps', 'v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], subresources: ['status'] }),
  r('apps', 'v1', 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], subresources: ['status'] }),
  r('apps', 'v1', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], subresources: ['status'] }),
  r('apps', 'v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], subresources: ['status'] }),
  r('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, { shortNames: ['pdb'], subresources: ['status'] }),
  r('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, { shortNames: ['netpol'] }),
  r('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false, { shortNames: ['pc'] }),
  r('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, { shortNames: ['crd', 'crds'], subresources: ['status'] }),
  r('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, { verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, { verbs: ['create'] }),
];

const groupVersion = (group: string, version: string): string => (group ? `${group}/${version}` : version);

/** group/version pairs in table order, core first. */
function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const x of RESOURCES) seen.set(groupVersion(x.group, x.version), { group: x.group, version: x.version });
  return [...seen.values()];
}

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-fake',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(): object {
  const groups = new Map<string, string[]>();
  for (const { group, version } of groupVersions()) if (group) groups.set(group, [...(groups.get(group) ?? []), version]);
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

/** `/api/v1` or `/apis/G/V`: undefined for a group/version the fake does not serve. */
export function apiResourceList(group: string, version: string): object | undefined {
  const rs = RESOURCES.filter((x) => x.group === group && x.version === version);
  if (rs.length === 0) return undefined;
  const resources: object[] = [];
  for (const x of rs) {
    resources.push({ name: x.resource, singularName: x.singular, namespaced: x.namespaced, kind: x.kind, verbs: x.verbs ?? ALL_VERBS, ...(x.shortNames ? { shortNames: x.shortNames } : {}) });
    for (const sub of x.subresources ?? []) resources.push({ name: `${x.resource}/${sub}`, singularName: '', namespaced: x.namespaced, kind: x.kind, verbs: ['get', 'patch', 'update'] });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(group, version), resources };
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAPI v3

const openApiPath = (group: string, version: string): string => (group ? `apis/${group}/${version}` : `api/${version}`);
/** A stable "hash" so kubectl's cache key changes only when the fake's table does. */
const HASH = 'fake0001';

/** `/openapi/v3`: the index of group-version documents. */
export function openApiV3Index(): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, version } of groupVersions()) {
    const p = openApiPath(group, version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${HASH}` };
  }
  return { paths };
}

/** `/openapi/v3/api/v1` or `/openapi/v3/apis/G/V`; undefined when not served. */
export function openApiV3Document(path: string): object | undefined {
  const gv = groupVersions().find(({ group, version }) => openApiPath(group, version) === path);
  if (!gv) return undefined;
  const prefix = `/${path}`;
  const paths: Record<string, object> = {};
  for (const x of RESOURCES.filter((y) => y.group === gv.group && y.version === gv.version)) {
    const gvk = { group: x.group, version: x.version, kind: x.kind };
    const params = [
      { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
      ...(x.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }] : []),
      { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
    ];
    const op = (action: string): object => ({ operationId: `${action}${x.kind}`, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, parameters: params, responses: { '200': { description: 'OK' } } });
    const item = `${prefix}/${x.namespaced ? 'namespaces/{namespace}/' : ''}${x.resource}/{name}`;
    paths[item] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
    paths[`${prefix}/${x.namespaced ? 'namespaces/{namespace}/' : ''}${x.resource}`] = { get: op('list'), post: op('post') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (fake)', version: VERSION_INFO.gitVersion }, paths, components: { schemas: {} } };
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAPI v2

/** An OpenAPI v2 document with no definitions. kubectl fetches it for client-side validation of `kind: List`
 *  files (and older kubectl for everything) and for strategic-merge patch metadata; finding no schema for a kind,
 *  it skips validation and uses its compiled-in types. */
export const OPENAPI_V2_JSON = { swagger: '2.0', info: { title: 'Kubernetes (fake)', version: VERSION_INFO.gitVersion }, paths: {} };

/** Content type of the protobuf form as the real server labels it (kubectl asks for `...spec.v2@v1.0+protobuf`, whose
 *  `@` Go's mime parser refuses in a response). */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** The same document in gnostic's openapi_v2.Document protobuf: swagger = 1, info = 2 (title = 1, version = 2). */
export function openApiV2Protobuf(): Buffer {
  const field = (n: number, value: Buffer): Buffer => Buffer.concat([Buffer.from([(n << 3) | 2, value.length]), value]);
  const info = Buffer.concat([field(1, Buffer.from(OPENAPI_V2_JSON.info.title)), field(2, Buffer.from(OPENAPI_V2_JSON.info.version))]);
  return Buffer.concat([field(1, Buffer.from(OPENAPI_V2_JSON.swagger)), field(2, info)]);
}

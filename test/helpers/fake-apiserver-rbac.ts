// The fake API server's request attributes and RBAC authorizer, following kube-apiserver's RequestInfoFactory and
// the RBAC authorizer (k8s.io/apiserver/pkg/endpoints/request, plugin/pkg/auth/authorizer/rbac):
// - verb: GET on an object = get, on a collection = list, either with `watch=true|1` = watch; POST = create;
//   PUT = update; PATCH = patch; DELETE on an object = delete, on a collection = deletecollection. A list or watch
//   whose fieldSelector requires `metadata.name=X` carries name X, so `resourceNames` can grant it.
// - `/api/v1/namespaces/NS` is resource `namespaces`, name NS, namespace NS.
// - Rules: apiGroups, verbs and resources match exactly or by `*`; a subresource request matches `res/sub` or
//   `*/sub`; non-empty resourceNames require the request's name to be listed (so a list or create without a name
//   does not match); nonResourceURLs match exactly or by a trailing `*` prefix, only via ClusterRoleBindings.
// - A ClusterRoleBinding grants its ClusterRole everywhere; a RoleBinding grants its Role or ClusterRole only for
//   requests in the binding's namespace. Subjects: User, Group, ServiceAccount (namespace defaults to the
//   binding's). Group `system:masters` bypasses authorization, as on the real server.
// - Bootstrap policy: every authenticated user may GET the discovery, version and OpenAPI URLs
//   (`system:discovery`, `system:public-info-viewer`) and create SelfSubjectAccessReviews and
//   SelfSubjectRulesReviews (`system:basic-user`).
// Not modelled: aggregated ClusterRoles (aggregationRule), escalation and bind checks on writes to RBAC objects,
// impersonation, the Node and Webhook authorizers.

export interface UserInfo {
  name: string;
  groups: string[];
  /** The pod a bound ServiceAccount token was issued to (the token's `authentication.kubernetes.io/pod-name`
   *  extra); it tells replicas that share a ServiceAccount apart. Not used for authorization. */
  pod?: string;
}

export interface RequestAttributes {
  verb: string;
  /** False for discovery, /version, /openapi and other non-resource URLs. */
  resourceRequest: boolean;
  /** The URL path (non-resource requests are authorized on it). */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs?: string[];
}

export interface RoleRef {
  kind: 'Role' | 'ClusterRole';
  /** The Role's namespace; '' for a ClusterRole. */
  namespace: string;
  name: string;
}

/** One rule of one role that grants a request, and the binding it came through. */
export interface RuleUse {
  role: RoleRef;
  /** Index into the role's `rules`. */
  rule: number;
  binding: { kind: 'RoleBinding' | 'ClusterRoleBinding'; namespace: string; name: string };
}

export interface Decision {
  allowed: boolean;
  /** Why: `RBAC: allowed by ...`, `system:masters`, `bootstrap discovery` or the denial text. */
  reason: string;
  /** Every rule that grants the request (not only the first), for rule-usage accounting. */
  rules: RuleUse[];
}

interface RbacObject {
  metadata?: { name?: string; namespace?: string };
  rules?: unknown;
  roleRef?: unknown;
  subjects?: unknown;
}

/** The RBAC objects as stored: Roles and RoleBindings carry their namespace in metadata. */
export interface RbacState {
  roles: readonly RbacObject[];
  clusterRoles: readonly RbacObject[];
  roleBindings: readonly RbacObject[];
  clusterRoleBindings: readonly RbacObject[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The verb kube-apiserver's RequestInfoFactory derives from the method, the path's shape and the query. */
export function requestVerb(method: string, hasName: boolean, query: URLSearchParams): string {
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (watch) return 'watch';
      return hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** `metadata.name=X` (or `==`) among a fieldSelector's requirements: the name a list or watch is limited to. */
export function fieldSelectorName(selector: string | null): string {
  if (!selector) return '';
  for (const req of selector.split(',')) {
    const m = /^\s*metadata\.name\s*(==|=)\s*([^\s,]*)\s*$/.exec(req);
    if (m && m[2]) return m[2];
  }
  return '';
}

export function nonResourceAttributes(method: string, path: string): RequestAttributes {
  return { verb: method.toLowerCase(), resourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
}

const has = (list: string[], value: string): boolean => list.includes('*') || list.includes(value);

function resourceMatches(rule: PolicyRule, attrs: RequestAttributes): boolean {
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  return strings(rule.resources).some((r) => r === '*' || r === combined || (attrs.subresource !== '' && r === `*/${attrs.subresource}`));
}

/** Whether one policy rule allows the request (RBAC's RuleAllows). */
function ruleAllows(rule: PolicyRule, attrs: RequestAttributes): boolean {
  if (!has(strings(rule.verbs), attrs.verb)) return false;
  if (!attrs.resourceRequest) {
    return strings(rule.nonResourceURLs).some((u) => u === '*' || u === attrs.path || (u.endsWith('*') && attrs.path.startsWith(u.slice(0, -1))));
  }
  if (!has(strings(rule.apiGroups), attrs.apiGroup)) return false;
  if (!resourceMatches(rule, attrs)) return false;
  const names = strings(rule.resourceNames);
  return names.length === 0 || names.includes(attrs.name);
}

function subjectMatches(subject: unknown, user: UserInfo, bindingNamespace: string): boolean {
  if (!isRecord(subject) || typeof subject.name !== 'string') return false;
  switch (subject.kind) {
    case 'User':
      return subject.name === user.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = typeof subject.namespace === 'string' && subject.namespace !== '' ? subject.namespace : bindingNamespace;
      return user.name === `system:serviceaccount:${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

const DISCOVERY_PATHS = ['/api', '/api/*', '/apis', '/apis/*', '/version', '/version/', '/openapi', '/openapi/*', '/healthz', '/livez', '/readyz'];

/** The RBAC authorizer's decision for one request. */
export function authorize(user: UserInfo, attrs: RequestAttributes, state: RbacState): Decision {
  if (user.groups.includes('system:masters')) return { allowed: true, reason: 'system:masters', rules: [] };
  // system:basic-user: anyone authenticated may ask what they may do (`kubectl auth can-i`).
  if (attrs.resourceRequest && attrs.verb === 'create' && attrs.apiGroup === 'authorization.k8s.io' && (attrs.resource === 'selfsubjectaccessreviews' || attrs.resource === 'selfsubjectrulesreviews') && user.groups.includes('system:authenticated'))
    return { allowed: true, reason: 'bootstrap basic-user', rules: [] };
  if (!attrs.resourceRequest && attrs.verb === 'get' && user.groups.includes('system:authenticated') && ruleAllows({ verbs: ['get'], nonResourceURLs: DISCOVERY_PATHS }, attrs))
    return { allowed: true, reason: 'bootstrap discovery', rules: [] };
  const rules: RuleUse[] = [];
  const grant = (role: RoleRef, binding: RuleUse['binding'], roleRules: unknown): void => {
    if (!Array.isArray(roleRules)) return;
    roleRules.forEach((rule: unknown, i) => {
      if (isRecord(rule) && ruleAllows(rule as PolicyRule, attrs)) rules.push({ role, rule: i, binding });
    });
  };
  const findRole = (ref: RoleRef): RbacObject | undefined =>
    ref.kind === 'ClusterRole'
      ? state.clusterRoles.find((r) => r.metadata?.name === ref.name)
      : state.roles.find((r) => r.metadata?.name === ref.name && (r.metadata?.namespace ?? '') === ref.namespace);
  for (const b of state.clusterRoleBindings) {
    const ref = b.roleRef;
    if (!isRecord(ref) || ref.kind !== 'ClusterRole' || typeof ref.name !== 'string') continue;
    if (!Array.isArray(b.subjects) || !b.subjects.some((s) => subjectMatches(s, user, ''))) continue;
    const role: RoleRef = { kind: 'ClusterRole', namespace: '', name: ref.name };
    grant(role, { kind: 'ClusterRoleBinding', namespace: '', name: b.metadata?.name ?? '' }, findRole(role)?.rules);
  }
  // RoleBindings only ever grant inside their namespace, and never non-resource URLs or cluster-scoped objects.
  if (attrs.namespace !== '') {
    for (const b of state.roleBindings) {
      const ns = b.metadata?.namespace ?? '';
      if (ns !== attrs.namespace) continue;
      const ref = b.roleRef;
      if (!isRecord(ref) || (ref.kind !== 'Role' && ref.kind !== 'ClusterRole') || typeof ref.name !== 'string') continue;
      if (!Array.isArray(b.subjects) || !b.subjects.some((s) => subjectMatches(s, user, ns))) continue;
      const role: RoleRef = { kind: ref.kind, namespace: ref.kind === 'Role' ? ns : '', name: ref.name };
      grant(role, { kind: 'RoleBinding', namespace: ns, name: b.metadata?.name ?? '' }, findRole(role)?.rules);
    }
  }
  const first = rules[0];
  if (first) {
    const b = first.binding;
    return { allowed: true, reason: `RBAC: allowed by ${b.kind} "${b.name}"${b.namespace ? ` of ${first.role.kind} "${first.role.name}" in namespace "${b.namespace}"` : ` of ${first.role.kind} "${first.role.name}"`} to User "${user.name}"`, rules };
  }
  return { allowed: false, reason: forbiddenMessage(user, attrs), rules };
}

/** The rules that apply to a user in a namespace (SelfSubjectRulesReview, `kubectl auth can-i --list`): every
 *  ClusterRoleBinding's, the namespace's RoleBindings', and the bootstrap policy's. */
export function rulesFor(user: UserInfo, namespace: string, state: RbacState): { resourceRules: PolicyRule[]; nonResourceRules: PolicyRule[] } {
  const resourceRules: PolicyRule[] = [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }];
  const nonResourceRules: PolicyRule[] = [{ verbs: ['get'], nonResourceURLs: DISCOVERY_PATHS }];
  if (user.groups.includes('system:masters')) {
    resourceRules.unshift({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
    nonResourceRules.unshift({ verbs: ['*'], nonResourceURLs: ['*'] });
  }
  const add = (rules: unknown): void => {
    if (!Array.isArray(rules)) return;
    for (const r of rules) {
      if (!isRecord(r)) continue;
      const rule: PolicyRule = { verbs: strings(r.verbs) };
      if (strings(r.nonResourceURLs).length) nonResourceRules.push({ ...rule, nonResourceURLs: strings(r.nonResourceURLs) });
      else resourceRules.push({ ...rule, apiGroups: strings(r.apiGroups), resources: strings(r.resources), ...(strings(r.resourceNames).length ? { resourceNames: strings(r.resourceNames) } : {}) });
    }
  };
  const role = (kind: unknown, name: unknown, ns: string): RbacObject | undefined =>
    kind === 'ClusterRole' ? state.clusterRoles.find((r) => r.metadata?.name === name) : state.roles.find((r) => r.metadata?.name === name && (r.metadata?.namespace ?? '') === ns);
  for (const b of state.clusterRoleBindings) {
    if (!isRecord(b.roleRef) || !Array.isArray(b.subjects) || !b.subjects.some((x) => subjectMatches(x, user, ''))) continue;
    add(role(b.roleRef.kind, b.roleRef.name, '')?.rules);
  }
  for (const b of state.roleBindings) {
    const ns = b.metadata?.namespace ?? '';
    if (ns !== namespace || !isRecord(b.roleRef) || !Array.isArray(b.subjects) || !b.subjects.some((x) => subjectMatches(x, user, ns))) continue;
    add(role(b.roleRef.kind, b.roleRef.name, ns)?.rules);
  }
  return { resourceRules, nonResourceRules };
}

/** The message kube-apiserver's 403 carries (its forbiddenMessage wrapped by NewForbidden). */
function forbiddenMessage(user: UserInfo, attrs: RequestAttributes): string {
  if (!attrs.resourceRequest) return `forbidden: User "${user.name}" cannot ${attrs.verb} path "${attrs.path}"`;
  const res = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const qualified = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  return `${qualified}${attrs.name ? ` "${attrs.name}"` : ''} is forbidden: User "${user.name}" cannot ${attrs.verb} resource "${res}" in API group "${attrs.apiGroup}" ${scope}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Rule usage: which granted permissions a run actually exercised.

/** One permission a role grants: a rule expanded to a single apiGroup × resource × verb (× resourceName). */
export interface Permission {
  role: RoleRef;
  rule: number;
  apiGroup: string;
  /** `res` or `res/sub` (or `*`); '' for a non-resource URL permission. */
  resource: string;
  verb: string;
  /** '' when the rule has no resourceNames. */
  resourceName: string;
  /** Set for nonResourceURLs permissions. */
  nonResourceURL?: string;
}

/** Expands a role's rules into single permissions. */
export function permissionsOf(role: RoleRef, rules: unknown): Permission[] {
  const out: Permission[] = [];
  if (!Array.isArray(rules)) return out;
  rules.forEach((rule: unknown, i) => {
    if (!isRecord(rule)) return;
    for (const verb of strings(rule.verbs)) {
      for (const url of strings(rule.nonResourceURLs)) out.push({ role, rule: i, apiGroup: '', resource: '', verb, resourceName: '', nonResourceURL: url });
      const names = strings(rule.resourceNames);
      for (const apiGroup of strings(rule.apiGroups))
        for (const resource of strings(rule.resources))
          for (const resourceName of names.length ? names : ['']) out.push({ role, rule: i, apiGroup, resource, verb, resourceName });
    }
  });
  return out;
}

/** Whether a request granted via this permission's rule exercised this one permission. */
export function permissionCovers(p: Permission, attrs: RequestAttributes): boolean {
  const single: PolicyRule =
    p.nonResourceURL !== undefined
      ? { verbs: [p.verb], nonResourceURLs: [p.nonResourceURL] }
      : { verbs: [p.verb], apiGroups: [p.apiGroup], resources: [p.resource], ...(p.resourceName ? { resourceNames: [p.resourceName] } : {}) };
  return ruleAllows(single, attrs);
}

export const sameRole = (a: RoleRef, b: RoleRef): boolean => a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;

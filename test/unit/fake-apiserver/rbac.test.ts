// RBAC in the fake API server: the request attributes kube-apiserver derives (verb, subresource, names from
// field selectors), the real rule and binding semantics, 401/403 as Status bodies, the audit log, and rule usage.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FakeApiServer, KubeObject } from '../../helpers/fake-apiserver.js';
import { authorize, permissionsOf, requestVerb, type RbacState, type RequestAttributes, type UserInfo } from '../../helpers/fake-apiserver-rbac.js';
import { failure, fakeServers, svc } from './client.js';

const server = fakeServers();

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const sa = (ns: string, name: string): UserInfo => ({ name: `system:serviceaccount:${ns}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });
const req = (verb: string, resource: string, extra: Partial<RequestAttributes> = {}): RequestAttributes => ({
  verb,
  resourceRequest: true,
  path: '',
  apiGroup: '',
  apiVersion: 'v1',
  resource,
  subresource: '',
  namespace: '',
  name: '',
  ...extra,
});

const clusterRole = (name: string, rules: object[]): KubeObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules });
const role = (ns: string, name: string, rules: object[]): KubeObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: ns }, rules });
const subjectSA = (ns: string, name: string): object => ({ kind: 'ServiceAccount', name, namespace: ns });
const crb = (name: string, roleName: string, subjects: object[]): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
  subjects,
});
const rb = (ns: string, name: string, kind: 'Role' | 'ClusterRole', roleName: string, subjects: object[]): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name, namespace: ns },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: roleName },
  subjects,
});

function state(objects: KubeObject[]): RbacState {
  const of = (kind: string): KubeObject[] => objects.filter((o) => o.kind === kind);
  return { roles: of('Role'), clusterRoles: of('ClusterRole'), roleBindings: of('RoleBinding'), clusterRoleBindings: of('ClusterRoleBinding') };
}

describe('request verbs (RequestInfoFactory)', () => {
  it('maps method and path shape to the RBAC verb', () => {
    const q = (s = ''): URLSearchParams => new URLSearchParams(s);
    assert.equal(requestVerb('GET', true, q()), 'get');
    assert.equal(requestVerb('GET', false, q()), 'list');
    assert.equal(requestVerb('GET', false, q('watch=true')), 'watch');
    assert.equal(requestVerb('GET', true, q('watch=1')), 'watch');
    assert.equal(requestVerb('POST', false, q()), 'create');
    assert.equal(requestVerb('PUT', true, q()), 'update');
    assert.equal(requestVerb('PATCH', true, q()), 'patch');
    assert.equal(requestVerb('DELETE', true, q()), 'delete');
    assert.equal(requestVerb('DELETE', false, q()), 'deletecollection');
  });
});

describe('the RBAC authorizer', () => {
  const controller = sa('ingot-system', 'controller');
  const objects = [
    clusterRole('ctl', [
      { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['services/status'], verbs: ['patch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['ingot-controller'], verbs: ['get', 'update'] },
    ]),
    crb('ctl', 'ctl', [subjectSA('ingot-system', 'controller')]),
    role('ingot-system', 'cfg', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['config'], verbs: ['get', 'list', 'watch'] }]),
    rb('ingot-system', 'cfg', 'Role', 'cfg', [{ kind: 'ServiceAccount', name: 'controller' }]), // namespace defaults to the binding's
    clusterRole('events', [{ apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] }]),
    rb('apps', 'events', 'ClusterRole', 'events', [subjectSA('ingot-system', 'controller')]),
    clusterRole('reader', [{ apiGroups: ['*'], resources: ['*'], verbs: ['get'] }, { nonResourceURLs: ['/metrics', '/debug/*'], verbs: ['get'] }]),
    crb('readers', 'reader', [{ kind: 'Group', name: 'readers', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }]),
  ];
  const st = state(objects);
  const can = (user: UserInfo, a: RequestAttributes): boolean => authorize(user, a, st).allowed;

  it('grants by verb, apiGroup and resource, and a subresource only by its own name', () => {
    assert.ok(can(controller, req('watch', 'services')));
    assert.ok(can(controller, req('get', 'services', { namespace: 'x', name: 'a' })));
    assert.ok(!can(controller, req('update', 'services', { namespace: 'x', name: 'a' })));
    assert.ok(can(controller, req('patch', 'services', { namespace: 'x', name: 'a', subresource: 'status' })));
    assert.ok(!can(controller, req('patch', 'services', { namespace: 'x', name: 'a' })), 'services/status does not grant the main resource');
    assert.ok(!can(controller, req('get', 'services', { namespace: 'x', name: 'a', subresource: 'status' })), 'services does not grant services/status');
    assert.ok(!can(controller, req('list', 'services', { apiGroup: 'apps' })), 'the apiGroup must match');
  });

  it('resourceNames limit to the named object; a list without a name does not match', () => {
    const lease = { apiGroup: 'coordination.k8s.io', namespace: 'ingot-system' };
    assert.ok(can(controller, req('get', 'leases', { ...lease, name: 'ingot-controller' })));
    assert.ok(!can(controller, req('get', 'leases', { ...lease, name: 'other' })));
    assert.ok(!can(controller, req('create', 'leases', lease)), 'create has no name');
    assert.ok(!can(controller, req('list', 'configmaps', { namespace: 'ingot-system' })));
    assert.ok(can(controller, req('list', 'configmaps', { namespace: 'ingot-system', name: 'config' })), 'a list by metadata.name field selector carries the name');
  });

  it('a RoleBinding grants only in its namespace, also when it references a ClusterRole', () => {
    assert.ok(can(controller, req('watch', 'configmaps', { namespace: 'ingot-system', name: 'config' })));
    assert.ok(!can(controller, req('watch', 'configmaps', { namespace: 'default', name: 'config' })));
    assert.ok(!can(controller, req('watch', 'configmaps', { name: 'config' })), 'nor across all namespaces');
    assert.ok(can(controller, req('create', 'events', { namespace: 'apps' })));
    assert.ok(can(controller, req('create', 'events', { namespace: 'apps', apiGroup: 'events.k8s.io' })));
    assert.ok(!can(controller, req('create', 'events', { namespace: 'default' })));
  });

  it('matches User, Group and ServiceAccount subjects; wildcards; non-resource URLs; system:masters; discovery', () => {
    const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] };
    const bob: UserInfo = { name: 'bob', groups: ['readers', 'system:authenticated'] };
    const eve: UserInfo = { name: 'eve', groups: ['system:authenticated'] };
    assert.ok(can(alice, req('get', 'deployments', { apiGroup: 'apps', namespace: 'x', name: 'd' })));
    assert.ok(can(bob, req('get', 'nodes', { name: 'n1' })));
    assert.ok(!can(bob, req('list', 'nodes')));
    assert.ok(!can(eve, req('get', 'nodes', { name: 'n1' })));
    const path = (p: string): RequestAttributes => ({ ...req('get', ''), resourceRequest: false, path: p });
    assert.ok(can(bob, path('/metrics')));
    assert.ok(can(bob, path('/debug/pprof/heap')));
    assert.ok(!can(eve, path('/metrics')));
    assert.ok(can(eve, path('/apis/apps/v1')), 'bootstrap system:discovery');
    assert.ok(can(eve, path('/version')));
    assert.ok(can({ name: 'root', groups: ['system:masters'] }, req('deletecollection', 'anything')));
    assert.ok(!can(sa('ingot-system', 'speaker'), req('get', 'services', { namespace: 'x', name: 'a' })), 'another ServiceAccount');
  });

  it('reports every rule that grants a request', () => {
    const both = state([...objects, clusterRole('dup', [{ apiGroups: [''], resources: ['*'], verbs: ['list'] }]), crb('dup', 'dup', [subjectSA('ingot-system', 'controller')])]);
    const d = authorize(controller, req('list', 'services'), both);
    assert.deepEqual(
      d.rules.map((r) => `${r.role.name}#${r.rule} via ${r.binding.kind}/${r.binding.name}`),
      ['ctl#0 via ClusterRoleBinding/ctl', 'dup#0 via ClusterRoleBinding/dup'],
    );
  });

  it('expands rules into single permissions', () => {
    const ps = permissionsOf({ kind: 'ClusterRole', namespace: '', name: 'x' }, [{ apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] }]);
    assert.deepEqual(ps.map((p) => `${p.apiGroup}/${p.resource} ${p.verb}`), ['/events create', 'events.k8s.io/events create', '/events patch', 'events.k8s.io/events patch']);
  });
});

describe('RBAC in the server', () => {
  async function withRbac(): Promise<{ s: FakeApiServer; token: string; call: (method: string, path: string, body?: unknown, contentType?: string, token?: string) => Promise<{ status: number; body: KubeObject }> }> {
    const s = await server({ rbac: true, msPerSecond: 5 });
    s.seed(`${RBAC}/clusterroles`, clusterRole('ctl', [
      { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'update'] },
      { apiGroups: [''], resources: ['services/status'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['config'], verbs: ['get', 'list', 'watch'] },
    ]));
    s.seed(`${RBAC}/clusterrolebindings`, crb('ctl', 'ctl', [subjectSA('ingot-system', 'controller')]));
    s.seed('/api/v1/namespaces/default/services', svc('a'));
    const token = s.serviceAccountToken('ingot-system', 'controller');
    const call = async (method: string, path: string, body?: unknown, contentType = 'application/json', tok: string = token): Promise<{ status: number; body: KubeObject }> => {
      const res = await fetch(`${s.url}${path}`, {
        method,
        signal: AbortSignal.timeout(3000),
        headers: { authorization: `Bearer ${tok}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as KubeObject };
    };
    return { s, token, call };
  }

  it('answers 401 without a known token and 403 with the real Status body when nothing grants the request', async () => {
    const { s, call } = await withRbac();
    const anon = await fetch(`${s.url}/api/v1/services`);
    assert.equal(anon.status, 401);
    assert.deepEqual(await anon.json(), failure(401, 'Unauthorized', 'Unauthorized'));
    const denied = await call('DELETE', '/api/v1/namespaces/default/services/a');
    assert.equal(denied.status, 403);
    assert.deepEqual(
      denied.body,
      failure(403, 'Forbidden', 'services "a" is forbidden: User "system:serviceaccount:ingot-system:controller" cannot delete resource "services" in API group "" in the namespace "default"', { name: 'a', kind: 'services' }),
    );
    assert.ok(s.get('/api/v1/services', 'a', 'default'), 'a denied request changes nothing');
    assert.equal((await call('GET', '/api/v1/services', undefined, undefined, s.adminToken)).status, 200, 'the admin bypasses RBAC');
  });

  it('allows what the stored roles grant, including a list and a watch narrowed to a resourceName by field selector', async () => {
    const { s, call } = await withRbac();
    assert.equal((await call('GET', '/api/v1/services')).status, 200);
    assert.equal((await call('PATCH', '/api/v1/namespaces/default/services/a/status', { status: { loadBalancer: {} } }, 'application/merge-patch+json')).status, 200);
    assert.equal((await call('PATCH', '/api/v1/namespaces/default/services/a', { spec: {} }, 'application/merge-patch+json')).status, 403);
    assert.equal((await call('GET', '/api/v1/namespaces/ingot-system/configmaps?fieldSelector=metadata.name%3Dconfig')).status, 200);
    assert.equal((await call('GET', '/api/v1/namespaces/ingot-system/configmaps')).status, 403);
    const watch = await fetch(`${s.url}/api/v1/namespaces/ingot-system/configmaps?watch=true&fieldSelector=metadata.name%3Dconfig&timeoutSeconds=1`, { headers: { authorization: `Bearer ${s.serviceAccountToken('ingot-system', 'controller')}` }, signal: AbortSignal.timeout(3000) });
    assert.equal(watch.status, 200);
    await watch.body?.cancel();
    // A grant applied later takes effect at once: RBAC reads the store on every request.
    assert.equal((await call('GET', '/apis/coordination.k8s.io/v1/namespaces/ingot-system/leases')).status, 403);
    s.seed(`${RBAC}/namespaces/ingot-system/roles`, role('ingot-system', 'lease', [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list'] }]));
    s.seed(`${RBAC}/namespaces/ingot-system/rolebindings`, rb('ingot-system', 'lease', 'Role', 'lease', [subjectSA('ingot-system', 'controller')]));
    assert.equal((await call('GET', '/apis/coordination.k8s.io/v1/namespaces/ingot-system/leases')).status, 200);
  });

  it('records every request with user, verb, resource, subresource, namespace, name and decision', async () => {
    const { s, call } = await withRbac();
    const before = s.audit.length;
    await call('PATCH', '/api/v1/namespaces/default/services/a/status', { status: {} }, 'application/merge-patch+json');
    await call('DELETE', '/api/v1/namespaces/default/services/a');
    await call('GET', '/apis');
    const [patch, del, disc] = s.audit.slice(before);
    assert.ok(patch && Math.abs(patch.at - Date.now()) < 60_000, 'arrival time');
    const { at: _at, ...rest } = patch;
    assert.deepEqual(
      { ...rest, rules: patch.rules.map((r) => `${r.role.kind}/${r.role.name}#${r.rule}`) },
      {
        method: 'PATCH',
        path: '/api/v1/namespaces/default/services/a/status',
        user: 'system:serviceaccount:ingot-system:controller',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ingot-system', 'system:authenticated'],
        verb: 'patch',
        resourceRequest: true,
        apiGroup: '',
        apiVersion: 'v1',
        resource: 'services',
        subresource: 'status',
        namespace: 'default',
        name: 'a',
        allowed: true,
        reason: 'RBAC: allowed by ClusterRoleBinding "ctl" of ClusterRole "ctl" to User "system:serviceaccount:ingot-system:controller"',
        rules: ['ClusterRole/ctl#1'],
        status: 200,
      },
    );
    assert.equal(del?.allowed, false);
    assert.equal(del?.status, 403);
    assert.equal(disc?.resourceRequest, false);
    assert.equal(disc?.allowed, true);
    assert.deepEqual(s.denials(/^system:serviceaccount:ingot-system:/).map((d) => `${d.verb} ${d.resource}`), ['delete services']);
    assert.deepEqual(s.denials('someone-else'), []);
  });

  it('tells replicas sharing a ServiceAccount apart by their pod tokens', async () => {
    const { s, call } = await withRbac();
    const a = s.serviceAccountToken('ingot-system', 'controller', 'controller-a');
    const b = s.serviceAccountToken('ingot-system', 'controller', 'controller-b');
    assert.notEqual(a, b);
    assert.notEqual(a, s.serviceAccountToken('ingot-system', 'controller'));
    assert.equal(a, s.serviceAccountToken('ingot-system', 'controller', 'controller-a'));
    await call('GET', '/api/v1/services', undefined, undefined, a);
    await call('GET', '/api/v1/services', undefined, undefined, b);
    assert.deepEqual(s.audit.slice(-2).map((r) => [r.user, r.pod, r.allowed]), [
      ['system:serviceaccount:ingot-system:controller', 'controller-a', true],
      ['system:serviceaccount:ingot-system:controller', 'controller-b', true],
    ]);
  });

  it('permissionUsage() lists each granted permission and whether an allowed request exercised it', async () => {
    const { s, call } = await withRbac();
    await call('GET', '/api/v1/services');
    await call('GET', '/api/v1/services?watch=1&timeoutSeconds=1');
    await call('PATCH', '/api/v1/namespaces/default/services/a/status', { status: {} }, 'application/merge-patch+json');
    await call('DELETE', '/api/v1/namespaces/default/services/a'); // denied: uses nothing
    await call('GET', '/api/v1/services', undefined, undefined, s.adminToken); // admin: not the component's use
    const usage = s.permissionUsage([/^system:serviceaccount:ingot-system:/]);
    const fmt = (p: (typeof usage)[number]): string => `${p.resource}${p.resourceName ? `[${p.resourceName}]` : ''} ${p.verb}`;
    assert.deepEqual(usage.filter((p) => p.used).map(fmt), ['services list', 'services watch', 'services/status patch']);
    assert.deepEqual(usage.filter((p) => !p.used).map(fmt), ['services get', 'services update', 'configmaps[config] get', 'configmaps[config] list', 'configmaps[config] watch']);
    assert.deepEqual(s.permissionUsage(['nobody']), [], 'roles bound to nobody else are left out');
  });
});

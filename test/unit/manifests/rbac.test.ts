// The RBAC of manifests/ingot.yaml is exact (issue 9 §6, §7): manifests/RBAC.md lists one row per granted
// (component, namespace, apiGroup, resource, verb, resourceName) with the request it authorizes and the code
// path that sends it. This test keeps the two in lock-step and checks the rules against what the API server's
// authorizer can actually match; the Kubernetes-mode suites check the code against the same table.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNOWN_VERBS } from '../../helpers/k8s-schema.js';
import { loadManifests, MANIFESTS_DIR, NAMESPACE, type Binding, type Rule } from './load.js';

interface Grant {
  component: string;
  namespace: string; // '*' (cluster-wide) or 'NS' (--namespace)
  apiGroup: string; // 'core' for ""
  resource: string;
  verb: string;
  name: string; // '' = any
}

interface Row extends Grant {
  request: string;
  codePath: string;
}

const key = (g: Grant) => [g.component, g.namespace, g.apiGroup, g.resource, g.verb, g.name].join(' | ');

/** The rows between the rbac-table markers of manifests/RBAC.md. */
function tableRows(): Row[] {
  const text = readFileSync(join(MANIFESTS_DIR, 'RBAC.md'), 'utf8');
  const m = /<!-- rbac-table[^>]*-->\n([\s\S]*?)<!-- \/rbac-table -->/.exec(text);
  assert.ok(m, 'RBAC.md has the rbac-table markers');
  const lines = m[1]!.split('\n').filter((l) => l.startsWith('|'));
  const header = lines[0]!.split('|').slice(1, -1).map((s) => s.trim());
  assert.deepEqual(header, ['component', 'namespace', 'apiGroup', 'resource', 'verb', 'name', 'request', 'code path']);
  return lines.slice(2).map((l) => {
    const c = l.split('|').slice(1, -1).map((s) => s.trim());
    assert.equal(c.length, 8, `RBAC.md row: ${l}`);
    return { component: c[0]!, namespace: c[1]!, apiGroup: c[2]!, resource: c[3]!, verb: c[4]!, name: c[5]!, request: c[6]!, codePath: c[7]! };
  });
}

/** Every grant of the manifest, one per (binding subject × rule × apiGroup × resource × verb × name). */
function manifestGrants(): Grant[] {
  const objs = loadManifests();
  const roles = new Map(
    objs.filter((o) => o.obj.kind === 'Role' || o.obj.kind === 'ClusterRole').map((o) => [`${o.obj.kind}/${o.obj.metadata.name}`, o.obj]),
  );
  const grants: Grant[] = [];
  for (const { obj } of objs.filter((o) => o.obj.kind === 'RoleBinding' || o.obj.kind === 'ClusterRoleBinding')) {
    const b = obj as Binding;
    const role = roles.get(`${b.roleRef.kind}/${b.roleRef.name}`);
    assert.ok(role, `${b.kind} ${b.metadata.name}: role ${b.roleRef.name} exists`);
    // A RoleBinding may also bind a ClusterRole inside its namespace; then the binding's namespace is the scope.
    const namespace = b.kind === 'ClusterRoleBinding' ? '*' : b.metadata.namespace === NAMESPACE ? 'NS' : String(b.metadata.namespace);
    for (const s of b.subjects) {
      const m = /^ingot-(controller|speaker)$/.exec(s.name);
      assert.ok(m && s.kind === 'ServiceAccount', `${b.kind} ${b.metadata.name}: subject ${s.kind} ${s.name} is an ingot component`);
      for (const r of (role as unknown as { rules?: Rule[] }).rules ?? []) {
        for (const g of r.apiGroups ?? []) {
          for (const res of r.resources ?? []) {
            for (const verb of r.verbs) {
              for (const name of r.resourceNames ?? ['']) {
                grants.push({ component: m[1]!, namespace, apiGroup: g === '' ? 'core' : g, resource: res, verb, name });
              }
            }
          }
        }
      }
    }
  }
  return grants;
}

const rows = tableRows();
const grants = manifestGrants();

describe('RBAC: manifests/ingot.yaml against manifests/RBAC.md', () => {
  test('the table and the manifest grant exactly the same tuples', () => {
    assert.ok(rows.length >= 10, `RBAC.md has ${rows.length} rows`);
    const fromTable = rows.map(key).sort();
    const fromManifest = grants.map(key).sort();
    assert.deepEqual(fromManifest.filter((k, i) => fromManifest.indexOf(k) !== i), [], 'no tuple granted twice');
    assert.deepEqual(fromTable.filter((k, i) => fromTable.indexOf(k) !== i), [], 'no row listed twice');
    assert.deepEqual(fromManifest, fromTable);
  });

  test('every row names the code path that uses it', () => {
    for (const r of rows) assert.ok(r.codePath.length > 8, `${key(r)}: code path`);
  });

  test('no wildcards, only known verbs', () => {
    for (const g of grants) {
      assert.ok(![g.apiGroup, g.resource, g.verb, g.name].includes('*'), key(g));
      assert.ok((KNOWN_VERBS as readonly string[]).includes(g.verb), key(g));
    }
  });

  test('create is never limited by resourceNames (the authorizer could never match it: the name is not known yet)', () => {
    for (const g of grants.filter((x) => x.verb === 'create')) assert.equal(g.name, '', key(g));
  });

  test('each row\'s request is the HTTP request that verb on that resource makes', () => {
    const method: Record<string, string> = { get: 'GET', list: 'GET', watch: 'GET', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE' };
    for (const r of rows) {
      const m = /^`(GET|POST|PUT|PATCH|DELETE) ([^`\s]+)`/.exec(r.request);
      assert.ok(m, `${key(r)}: request ${r.request}`);
      const [, verbMethod, url] = m;
      assert.equal(verbMethod, method[r.verb], key(r));
      const [path, query = ''] = url!.split('?');
      const prefix = r.apiGroup === 'core' ? '/api/v1/' : `/apis/${r.apiGroup}/v1/`;
      assert.ok(path!.startsWith(prefix), `${key(r)}: ${path} under ${prefix}`);
      const [resource, sub] = r.resource.split('/');
      const ns = r.namespace === 'NS' ? 'namespaces/NS/' : r.namespace === '*' ? '(?:namespaces/\\{ns\\}/)?' : null;
      assert.ok(ns !== null, key(r));
      const namePart = r.verb === 'list' || r.verb === 'watch' || r.verb === 'create' ? '' : `/${r.name === '' ? '\\{name\\}' : r.name}`;
      assert.match(path!, new RegExp(`^${prefix.replace(/\./g, '\\.')}${ns}${resource}${namePart}${sub ? `/${sub}` : ''}$`), key(r));
      assert.equal(/(^|&)watch=true(&|$)/.test(query), r.verb === 'watch', `${key(r)}: watch=true only for watch`);
      // A list/watch limited by resourceNames is authorized only with a metadata.name field selector.
      if ((r.verb === 'list' || r.verb === 'watch') && r.name !== '') {
        assert.ok(query.split('&').includes(`fieldSelector=metadata.name%3D${r.name}`), `${key(r)}: needs fieldSelector=metadata.name=${r.name}`);
      }
    }
  });

  test('the speaker can read no Secret and write nothing but Events; the controller writes only Service status, Events, its Lease and the memberlist Secret', () => {
    const writes = ['create', 'update', 'patch', 'delete', 'deletecollection'];
    const speakerWrites = grants.filter((g) => g.component === 'speaker' && writes.includes(g.verb)).map((g) => g.resource);
    assert.deepEqual([...new Set(speakerWrites)], ['events']);
    assert.deepEqual(grants.filter((g) => g.component === 'speaker' && g.resource === 'secrets'), []);
    const controllerWrites = grants.filter((g) => g.component === 'controller' && writes.includes(g.verb)).map((g) => g.resource);
    assert.deepEqual([...new Set(controllerWrites)].sort(), ['events', 'leases', 'secrets', 'services/status']);
    // Nothing namespaced in ingot-system is readable beyond the named objects, except where a create needs no name.
    for (const g of grants.filter((x) => x.namespace === 'NS' && x.verb !== 'create')) assert.notEqual(g.name, '', key(g));
  });
});

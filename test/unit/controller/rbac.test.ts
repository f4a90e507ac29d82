// The controller's requests against manifests/RBAC.md (kept in lock-step with manifests/ingot.yaml by
// test/unit/manifests/rbac.test.ts): every request it sends is one a controller row authorizes, and every
// controller row but one is exercised by a run that allocates, refuses a config and creates the Secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { REPO_ROOT } from '../../helpers/cli.js';
import { CONFIGMAPS, NS, configMap, events, inProcess, service, statusOf, until } from './support.js';

interface Row {
  verb: string;
  resource: string;
  method: string;
  path: RegExp;
  watch: boolean | null;
  fieldSelector: string | null;
}

function controllerRows(): Row[] {
  const md = fs.readFileSync(`${REPO_ROOT}/manifests/RBAC.md`, 'utf8');
  const table = md.split('<!-- rbac-table')[1]?.split('<!-- /rbac-table -->')[0] ?? '';
  const rows: Row[] = [];
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells[1] !== 'controller') continue;
    const [, , , , resource = '', verb = '', , request = ''] = cells;
    const m = /`(GET|POST|PUT|PATCH|DELETE) ([^`\s]+)`/.exec(request);
    if (!m) throw new Error(`RBAC.md row without a request: ${line}`);
    const [pathPart = '', query = ''] = m[2]!.split('?');
    const re = pathPart
      .replace(/\{ns\}|\{name\}/g, '\u0000')
      .replace(/NS/g, NS)
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\u0000/g, '[^/]+');
    const fs_ = /fieldSelector=([^&]+)/.exec(query)?.[1] ?? null;
    rows.push({ verb, resource, method: m[1]!, path: new RegExp(`^${re}$`), watch: verb === 'watch' ? true : verb === 'list' ? false : null, fieldSelector: fs_ === null ? null : decodeURIComponent(fs_) });
  }
  return rows;
}

test('every request of the controller is one RBAC.md grants it, and every controller rule is used', async () => {
  const rows = controllerRows();
  assert.ok(rows.length >= 10, `found ${rows.length} controller rows in RBAC.md`);
  const env = await inProcess({ config: 'address-pools:\n- name: p\n  protocol: bgp\n  addresses: [10.5.0.0/31]\n', seed: [service('a'), service('b', { ns: 'other' })] });
  await until(() => statusOf(env.server, 'a').length > 0 && statusOf(env.server, 'b', 'other').length > 0, 'two allocations');
  env.server.set(CONFIGMAPS, configMap('address-pools: [nonsense]\n'));
  await until(() => events(env.server).some((e) => e.kind === 'ConfigMap'), 'the ConfigMap Warning');
  await until(() => events(env.server).filter((e) => e.reason === 'IPAllocated').length === 2, 'the IPAllocated events');
  await env.stop(); // releases the Lease (PUT)
  const used = new Set<Row>();
  const unmatched: string[] = [];
  for (const r of env.server.requests) {
    const url = new URL(r.path, 'http://x');
    const isWatch = url.searchParams.get('watch') === 'true';
    const row = rows.find(
      (x) =>
        x.method === r.method &&
        x.path.test(url.pathname) &&
        (x.watch === null || x.watch === isWatch) &&
        (x.fieldSelector === null || url.searchParams.get('fieldSelector') === x.fieldSelector),
    );
    if (row === undefined) unmatched.push(`${r.method} ${r.path}`);
    else used.add(row);
  }
  assert.deepEqual(unmatched, [], 'requests outside RBAC.md');
  const unused = rows.filter((x) => !used.has(x)).map((x) => `${x.resource} ${x.verb}`);
  assert.deepEqual(unused, [], 'the manifest is exact: no rule the controller never uses');
});

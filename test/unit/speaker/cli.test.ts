// `ingot speaker` as a user runs it (bin/ingot in a child process): usage errors, startup errors, and one
// whole life on loopback — ready, /status, SIGHUP, SIGTERM → exit 0.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseHostPort } from '../../../src/cli/speaker.js';
import { INGOT_BIN, runIngot } from '../../helpers/cli.js';
import { startFakeApiServer } from '../../helpers/fake-apiserver.js';
import { until } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'igsp-cli-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const CONFIG = `peers:
- {peer-address: 127.0.0.31, peer-asn: 64512, my-asn: 64512, peer-port: 1}
address-pools:
- {name: p, protocol: bgp, addresses: [10.60.0.0/24]}
`;
const CLUSTER = `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}, spec: {type: LoadBalancer, ports: [{port: 80}]}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  endpoints: [{addresses: [10.0.0.9], nodeName: n1}]
`;
const cfgFile = join(dir, 'config.yaml');
const clFile = join(dir, 'cluster.yaml');
writeFileSync(cfgFile, CONFIG);
writeFileSync(clFile, CLUSTER);

describe('parseHostPort', () => {
  it('takes IP literals only (no DNS at startup)', () => {
    assert.deepEqual(parseHostPort('0.0.0.0:7472', 'x'), { host: '0.0.0.0', port: 7472 });
    assert.deepEqual(parseHostPort('[::1]:179', 'x'), { host: '::1', port: 179 });
    assert.match(String(parseHostPort('localhost:179', 'x')), /not an IP address/);
    assert.match(String(parseHostPort('::1:179', 'x')), /want HOST:PORT/);
    assert.match(String(parseHostPort('[10.0.0.1]:179', 'x')), /not an IP address/);
    assert.match(String(parseHostPort('1.2.3.4:70000', 'x')), /out of range/);
  });
});

describe('ingot speaker: errors', () => {
  it('mode selection: no files is Kubernetes mode (cluster access errors exit 1), one file is a usage error', () => {
    const r = runIngot(['speaker', '--node-name', 'n1', '--kubeconfig', join(dir, 'missing-kubeconfig'), '--metrics-addr', '127.0.0.1:0']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error: --kubeconfig: cannot load .*missing-kubeconfig/);
    const r2 = spawnSync(INGOT_BIN, ['speaker', '--metrics-addr', '127.0.0.1:0'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /--node-name NAME is required \(or set \$NODE_NAME\)/);
    const r3 = runIngot(['speaker', '--node-name', 'n1', '--config', cfgFile]);
    assert.equal(r3.status, 2);
    assert.match(r3.stderr, /needs both --config FILE and --cluster FILE/);
    const r4 = runIngot(['speaker', '--node-name', 'n1', '--config', cfgFile, '--cluster', clFile, '--lb-class', 'x']);
    assert.equal(r4.status, 2);
    assert.match(r4.stderr, /--lb-class is a Kubernetes-mode option/);
    const r5 = runIngot(['speaker', '--node-name', 'n1', '--kube-api-qps', 'fast']);
    assert.equal(r5.status, 2);
    assert.match(r5.stderr, /--kube-api-qps: want a number, got "fast"/);
    const r6 = runIngot(['speaker', '--node-name', 'n1', '--kube-api-burst', '0', '--kubeconfig', join(dir, 'missing-kubeconfig')]);
    assert.equal(r6.status, 2);
    assert.match(r6.stderr, /--kube-api-burst: want an integer >= 1, got 0/);
  });

  it('bad flags and bad files', () => {
    const base = ['speaker', '--node-name', 'n1', '--config', cfgFile, '--cluster', clFile, '--bgp-listen', 'off'];
    const r = runIngot([...base, '--metrics-addr', 'localhost:7472']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--metrics-addr: "localhost" is not an IP address/);
    const r2 = runIngot([...base, '--metrics-addr', '127.0.0.1:0', '--log-level', 'loud']);
    assert.equal(r2.status, 2);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'peers: 7\n');
    const r3 = runIngot(['speaker', '--node-name', 'n1', '--config', bad, '--cluster', clFile, '--bgp-listen', 'off', '--metrics-addr', '127.0.0.1:0']);
    assert.equal(r3.status, 1);
    assert.match(r3.stderr, new RegExp(`^error: ${bad}: .*peers`, 'm'));
  });

  it('Layer 2 flags: a layer2 pool needs --ml-secret-key-file; bad values are exit 2 naming the flag', () => {
    const l2cfg = join(dir, 'l2.yaml');
    writeFileSync(l2cfg, 'address-pools:\n- {name: l, protocol: layer2, addresses: [10.61.0.0/24]}\n');
    const base = ['speaker', '--node-name', 'n1', '--config', l2cfg, '--cluster', clFile, '--bgp-listen', 'off', '--metrics-addr', '127.0.0.1:0'];
    const r = runIngot(base);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /the config has a layer2 pool: --ml-secret-key-file FILE is required/);
    const missing = runIngot([...base, '--ml-secret-key-file', join(dir, 'nope.key')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--ml-secret-key-file .*nope\.key: ENOENT/);
    const port = runIngot([...base, '--ml-secret-key-file', cfgFile, '--ml-bind-port', '70000']);
    assert.equal(port.status, 2);
    assert.match(port.stderr, /--ml-bind-port: want a port 1-65535, got "70000"/);
    const addr = runIngot([...base, '--ml-secret-key-file', cfgFile, '--ml-bind-addr', 'node-1']);
    assert.equal(addr.status, 2);
    assert.match(addr.stderr, /--ml-bind-addr: "node-1" is not an IP address/);
    const ifs = runIngot([...base, '--ml-secret-key-file', cfgFile, '--l2-interfaces', 'eth0,a/b']);
    assert.equal(ifs.status, 2);
    assert.match(ifs.stderr, /--l2-interfaces: 'a\/b' is not an interface name/);
  });

  it('a --bgp-listen address in use is exit 2 naming the flag', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as AddressInfo).port;
      const r = await runAsync(['speaker', '--node-name', 'n1', '--config', cfgFile, '--cluster', clFile, '--metrics-addr', '127.0.0.1:0', '--bgp-listen', `127.0.0.1:${port}`]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, new RegExp(`^error: --bgp-listen 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`, 'm'));
    } finally {
      busy.close();
    }
  });
});

/** bin/ingot without blocking the event loop (this process holds the port the child must find busy). */
function runAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(INGOT_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(c);
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (status) => resolve({ status, stderr }));
  });
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/**
 * Starts `ingot speaker` with `args` and waits for its `ready` log line (or its exit); asserts /readyz is 200.
 * Returns its log lines (JSON), a lookup by event, the metrics port and the exit code once it exits.
 */
async function startReadySpeaker(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(INGOT_BIN, ['speaker', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const exit: { code: number | null | undefined } = { code: undefined };
  child.on('exit', (c) => (exit.code = c));
  const ev = (e: string) => lines.find((l) => l['event'] === e);
  await until(() => ev('ready') !== undefined || exit.code !== undefined, 'ready', 60_000);
  assert.ok(ev('ready'), JSON.stringify(lines));
  const port = ev('metricsListening')!['port'] as number;
  assert.equal((await httpGet(port, '/readyz')).status, 200);
  return { child, lines, ev, port, exit };
}

describe('ingot speaker: a whole life on loopback', () => {
  it('ready → /status → SIGHUP → SIGTERM exits 0', async () => {
    const { child, lines, ev, port, exit } = await startReadySpeaker(['--node-name', 'n1', '--config', cfgFile, '--cluster', clFile, '--metrics-addr', '127.0.0.1:0', '--bgp-listen', '127.0.0.1:0']);
    const st = JSON.parse((await httpGet(port, '/status')).body) as { node: string; sessions: { peer: string }[]; announcements: { service: string; reason: string | null }[] };
    assert.equal(st.node, 'n1');
    assert.deepEqual(st.sessions.map((s) => s.peer), ['127.0.0.31:1']);
    assert.deepEqual(st.announcements.map((a) => [a.service, a.reason]), [['default/web', null]]);
    assert.match((await httpGet(port, '/metrics')).body, /metallb_bgp_session_up\{peer="127\.0\.0\.31:1"\} 0/);

    child.kill('SIGHUP');
    await until(() => lines.some((l) => l['event'] === 'reload' && l['why'] === 'SIGHUP'), 'SIGHUP reload');
    child.kill('SIGTERM');
    await until(() => exit.code !== undefined, 'exit', 15_000);
    assert.equal(exit.code, 0);
    assert.ok(ev('exited'));
    assert.ok(lines.every((l) => typeof l['ts'] === 'string' && typeof l['level'] === 'string' && l['node'] === 'n1'));
  });
});

describe('ingot speaker in Kubernetes mode: a whole life against the fake API server', () => {
  it('syncs, announces the status IP, serves the k8s client and config metrics (no ingot_leader) and process metrics, SIGTERM exits 0', async () => {
    const server = await startFakeApiServer();
    try {
      server.seed('/api/v1/namespaces/ingot-system/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config', namespace: 'ingot-system' }, data: { config: CONFIG } });
      server.seed('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
      server.seed('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] }, status: { loadBalancer: { ingress: [{ ip: '10.60.0.7' }] } } });
      server.seed('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.9'], nodeName: 'n1' }] });
      // A plain-http server needs insecure-skip-tls-verify, as with kubectl (cli.md).
      const kubeconfig = join(dir, 'kubeconfig-http');
      writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: f\n  cluster: {server: "${server.url}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: f, user: u}\ncurrent-context: c\n`);
      const { child, ev, port, exit } = await startReadySpeaker(['--kubeconfig', kubeconfig, '--metrics-addr', '127.0.0.1:0', '--bgp-listen', '127.0.0.1:0', '--namespace', 'ingot-system'], { ...process.env, NODE_NAME: 'n1' });
      const st = JSON.parse((await httpGet(port, '/status')).body) as { node: string; announcements: { service: string; ips: string[]; reason: string | null }[]; kubernetes: { synced: boolean; config: { loaded: boolean } } };
      assert.equal(st.node, 'n1', 'the node name from $NODE_NAME');
      assert.deepEqual(st.announcements.map((a) => [a.service, a.ips, a.reason]), [['default/web', ['10.60.0.7'], null]]);
      assert.equal(st.kubernetes.synced, true);
      assert.equal(st.kubernetes.config.loaded, true);
      const m = (await httpGet(port, '/metrics')).body;
      for (const re of [
        /^metallb_k8s_client_config_loaded_bool 1$/m,
        /^metallb_k8s_client_config_stale_bool 0$/m,
        /^metallb_k8s_client_updates_total 0$/m,
        /^metallb_k8s_client_update_errors_total 0$/m,
        /^metallb_speaker_announced\{service="default\/web",protocol="bgp",node="n1",ip="10\.60\.0\.7"\} 1$/m,
        /^metallb_bgp_session_up\{peer="127\.0\.0\.31:1"\} 0$/m,
        /^process_resident_memory_bytes \d+/m,
        /^nodejs_heap_size_used_bytes \d+/m,
      ]) assert.match(m, re);
      assert.doesNotMatch(m, /ingot_leader/, 'the speaker does not elect a leader');
      // A bad ConfigMap: stale, the last good config stays.
      server.set('/api/v1/namespaces/ingot-system/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config', namespace: 'ingot-system' }, data: { config: 'peers: 7\n' } });
      await until(() => ev('configStale') !== undefined, 'configStale logged');
      assert.match((await httpGet(port, '/metrics')).body, /^metallb_k8s_client_config_stale_bool 1$/m);
      assert.equal((await httpGet(port, '/readyz')).status, 200, 'still ready on the last good config');
      child.kill('SIGTERM');
      await until(() => exit.code !== undefined, 'exit', 15_000);
      assert.equal(exit.code, 0);
      assert.ok(ev('exited'));
      // Every request the speaker made: list/watch of the four resources (and event posts); never a get.
      const verbs = new Set(server.audit.map((a) => `${a.verb} ${a.resource}`));
      for (const v of verbs) assert.match(v, /^(list|watch) (services|endpointslices|nodes|configmaps)$|^create events$/, [...verbs].join(', '));
    } finally {
      await server.close();
    }
  });
});

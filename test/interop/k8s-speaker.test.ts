// Kubernetes mode end to end: three real `ingot speaker` processes (no --config/--cluster), one per node
// namespace, each with a ServiceAccount-token kubeconfig of `ingot-speaker`, against the fake API server in
// HTTPS + RBAC mode with manifests/ingot.yaml applied by the real kubectl, and a real FRR router. Every object
// is made the way a user (or the controller) makes it: `kubectl apply`, `kubectl create configmap config
// --from-file=config=...`, `kubectl patch --subresource=status`, `kubectl label`, `kubectl delete`. What FRR
// then holds is the point: ECMP from every node, Local narrowed to the endpoint's node, withdrawal on a
// not-ready endpoint, on the exclusion label and on deletion. Over the whole run the speakers get no 403, and
// the rules they were granted but never used are reported.
//
// Reaching the API server: the fake server listens on 127.0.0.1 in the test's (root) namespace, which a node
// namespace cannot reach. Instead of giving the root namespace an address on the lab's segment, each node
// namespace runs a small forwarder on its own 127.0.0.1:<the server's port> to a unix socket the test serves
// (unix sockets live in the filesystem, which namespaces share), and the socket is piped to the server. The
// kubeconfig then names https://127.0.0.1:<port> as in the root namespace, and the server certificate (SAN
// 127.0.0.1) verifies against the CA as usual: TLS, the token and RBAC are exactly those of a real run.
//
// Namespaces: ik8s-*.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interopSkip } from '../helpers/interop.js';
import { kubectl, KUBECTL } from '../helpers/kubectl.js';
import { startFakeApiServer, type FakeApiServer } from '../helpers/fake-apiserver.js';
import { waitFor } from '../../src/lab/netns.js';
import { Topology, configYaml, nexthopsOf } from '../../src/lab/topology.js';
import { REPO_ROOT } from '../helpers/cli.js';

const FRR_BINS = ['/usr/lib/frr/bgpd', '/usr/lib/frr/zebra', 'vtysh', 'curl', KUBECTL];
const ALL_V4 = ['10.77.0.11', '10.77.0.12', '10.77.0.13'];
const WEB = '10.100.0.1';
const LOCAL = '10.100.0.2';
const SPEAKERS = /^system:serviceaccount:ingot-system:ingot-speaker$/;
const EXCLUDE = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** Forwards 127.0.0.1:PORT inside a namespace to a unix socket (argv: port, socket path). Plain JS: no tsx. */
const FORWARDER = `
const net = require('node:net');
const [port, sock] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(sock);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  c.pipe(u).pipe(c);
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

describe('ingot speaker in Kubernetes mode, three nodes, FRR, API server over HTTPS with RBAC', { skip: interopSkip({ binaries: FRR_BINS }) }, () => {
  const topo = new Topology('ik8s', { router: 'frr' });
  const dir = mkdtempSync(join(tmpdir(), 'ik8s-'));
  let server: FakeApiServer;
  let bridge: net.Server;
  let admin: string;

  const k = async (args: string[], input?: string): Promise<string> => {
    const r = await kubectl(admin, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  const file = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  const service = (name: string, policy: 'Cluster' | 'Local') => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: policy, selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  });

  const slice = (name: string, eps: Array<{ node: string; ready: boolean }>) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-abc`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: eps.map((e, i) => ({ addresses: [`10.244.${i}.10`], nodeName: e.node, conditions: { ready: e.ready } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });

  const apply = (name: string, obj: object): Promise<string> => k(['apply', '-f', file(`${name}.json`, JSON.stringify(obj))]);

  async function waitNexthops(prefix: string, want: string[], timeoutMs = 30_000): Promise<void> {
    let last: string[] = [];
    await waitFor(
      `${prefix} with next hops ${want.join(', ') || '(none)'}`,
      async () => {
        last = nexthopsOf(await topo.routes(4), prefix);
        return JSON.stringify(last) === JSON.stringify(want);
      },
      { timeoutMs, intervalMs: 100 },
    ).catch((e: Error) => {
      throw new Error(`${e.message} (last seen: ${last.join(', ') || 'none'})\n${topo.logs(12)}`);
    });
  }

  before(async () => {
    server = await startFakeApiServer({ tls: true, rbac: true, serviceDefaults: true });
    admin = server.kubeconfigFile();
    await k(['apply', '-f', join(REPO_ROOT, 'manifests/ingot.yaml')]);
    await k(['create', 'configmap', 'config', '-n', 'ingot-system', `--from-file=config=${file('config.yaml', configYaml({ peers: [topo.routerPeer({ holdTime: '30s' })], pools: [{ name: 'web', addresses: ['10.100.0.0/28'] }] }))}`]);
    await k(['apply', '-f', file('nodes.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: topo.nodes.map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } } })) }))]);
    // The kubelet reports each Node's InternalIP in its status: the Layer 2 liveness members come from there.
    for (const n of topo.nodes) {
      await k(['patch', 'node', n.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: n.v4 }] } })]);
    }
    // The Secret ingot-memberlist as the DaemonSet mounts it: one key file every speaker reads.
    const keyFile = file('secretkey', 'k8s-speaker-test-memberlist-key-0123456789');

    // The unix socket every namespace's forwarder reaches the server through.
    const sock = join(dir, 'api.sock');
    bridge = net.createServer((c) => {
      const u = net.connect(server.port, '127.0.0.1');
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
      c.pipe(u).pipe(c);
    });
    await new Promise<void>((r) => bridge.listen(sock, r));

    Topology.prebuild();
    await topo.up();
    for (const n of topo.nodes) {
      const fwd = topo.lab.spawn(n.ns, process.execPath, ['-e', FORWARDER, String(server.port), sock]);
      await new Promise<void>((resolve, reject) => {
        fwd.stdout?.once('data', () => resolve());
        fwd.once('exit', (code) => reject(new Error(`${n.name}: forwarder exited ${code}`)));
      });
      const kubeconfig = file(`kubeconfig-${n.name}`, server.kubeconfigYaml({ token: server.serviceAccountToken('ingot-system', 'ingot-speaker', `speaker-${n.name}`) }));
      topo.startSpeaker(n, { modeArgs: ['--kubeconfig', kubeconfig, '--ml-secret-key-file', keyFile, '--ml-bind-addr', n.v4, '--ml-bind-port', '17946'] });
    }
    await topo.waitEstablished(topo.nodes, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${topo.logs()}`);
    });
  });

  after(async () => {
    await topo.teardown();
    await new Promise<void>((r) => (bridge ? bridge.close(() => r()) : r()));
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Layer 2 in Kubernetes mode: every speaker hears the others, members from the Nodes\' InternalIPs', async () => {
    await waitFor(
      'three live Layer 2 members on every speaker',
      () =>
        topo.nodes.every((n) => {
          const st = topo.status(n) as { layer2?: { members?: { name: string; address: string; alive: boolean }[] } } | undefined;
          const m = st?.layer2?.members ?? [];
          return m.length === 3 && m.every((x) => x.alive) && topo.nodes.every((o) => m.some((x) => x.name === o.name && x.address === o.v4));
        }),
      { timeoutMs: 20_000, intervalMs: 200 },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${JSON.stringify(topo.status(topo.nodes[0]!)?.['layer2'] ?? null).slice(0, 800)}\n${topo.logs(8)}`);
    });
  });

  it('a Cluster Service with its status IP written: a /32 from every node (ECMP), and nodeAssigned from each', async () => {
    await apply('web', service('web', 'Cluster'));
    await apply('web-slice', slice('web', topo.nodes.map((n) => ({ node: n.name, ready: true }))));
    // Nothing before the controller's status write: the speaker never allocates.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(nexthopsOf(await topo.routes(4), `${WEB}/32`), []);
    await k(['patch', 'service', 'web', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: WEB }] } } })]);
    await waitNexthops(`${WEB}/32`, ALL_V4);
    await waitFor('three nodeAssigned events on web', () => {
      const evs = server.list('/api/v1/namespaces/default/events') as Array<{ reason?: string; message?: string; involvedObject?: { name?: string } }>;
      const msgs = evs.filter((e) => e.reason === 'nodeAssigned' && e.involvedObject?.name === 'web').map((e) => e.message).sort();
      return JSON.stringify(msgs) === JSON.stringify(topo.nodes.map((n) => `announcing from node "${n.name}" with protocol "bgp"`));
    }, { timeoutMs: 10_000, intervalMs: 200 });
  });

  it('externalTrafficPolicy Local: only the node with a ready endpoint (node-1\'s is not ready)', async () => {
    await apply('local', service('local', 'Local'));
    await apply('local-slice', slice('local', [{ node: 'node-2', ready: true }, { node: 'node-1', ready: false }]));
    await k(['patch', 'service', 'local', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: LOCAL }] } } })]);
    await waitNexthops(`${LOCAL}/32`, ['10.77.0.12']);
    await waitNexthops(`${WEB}/32`, ALL_V4);
    assert.deepEqual(nexthopsOf(await topo.routes(4), `${LOCAL}/32`), ['10.77.0.12']);
  });

  it('the only endpoint turning not ready withdraws the Local Service; ready again announces it', async () => {
    await apply('local-slice', slice('local', [{ node: 'node-2', ready: false }, { node: 'node-1', ready: false }]));
    await waitNexthops(`${LOCAL}/32`, []);
    await apply('local-slice', slice('local', [{ node: 'node-2', ready: true }, { node: 'node-1', ready: false }]));
    await waitNexthops(`${LOCAL}/32`, ['10.77.0.12']);
  });

  it('the exclusion label removes a node; removing the label brings it back', async () => {
    await k(['label', 'node', 'node-3', `${EXCLUDE}=`]);
    await waitNexthops(`${WEB}/32`, ['10.77.0.11', '10.77.0.12']);
    await k(['label', 'node', 'node-3', `${EXCLUDE}-`]);
    await waitNexthops(`${WEB}/32`, ALL_V4);
  });

  it('deleting the Service withdraws it from every node; the others stay', async () => {
    await k(['delete', 'service', 'web']);
    await waitNexthops(`${WEB}/32`, []);
    assert.deepEqual(nexthopsOf(await topo.routes(4), `${LOCAL}/32`), ['10.77.0.12']);
    const peers = await topo.peers();
    for (const a of ALL_V4) assert.equal(peers[a]?.established, true, `${a} still Established`);
  });

  it('over the whole run: no 403 for the speakers, and the rules granted but never used are reported', (t) => {
    const denied = server.denials(SPEAKERS);
    assert.deepEqual(denied.map((d) => `${d.verb} ${d.resource} ${d.namespace}/${d.name}: ${d.reason}`), []);
    const speakerRequests = server.audit.filter((a) => SPEAKERS.test(a.user));
    assert.ok(speakerRequests.length > 0, 'the speakers made requests');
    assert.equal(new Set(speakerRequests.map((a) => a.pod)).size, 3, 'all three speakers talked to the server');
    const usage = server.permissionUsage([SPEAKERS]);
    assert.ok(usage.length > 0, 'the speaker has permissions');
    const unused = usage.filter((p) => !p.used).map((p) => `${p.apiGroup || 'core'}/${p.resource} ${p.verb}${p.resourceName ? ` (${p.resourceName})` : ''}`);
    t.diagnostic(`speaker permissions granted but never used: ${unused.length === 0 ? 'none' : unused.join(', ')}`);
    // The speaker lists and watches all four resources and creates Events: the manifest is exact.
    assert.deepEqual(unused, [], 'every permission the manifest grants the speaker is used');
  });
});

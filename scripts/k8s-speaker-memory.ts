// Memory of a real `ingot speaker` in Kubernetes mode with N Services (issue 9 §7: 10,000 Services, speaker
// under 100 MB RSS). The fake API server (test/helpers/fake-apiserver.ts, HTTPS with a CA and the speaker's
// ServiceAccount token, RBAC from manifests/ingot.yaml) holds N LoadBalancer Services with a status IP, one
// EndpointSlice each with a ready endpoint on this node, the Node and the ConfigMap; `bin/ingot speaker
// --kubeconfig ...` runs as a child process (`--bgp-listen off`; its one peer, on a closed loopback port, never
// comes up, so what is measured is the informers' caches, the agent and the advertisement table). Once the
// speaker has synced and announces all N (its /status), RSS is sampled from /proc for a few seconds after a
// settling period; the peak (VmHWM) and the last VmRSS are printed as JSON.
//
//   node --import tsx scripts/k8s-speaker-memory.ts [N=10000] [settle-seconds=10]
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startFakeApiServer, type KubeObject } from '../test/helpers/fake-apiserver.js';
import { INGOT_BIN, REPO_ROOT } from '../test/helpers/cli.js';

const N = Number(process.argv[2] ?? 10_000);
const SETTLE_S = Number(process.argv[3] ?? 10);
const CONFIG = `peers:
- {peer-address: 127.0.0.1, peer-port: 1, peer-asn: 64500, my-asn: 64512}
address-pools:
- {name: vips, protocol: bgp, addresses: [10.0.0.0/16]}
`;

function memKb(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const f = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: f('VmRSS'), hwm: f('VmHWM') };
}

function httpJson(port: number, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as Record<string, unknown>);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    }).on('error', reject);
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-k8s-mem-'));
  const server = await startFakeApiServer({ tls: true, rbac: true, historyLimit: 1000 });
  try {
    // RBAC exactly as shipped: the manifest's roles, seeded as `kubectl apply` would store them.
    const { parseAllDocuments } = await import('yaml');
    const docs = parseAllDocuments(readFileSync(join(REPO_ROOT, 'manifests/ingot.yaml'), 'utf8')).map((d) => d.toJS() as KubeObject);
    const pathOf: Record<string, (o: KubeObject) => string> = {
      ClusterRole: () => '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      ClusterRoleBinding: () => '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      Role: (o) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${o.metadata?.namespace}/roles`,
      RoleBinding: (o) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${o.metadata?.namespace}/rolebindings`,
    };
    for (const d of docs) if (d && typeof d.kind === 'string' && pathOf[d.kind]) server.seed(pathOf[d.kind]!(d), d);
    server.seed('/api/v1/namespaces/ingot-system/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config', namespace: 'ingot-system' }, data: { config: CONFIG } });
    server.seed('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } } });
    for (let i = 0; i < N; i++) {
      const ns = `ns-${i % 50}`;
      server.seed(`/api/v1/namespaces/${ns}/services`, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${i}`, namespace: ns, labels: { app: `svc-${i}` }, annotations: { 'example.com/owner': 'team-a' } },
        spec: {
          type: 'LoadBalancer',
          externalTrafficPolicy: 'Cluster',
          clusterIP: `10.96.${i >> 8}.${i & 255}`,
          clusterIPs: [`10.96.${i >> 8}.${i & 255}`],
          ipFamilies: ['IPv4'],
          ipFamilyPolicy: 'SingleStack',
          selector: { app: `svc-${i}` },
          ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30000 + (i % 2700) }],
          sessionAffinity: 'None',
        },
        status: { loadBalancer: { ingress: [{ ip: `10.0.${i >> 8}.${i & 255}` }] } },
      });
      server.seed(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `svc-${i}-x7k2p`, namespace: ns, labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
        addressType: 'IPv4',
        endpoints: [1, 2, 3].map((j) => ({ addresses: [`10.244.${j}.${i % 250}`], nodeName: `node-${j}`, conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: ns, name: `svc-${i}-pod-${j}` } })),
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      });
    }
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, server.kubeconfigYaml({ token: server.serviceAccountToken('ingot-system', 'ingot-speaker') }));
    const started = Date.now();
    const child = spawn(INGOT_BIN, ['speaker', '--node-name', 'node-1', '--kubeconfig', kubeconfig, '--bgp-listen', 'off', '--metrics-addr', '127.0.0.1:0', '--log-level', 'warn'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const pid = child.pid!;
    let port = 0;
    const lines: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l));
    // --log-level warn hides metricsListening; read the port from /proc instead (the one listening socket).
    const deadline = Date.now() + 180_000;
    let syncedAt = 0;
    let heap: Record<string, number> = {};
    for (;;) {
      if (Date.now() > deadline) throw new Error(`speaker did not announce ${N} Services in time\n${lines.slice(-20).join('\n')}`);
      if (child.exitCode !== null) throw new Error(`speaker exited ${child.exitCode}\n${lines.join('\n')}`);
      if (port === 0) port = listeningPort(pid);
      if (port !== 0) {
        try {
          const st = await httpJson(port, '/status');
          const anns = (st.announcements as Array<{ reason: string | null }> | undefined) ?? [];
          if (anns.length === N && anns.every((a) => a.reason === null)) {
            syncedAt = Date.now();
            heap = st.memory as Record<string, number>;
            break;
          }
        } catch {
          /* not up yet */
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const samples: number[] = [];
    const settleEnd = Date.now() + SETTLE_S * 1000;
    while (Date.now() < settleEnd) {
      samples.push(memKb(pid).rss);
      await new Promise((r) => setTimeout(r, 500));
    }
    const m = memKb(pid);
    const late = await httpJson(port, '/status');
    const denied = server.denials().length;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const out = {
      services: N,
      endpointSlices: N,
      secondsToAnnounceAll: (syncedAt - started) / 1000,
      rssMiB: +(m.rss / 1024).toFixed(1),
      rssMaxAfterSyncMiB: +(Math.max(...samples) / 1024).toFixed(1),
      peakRssMiB: +(m.hwm / 1024).toFixed(1),
      heapMiB: Object.fromEntries(Object.entries(heap).map(([k, v]) => [k, +(v / 1048576).toFixed(1)])),
      denials: denied,
      heapAfterSettleMiB: Object.fromEntries(Object.entries(late.memory as Record<string, number>).map(([k, v]) => [k, +(v / 1048576).toFixed(1)])),
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The TCP port the process listens on (its only listening socket: the metrics server). */
function listeningPort(pid: number): number {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const l = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(l);
        if (m) inodes.add(m[1]!);
      } catch {
        /* closed meanwhile */
      }
    }
    for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9] ?? '')) return parseInt(f[1]!.split(':')[1]!, 16);
    }
  } catch {
    /* not yet */
  }
  return 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});

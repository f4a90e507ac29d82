// Measures a real `ingot controller` process against 10,000 LoadBalancer Services on the fake API server:
// time from the process start to every Service's status written, and the controller's RSS (peak while
// working, and 5 s after the last write). Each `--qps Q --burst B` pair is one run (default: 50/100, then
// 1000/2000); `--node-options "..."` sets NODE_OPTIONS for the controller only. One JSON line per run:
//   node --import tsx scripts/controller-10k.ts [--services N] [--qps Q --burst B]... [--node-options S]
//
// The fake API server runs in this process on loopback and shares the machine's two cores with the
// controller: the figures are an upper bound for what a real API server would allow.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeApiServer } from '../test/helpers/fake-apiserver.js';

const BIN = fileURLToPath(new URL('../bin/ingot', import.meta.url));
const NS = 'ingot-system';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function run(services: number, qps: number, burst: number): Promise<Record<string, unknown>> {
  const server = await startFakeApiServer({ historyLimit: 4 * services });
  server.set(`/api/v1/namespaces/${NS}/configmaps`, {
    metadata: { name: 'config', namespace: NS },
    data: { config: 'address-pools:\n- name: big\n  protocol: bgp\n  addresses: [10.128.0.0/16]\n' },
  });
  for (let i = 0; i < services; i++) {
    const ip = `10.96.${(i >> 8) & 255}.${i & 255}`;
    server.seed('/api/v1/services', {
      metadata: { name: `svc-${i}`, namespace: `ns-${i % 100}` },
      spec: { type: 'LoadBalancer', clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: `svc-${i}` }, allocateLoadBalancerNodePorts: false },
    });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingot-10k-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: f\n  cluster: {server: '${server.url}', insecure-skip-tls-verify: true}\nusers:\n- name: f\n  user: {token: t}\ncontexts:\n- name: f\n  context: {cluster: f, user: f}\ncurrent-context: f\n`);
  const start = Date.now();
  const child = spawn(BIN, ['controller', '--kubeconfig', kubeconfig, '--namespace', NS, '--identity', 'bench', '--metrics-addr', '127.0.0.1:0', '--kube-api-qps', String(qps), '--kube-api-burst', String(burst), '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...(nodeOptions !== '' ? { NODE_OPTIONS: nodeOptions } : {}) },
  });
  let peak = 0;
  let written = 0;
  const counted = new Set<number>();
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, rssKiB(child.pid));
      const reqs = server.requests;
      for (let i = 0; i < reqs.length; i++) {
        if (counted.has(i)) continue;
        const r = reqs[i]!;
        if (r.status === 0) continue;
        counted.add(i);
        if (r.method === 'PATCH' && r.status === 200) written++;
      }
      if (written >= services) {
        done = Date.now() - start;
        clearInterval(timer);
        resolve();
      }
      if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`controller exited with ${child.exitCode}`));
      }
    }, 100);
  });
  // RSS 5 s after the last status write (Events may still be going out; no GC forced).
  await new Promise((r) => setTimeout(r, 5000));
  const idle = child.pid !== undefined ? rssKiB(child.pid) : 0;
  const withStatus = server.list('/api/v1/services').filter((s) => ((s.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress ?? []).length === 1).length;
  const ips = new Set(server.list('/api/v1/services').map((s) => JSON.stringify((s.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress)));
  const requests = server.requests.length;
  const events = server.list('/api/v1/events').length;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { services, qps, burst, secondsToAllWritten: done / 1000, peakRssMiB: +(peak / 1024).toFixed(1), rssAfter5sMiB: +(idle / 1024).toFixed(1), withStatus, distinctIngress: ips.size, requests, events, node: process.version, nodeOptions };
}

const services = Number(arg('--services', '10000'));
/** NODE_OPTIONS for the controller process only, e.g. "--max-semi-space-size=1". */
const nodeOptions = arg('--node-options', '');
const pairs: Array<[number, number]> = [];
for (let i = 0; i < process.argv.length; i++) {
  if (process.argv[i] === '--qps') pairs.push([Number(process.argv[i + 1]), Number(process.argv[process.argv.indexOf('--burst', i) + 1] ?? 100)]);
}
if (pairs.length === 0) pairs.push([50, 100], [1000, 2000]);
for (const [qps, burst] of pairs) process.stdout.write(`${JSON.stringify(await run(services, qps, burst))}\n`);

// Shared setup for the controller tests: a fake API server, Service objects as the API server stores them,
// an in-process Controller on a real HTTP client, and real `ingot controller` processes.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { startFakeApiServer, type FakeApiServer, type FakeApiServerOptions, type KubeObject, type StoredObject } from '../../helpers/fake-apiserver.js';
import { INGOT_BIN } from '../../helpers/cli.js';
import { writeKubeconfig as writeKubeconfigFile } from '../k8s/support.js';
import { Controller } from '../../../src/controller/controller.js';
import { createKubeClient, type KubeClient } from '../../../src/k8s/index.js';
import { systemClock } from '../../../src/k8s/primitives.js';
import { createLogger } from '../../../src/log.js';
import { ControllerMetrics } from '../../../src/metrics/registry.js';

export const NS = 'ingot-system';
export const SERVICES = '/api/v1/services';
export const CONFIGMAPS = `/api/v1/namespaces/${NS}/configmaps`;
export const EVENTS = '/api/v1/events';
export const LEASES = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;
export const SECRETS = `/api/v1/namespaces/${NS}/secrets`;

export function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingot-ctl-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A kubeconfig for the fake server (plain HTTP, skip-verify) with the controller's bearer token. */
export function writeKubeconfig(dir: string, server: string): string {
  return writeKubeconfigFile(dir, server, { token: 'controller-token' });
}

export function configMap(text: string, name = 'config'): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { config: text } };
}

let seq = 0;
export interface SvcOpts {
  ns?: string;
  type?: string;
  annotations?: Record<string, string>;
  loadBalancerIP?: string;
  loadBalancerClass?: string;
  ports?: Array<{ port: number; protocol?: string }>;
  status?: string[];
  clusterIP?: string;
}

/** A Service as the API server would store it (clusterIPs filled in; status optional). */
export function service(name: string, o: SvcOpts = {}): KubeObject {
  seq++;
  const clusterIP = o.clusterIP ?? `10.96.${(seq >> 8) & 255}.${seq & 255}`;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: o.ns ?? 'default', ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      type: o.type ?? 'LoadBalancer',
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: (o.ports ?? [{ port: 80 }]).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.port })),
      selector: { app: name },
      ...(o.loadBalancerIP ? { loadBalancerIP: o.loadBalancerIP } : {}),
      ...(o.loadBalancerClass ? { loadBalancerClass: o.loadBalancerClass } : {}),
    },
    status: { loadBalancer: o.status ? { ingress: o.status.map((ip) => ({ ip })) } : {} },
  };
}

export function ipsOf(obj: StoredObject | KubeObject | undefined): string[] {
  const st = obj?.status as { loadBalancer?: { ingress?: Array<{ ip?: string }> } } | undefined;
  return (st?.loadBalancer?.ingress ?? []).map((e) => e.ip ?? '');
}

export function statusOf(server: FakeApiServer, name: string, ns = 'default'): string[] {
  return ipsOf(server.get(SERVICES, name, ns));
}

export interface EventRecord {
  reason: string;
  type: string;
  message: string;
  object: string;
  kind: string;
}

export function events(server: FakeApiServer): EventRecord[] {
  return server.list(EVENTS).map((e) => {
    const ev = e as unknown as { reason: string; type: string; message: string; involvedObject: { namespace?: string; name: string; kind: string } };
    return { reason: ev.reason, type: ev.type, message: ev.message, object: `${ev.involvedObject.namespace ?? ''}/${ev.involvedObject.name}`, kind: ev.involvedObject.kind };
  });
}

/** Polls `cond` every 10 ms until it holds; fails after `ms` with `what`. */
export async function until(cond: () => boolean, what: string | (() => string), ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface InProcess {
  server: FakeApiServer;
  controller: Controller;
  client: KubeClient;
  metrics: ControllerMetrics;
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** A fake server (optionally seeded) and an in-process Controller on a real HTTP client, leading at once. */
export async function inProcess(
  opts: { config?: string; seed?: KubeObject[]; lbClass?: string; server?: FakeApiServer; fake?: FakeApiServerOptions; identity?: string } = {},
): Promise<InProcess> {
  const server = opts.server ?? (await startFakeApiServer(opts.fake));
  if (opts.config !== undefined) server.set(CONFIGMAPS, configMap(opts.config));
  for (const o of opts.seed ?? []) server.set(SERVICES, o);
  const dir = tmpDir();
  const client = createKubeClient({ kubeconfig: writeKubeconfig(dir, server.url), env: {}, qps: 1000, burst: 1000 });
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', write: (l) => void logs.push(JSON.parse(l) as Record<string, unknown>) });
  const metrics = new ControllerMetrics();
  const controller = new Controller({
    client,
    namespace: NS,
    lbClass: opts.lbClass ?? null,
    identity: opts.identity ?? 'test-controller',
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 200,
    clock: systemClock({ unref: true }),
    logger,
    metrics,
    informerPolicy: { initialMs: 20, maxMs: 500, multiplier: 2, jitter: 0.5, stableMs: 1000 },
  });
  controller.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await controller.stop();
    await client.close();
    if (opts.server === undefined) await server.close();
  };
  after(stop);
  await until(() => controller.isLeader(), 'the controller to lead');
  return { server, controller, client, metrics, logs, stop };
}

// --- real processes -----------------------------------------------------------------------------------------

export interface ControllerProcess {
  child: ChildProcess;
  identity: string;
  stderr: () => string;
  logs: () => Array<Record<string, unknown>>;
  metricsPort: () => Promise<number>;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  terminate(): Promise<number | null>;
  kill9(): Promise<void>;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export function spawnController(kubeconfig: string, identity: string, extra: string[] = []): ControllerProcess {
  const child = spawn(
    INGOT_BIN,
    ['controller', '--kubeconfig', kubeconfig, '--namespace', NS, '--identity', identity, '--metrics-addr', '127.0.0.1:0', '--log-level', 'debug', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBECONFIG: '' } },
  );
  children.add(child);
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logs = (): Array<Record<string, unknown>> =>
    err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  return {
    child,
    identity,
    stderr: () => err,
    logs,
    async metricsPort() {
      let port: number | undefined;
      await until(
        () => {
          const l = logs().find((x) => x.event === 'metricsListening');
          port = l?.port as number | undefined;
          return port !== undefined || child.exitCode !== null;
        },
        `${identity} to listen (stderr: ${err.slice(-2000)})`,
        60_000,
      );
      if (port === undefined) throw new Error(`${identity} exited: ${err.slice(-2000)}`);
      return port;
    },
    async terminate() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    exited,
  };
}

export async function getJson(port: number, p: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(3000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // text endpoints
  }
  return { status: res.status, body };
}

/**
 * Every status.loadBalancer.ingress a Service ever had, from a watch on the fake server (so a write that is
 * overwritten a millisecond later is still seen). `history.get('ns/name')` lists the distinct non-empty IP
 * lists in the order they appeared.
 */
export async function recordStatuses(server: FakeApiServer): Promise<{ history: Map<string, string[][]>; close(): void }> {
  const history = new Map<string, string[][]>();
  const http = await import('node:http');
  let buf = '';
  const req = http.get(`${server.url}${SERVICES}?watch=true`, (res) => {
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim() === '') continue;
        const ev = JSON.parse(line) as { type: string; object: KubeObject };
        const key = `${ev.object.metadata?.namespace ?? ''}/${ev.object.metadata?.name ?? ''}`;
        const ips = ipsOf(ev.object);
        if (ips.length === 0) continue;
        const h = history.get(key) ?? [];
        const last = h[h.length - 1];
        if (last === undefined || last.join(',') !== ips.join(',')) h.push(ips);
        history.set(key, h);
      }
    });
  });
  req.on('error', () => undefined);
  await server.waitForWatches(1, SERVICES);
  return { history, close: () => req.destroy() };
}

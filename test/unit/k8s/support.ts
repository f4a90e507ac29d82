// Shared setup for the src/k8s tests: a fake API server per test file, a kubeconfig file pointing at it (plain
// http with insecure-skip-tls-verify, as kubectl would need), a KubeClient, and a logger that keeps its lines.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { startFakeApiServer, type FakeApiServer, type FakeApiServerOptions } from '../../helpers/fake-apiserver.js';
import { createLogger, type Logger } from '../../../src/log.js';
import { createKubeClient, type KubeClient, type KubeClientOptions } from '../../../src/k8s/index.js';
import type { K8sMetrics } from '../../../src/k8s/metrics.js';

export function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingot-k8s-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeKubeconfig(dir: string, server: string, extra: { skipTLSVerify?: boolean; token?: string; namespace?: string; name?: string } = {}): string {
  const file = path.join(dir, `${extra.name ?? 'kubeconfig'}.yaml`);
  const skip = extra.skipTLSVerify ?? true;
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${server}`,
      ...(skip ? ['    insecure-skip-tls-verify: true'] : []),
      'users:',
      '- name: fake',
      '  user:',
      `    token: ${extra.token ?? 'fake-token'}`,
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      '    user: fake',
      ...(extra.namespace ? [`    namespace: ${extra.namespace}`] : []),
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return file;
}

export interface Captured {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  events(name: string): Array<Record<string, unknown>>;
}

export function captureLogger(): Captured {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', write: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { logger, lines, events: (name) => lines.filter((l) => l.event === name) };
}

export interface RecordingMetrics extends K8sMetrics {
  processed: number;
  failed: number;
  depth: Map<string, number>;
  restarts: Array<{ resource: string; reason: string }>;
  leader: boolean[];
}

export function recordingMetrics(): RecordingMetrics {
  const m: RecordingMetrics = {
    processed: 0,
    failed: 0,
    depth: new Map(),
    restarts: [],
    leader: [],
    workItemProcessed(_q, failed) {
      m.processed++;
      if (failed) m.failed++;
    },
    setQueueDepth(q, d) {
      m.depth.set(q, d);
    },
    informerRestarted(resource, reason) {
      m.restarts.push({ resource, reason });
    },
    setLeader(l) {
      m.leader.push(l);
    },
  };
  return m;
}

export interface Env {
  server: FakeApiServer;
  client: KubeClient;
  dir: string;
  kubeconfig: string;
}

/** A fake server and clients for it, all closed after the test file. */
export function fakeEnv(): (options?: FakeApiServerOptions & { client?: Omit<KubeClientOptions, 'kubeconfig'> }) => Promise<Env> {
  const envs: Env[] = [];
  after(async () => {
    for (const e of envs) {
      await e.client.close();
      await e.server.close();
    }
  });
  return async (options = {}) => {
    const server = await startFakeApiServer(options);
    const dir = tmpDir();
    const kubeconfig = writeKubeconfig(dir, server.url);
    const client = createKubeClient({ kubeconfig, env: {}, qps: 1000, burst: 1000, ...(options.client ?? {}) });
    const e = { server, client, dir, kubeconfig };
    envs.push(e);
    return e;
  };
}

/** Polls `cond` every 5 ms until it holds; fails after `ms` with `what`. */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

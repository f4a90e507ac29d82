// A minimal Kubernetes REST client for the fake API server's tests: fetch for requests, node:http for watches
// (whose events must be consumed one at a time as they arrive). Every wait is bounded, so a missing event fails
// the test instead of hanging it.
import * as http from 'node:http';
import { after } from 'node:test';
import { startFakeApiServer, type FakeApiServer, type FakeApiServerOptions, type KubeObject, type Status, type WatchEvent } from '../../helpers/fake-apiserver.js';

/** A starter for fake servers that are all closed after the calling test file. */
export function fakeServers(): (options?: FakeApiServerOptions) => Promise<FakeApiServer> {
  const started: FakeApiServer[] = [];
  after(async () => {
    for (const s of started) await s.close();
  });
  return async (options) => {
    const s = await startFakeApiServer(options);
    started.push(s);
    return s;
  };
}

export interface Reply<T = KubeObject> {
  status: number;
  body: T;
}

export async function call<T = KubeObject>(base: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Reply<T>> {
  // Bounded, so a request that unexpectedly turns into an open watch fails the test instead of hanging it.
  const res = await fetch(`${base}${path}`, {
    method,
    signal: AbortSignal.timeout(3000),
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': contentType } } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Asserts nothing: returns the body as a Status for assertions on failures. */
export const asStatus = (r: Reply<unknown>): Status => r.body as Status;

/** The Status body the real API server sends for a failure. */
export const failure = (code: number, reason: string, message: string, details?: Status['details']): Status => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
  ...(details ? { details } : {}),
});

export interface ListBody {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

export const names = (list: ListBody): string[] => list.items.map((o) => o.metadata?.name ?? '');

export interface WatchClient {
  statusCode: number;
  /** The next event, waiting at most timeoutMs for it. */
  next(timeoutMs?: number): Promise<WatchEvent>;
  /** Resolves when the server ends the stream: 'end' for a clean end, 'aborted' when it broke off. */
  readonly ended: Promise<'end' | 'aborted'>;
  /** Events received but not yet taken with next(). */
  readonly buffered: number;
  close(): void;
}

/** Opens a watch and resolves once the response headers arrive (client-node's informers wait for them too). */
export function openWatch(base: string, path: string, headersTimeoutMs = 3000): Promise<WatchClient> {
  return new Promise((resolveOpen, rejectOpen) => {
    const noHeaders = setTimeout(() => {
      req.destroy();
      rejectOpen(new Error(`no response headers for ${path} within ${headersTimeoutMs} ms`));
    }, headersTimeoutMs);
    const req = http.get(`${base}${path}`, (res) => {
      clearTimeout(noHeaders);
      const queue: WatchEvent[] = [];
      const waiters: Array<(e: WatchEvent) => void> = [];
      let partial = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0) {
          const ev = JSON.parse(partial.slice(0, nl)) as WatchEvent;
          partial = partial.slice(nl + 1);
          const waiter = waiters.shift();
          if (waiter) waiter(ev);
          else queue.push(ev);
        }
      });
      const ended = new Promise<'end' | 'aborted'>((resolve) => {
        res.on('end', () => resolve('end'));
        res.on('aborted', () => resolve('aborted'));
        res.on('error', () => resolve('aborted'));
      });
      resolveOpen({
        statusCode: res.statusCode ?? 0,
        ended,
        get buffered() {
          return queue.length;
        },
        next(timeoutMs = 2000) {
          const queued = queue.shift();
          if (queued) return Promise.resolve(queued);
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(waiter), 1);
              reject(new Error(`no watch event on ${path} within ${timeoutMs} ms`));
            }, timeoutMs);
            const waiter = (e: WatchEvent): void => {
              clearTimeout(timer);
              resolve(e);
            };
            waiters.push(waiter);
          });
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on('error', (err) => {
      clearTimeout(noHeaders);
      rejectOpen(err);
    });
  });
}

/** Rejects when `p` does not settle within timeoutMs. */
export function within<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export const svc = (name: string, namespace = 'default', extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace, labels: { app: name } },
  spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
  ...extra,
});

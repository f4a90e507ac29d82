// HTTP endpoints on the metrics address (../shared/spec/cli.md): /metrics (Prometheus text), /healthz
// (process is alive), /readyz (initial config loaded and applied), /status (JSON the operator can read:
// every session and announcement; the providers decide the shape). Plain node:http: four fixed routes do
// not justify a framework.
//
// Exposure: /metrics, /healthz and /readyz answer anyone (Prometheus and the kubelet probe them from other
// hosts). /status lists peers, router IDs, Services and file paths, so by default it answers only a loopback
// peer (127.0.0.0/8, ::1, and IPv4-mapped 127/8); others get 403 with the reason, unless `publicStatus`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseIP } from '../ip/index.js';

export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServerOptions {
  source: MetricsSource;
  /** JSON-serialisable snapshot for /status. */
  status?: () => unknown;
  /** /readyz answers 200 only while this returns true. */
  ready?: () => boolean;
  /** Serve /status to any client, not only loopback ones (`--public-status`). */
  publicStatus?: boolean;
}

/** True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 (how a dual-stack socket shows an IPv4 loopback peer). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const ip = parseIP(address.replace(/%.*$/, ''));
  if (ip === null) return false;
  if (ip.family === 4) return ip.value >> 24n === 127n;
  return ip.value === 1n || ip.value >> 24n === 0xffff7fn;
}

export function createMetricsServer(opts: MetricsServerOptions): Server {
  return createServer((req, res) => {
    handle(opts, req, res).catch((err: unknown) => {
      send(res, 500, 'text/plain; charset=utf-8', `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
}

async function handle(opts: MetricsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  switch (path) {
    case '/metrics':
      send(res, 200, opts.source.contentType, await opts.source.metrics());
      return;
    case '/healthz':
      send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      return;
    case '/readyz': {
      const ready = opts.ready === undefined ? true : opts.ready();
      send(res, ready ? 200 : 503, 'text/plain; charset=utf-8', ready ? 'ok\n' : 'not ready\n');
      return;
    }
    case '/status':
      if (opts.publicStatus !== true && !isLoopbackAddress(req.socket.remoteAddress)) {
        send(res, 403, 'text/plain; charset=utf-8', '/status is served to loopback clients only (it lists peers, Services and file paths); run the speaker with --public-status to serve it to every client\n');
        return;
      }
      send(res, 200, 'application/json', JSON.stringify(opts.status === undefined ? {} : opts.status(), null, 2) + '\n');
      return;
    default:
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }
}

function send(res: ServerResponse, code: number, type: string, body: string): void {
  res.statusCode = code;
  res.setHeader('Content-Type', type);
  res.end(body);
}

// HTTP endpoints on the metrics address (../shared/spec/cli.md): /metrics (Prometheus text), /healthz
// (process is alive), /readyz (initial config loaded and applied), /status (JSON the operator can read:
// every session and announcement; the providers decide the shape). Plain node:http: four fixed routes do
// not justify a framework.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

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

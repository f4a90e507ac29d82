// `ingot controller` (contract: ../shared/spec/cli.md "ingot controller"). I/O lives here: flags, cluster
// access, the metrics server, signals. SIGTERM/SIGINT: stop writing, release the Lease, stop the informers,
// exit 0. Exit codes: 0 clean shutdown; 1 cluster access could not be set up (kubeconfig, in-cluster files);
// 2 usage error or an address that cannot be bound. The Kubernetes side is imported only when the command runs.
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { installFatalGuard } from './fatal.js';
import { parseGoDuration } from '../config/duration.js';
import type { KubeClient } from '../k8s/index.js';
import { DEFAULT_KUBE_API_BURST, DEFAULT_KUBE_API_QPS } from '../k8s/rate-limit.js';
import { createLogger, isLogLevel, LOG_LEVELS } from '../log.js';
import { createMetricsServer } from '../metrics/server.js';
import { parseHostPort } from './speaker.js';

interface ControllerFlags {
  kubeconfig?: string;
  namespace?: string;
  configMap: string;
  lbClass?: string;
  identity?: string;
  leaseDuration: string;
  renewDeadline: string;
  retryPeriod: string;
  kubeApiQps: string;
  kubeApiBurst: string;
  metricsAddr: string;
  publicStatus?: boolean;
  logLevel: string;
}

function usage(msg: string): number {
  process.stderr.write(`error: ${msg}\n`);
  return 2;
}

/** A Go duration (`15s`, `1500ms`, `1m`) in milliseconds, or an error naming the flag. */
export function durationFlag(text: string, flag: string): number | string {
  const d = parseGoDuration(text);
  if (!d.ok) return `${flag}: ${d.error}`;
  const ms = Number(d.nanoseconds / 1_000_000n);
  if (!(ms > 0)) return `${flag}: want a positive duration, got ${JSON.stringify(text)}`;
  return ms;
}

export async function runController(flags: ControllerFlags, opts: { forceExit?: boolean } = {}): Promise<number> {
  // Loaded here, not at the top: the other subcommands (plan, config validate, the standalone speaker) never
  // load the Kubernetes client.
  const { createKubeClient, validateLeaderConfig, validateRateLimit } = await import('../k8s/index.js');
  const { systemClock } = await import('../k8s/primitives.js');
  const { Controller } = await import('../controller/controller.js');
  const { ControllerMetrics } = await import('../metrics/registry.js');
  if (!isLogLevel(flags.logLevel)) return usage(`--log-level: want one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(flags.logLevel)}`);
  const metricsAddr = parseHostPort(flags.metricsAddr, '--metrics-addr');
  if (typeof metricsAddr === 'string') return usage(metricsAddr);
  const timing: number[] = [];
  for (const [text, flag] of [
    [flags.leaseDuration, '--lease-duration'],
    [flags.renewDeadline, '--renew-deadline'],
    [flags.retryPeriod, '--retry-period'],
  ] as const) {
    const ms = durationFlag(text, flag);
    if (typeof ms === 'string') return usage(ms);
    timing.push(ms);
  }
  const [leaseDurationMs, renewDeadlineMs, retryPeriodMs] = timing as [number, number, number];
  const identity = flags.identity ?? (process.env.POD_NAME || hostname());
  const qps = Number(flags.kubeApiQps);
  const burst = Number(flags.kubeApiBurst);
  if (flags.configMap === '') return usage('--config-map: must not be empty');
  if (flags.lbClass === '') return usage('--lb-class: must not be empty (omit it to handle Services without a class)');
  try {
    validateRateLimit({ qps, burst });
    validateLeaderConfig({ identity, leaseDurationMs, renewDeadlineMs, retryPeriodMs });
  } catch (e) {
    return usage(errText(e));
  }

  const log = createLogger({ level: flags.logLevel }).with({ component: 'controller', identity });
  let client: KubeClient;
  try {
    client = createKubeClient({
      ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
      ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
      qps,
      burst,
      userAgent: 'ingot-controller',
    });
  } catch (e) {
    process.stderr.write(`error: ${errText(e)}\n`);
    return 1;
  }
  const metrics = new ControllerMetrics({ defaultMetrics: true });
  const controller = new Controller({
    client,
    namespace: client.namespace,
    configMapName: flags.configMap,
    lbClass: flags.lbClass ?? null,
    identity,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    clock: systemClock({ unref: true }),
    logger: log,
    metrics,
  });
  // /status lists Services and the config state: loopback clients only unless --public-status (the metrics
  // server enforces it where it supports `publicStatus`).
  const serverOptions = { source: metrics, status: () => controller.status(), ready: () => controller.ready(), publicStatus: flags.publicStatus === true };
  const server = createMetricsServer(serverOptions);

  // Signals first: a SIGTERM during startup must still shut down cleanly.
  let shutdown!: (sig: string) => void;
  const done = new Promise<string>((resolve) => (shutdown = resolve));
  const onTerm = (sig: NodeJS.Signals) => shutdown(sig);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  // Last resort (only as the real process): stop writing and release the Lease, bounded, then exit 1.
  const unguard = opts.forceExit === true ? installFatalGuard(log, () => controller.stop(), 5000) : () => undefined;
  const cleanup = () => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onTerm);
    unguard();
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: metricsAddr.host, port: metricsAddr.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    cleanup();
    await client.close();
    return usage(`--metrics-addr ${flags.metricsAddr}: ${errText(e)}`);
  }
  const ma = server.address() as AddressInfo;
  log.info('metricsListening', { address: ma.address, port: ma.port });
  log.info('starting', {
    server: client.access.server,
    access: client.access.source.kind,
    namespace: client.namespace,
    configMap: flags.configMap,
    lbClass: flags.lbClass ?? null,
    qps,
    burst,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
  });
  controller.start();

  const sig = await done;
  log.info('shutdown', { signal: sig });
  try {
    // Bounded: a Lease release that cannot reach the API server must not hold the exit back past the
    // Pod's grace period.
    await Promise.race([controller.stop(), new Promise((r) => setTimeout(r, 5000).unref())]);
  } catch (e) {
    log.error('shutdownError', { error: e });
  }
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await client.close();
  cleanup();
  log.info('exited', { code: 0 });
  if (opts.forceExit === true) setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function registerControllerCommand(program: Command): void {
  program
    .command('controller')
    .description('allocate LoadBalancer IPs in a Kubernetes cluster (leader-elected; writes Service status)')
    .option('--kubeconfig <file>', 'kubeconfig file (else $KUBECONFIG, else the in-cluster service account)')
    .option('--namespace <ns>', 'namespace of the ConfigMap, the Lease and the memberlist Secret (default: the service account\'s, else ingot-system)')
    .option('--config-map <name>', 'ConfigMap holding the MetalLB config under data key "config"', 'config')
    .option('--lb-class <name>', 'handle only Services with this spec.loadBalancerClass (default: only Services without one)')
    .option('--identity <id>', 'leader-election identity (default: $POD_NAME, else the hostname)')
    .option('--lease-duration <duration>', 'how long a Lease is valid without renewal', '15s')
    .option('--renew-deadline <duration>', 'a leader that cannot renew within this stops writing', '10s')
    .option('--retry-period <duration>', 'interval between Lease attempts', '2s')
    .option('--kube-api-qps <n>', 'sustained requests per second to the API server', String(DEFAULT_KUBE_API_QPS))
    .option('--kube-api-burst <n>', 'requests allowed at once to the API server', String(DEFAULT_KUBE_API_BURST))
    .option('--metrics-addr <host:port>', 'serve /metrics, /healthz, /readyz, /status here', '0.0.0.0:7472')
    .option('--public-status', 'serve /status to every client, not only loopback ones (it lists Services and the config state)')
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, 'info')
    .action(async (opts: ControllerFlags) => {
      process.exitCode = await runController(opts, { forceExit: true });
    });
}

// `ingot speaker` (contract: ../shared/spec/cli.md). Standalone mode: `--node-name N --config F --cluster F`.
// Kubernetes mode (neither file; `--node-name` defaults to $NODE_NAME) lives in speaker-kubernetes.ts, loaded
// only then (standalone mode never loads the Kubernetes client). I/O lives here: flags, the metrics
// server, signals. SIGTERM/SIGINT: Cease / Administrative Shutdown with an RFC 9003 message to every peer, bounded wait, exit 0. SIGHUP: re-read both files.
// Exit codes: 0 clean shutdown; 1 invalid config file at startup, or an unexpected error at run time (after a
// Cease to every peer); 2 usage error, unreadable or malformed file, or an address that cannot be bound.
// /status answers loopback clients only unless --public-status (it lists peers, Services and paths).
// The agent gets two announcers: BGP, and Layer 2 from createLayer2Announcer (src/l2/create.ts; members from the
// cluster file's Nodes, key from --ml-secret-key-file, required when the config has a layer2 pool).
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Command } from 'commander';
import { installFatalGuard } from './fatal.js';
import { createLogger, isLogLevel, LOG_LEVELS, type Logger, type LogLevel } from '../log.js';
import { SpeakerMetrics } from '../metrics/registry.js';
import { createMetricsServer } from '../metrics/server.js';
import { BgpSpeaker } from '../speaker/bgp-speaker.js';
import { Standalone } from '../speaker/standalone.js';
import { NodeAgent } from '../agent/agent.js';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../config/index.js';
import { parseCluster, type Cluster } from '../plan/cluster.js';
import { internalIp, Layer2Unavailable, membersFromNodes, type Layer2Handle } from '../l2/members.js';
import { parseInterfaceList } from '../l2/interfaces.js';
import type { MemberInput } from '../l2/membership.js';
import { BgpAnnouncer } from '../speaker/bgp-announcer.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * `HOST:PORT` with HOST an IPv4 literal or a bracketed IPv6 literal. Names are refused: startup does no DNS
 * lookups (a network namespace may have no resolver).
 */
export function parseHostPort(text: string, what: string): HostPort | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return `${what}: want HOST:PORT (IPv6 as [ADDR]:PORT), got ${JSON.stringify(text)}`;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (isIP(host) === 0 || (m[1] !== undefined && isIP(host) !== 6)) {
    return `${what}: ${JSON.stringify(host)} is not an IP address (names are not resolved)`;
  }
  if (port > 65535) return `${what}: port ${port} is out of range`;
  return { host, port };
}

interface SpeakerFlags {
  nodeName?: string;
  config?: string;
  cluster?: string;
  kubeconfig?: string;
  namespace?: string;
  configMap?: string;
  lbClass?: string;
  kubeApiQps?: string;
  kubeApiBurst?: string;
  metricsAddr: string;
  bgpListen: string;
  logLevel: string;
  publicStatus?: boolean;
  mlSecretKeyFile?: string;
  mlBindAddr?: string;
  mlBindPort: string;
  l2Interfaces?: string;
  l2RefreshMs: string;
}

/** The files as they are at startup (Standalone reads them again and reports their errors). */
function peekFiles(configFile: string, clusterFile: string): { hasLayer2: boolean; cluster: Cluster | null } {
  let hasLayer2 = false;
  let cluster: Cluster | null = null;
  try {
    const r = parseConfig(readFileSync(configFile, 'utf8'));
    if (r.ok) hasLayer2 = r.config.pools.some((p) => p.protocol === 'layer2');
  } catch {
    // unreadable: Standalone.start reports it
  }
  try {
    const r = parseCluster(readFileSync(clusterFile, 'utf8'));
    if (r.ok) cluster = r.cluster;
  } catch {
    // idem
  }
  return { hasLayer2, cluster };
}

/** How long the last-resort handler waits for the Cease NOTIFICATIONs before exiting 1. */
export const FATAL_STOP_TIMEOUT_MS = 2000;

export function usage(msg: string): number {
  process.stderr.write(`error: ${msg}\n`);
  return 2;
}

export async function runSpeaker(flags: SpeakerFlags, opts: { forceExit?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const nodeName = flags.nodeName ?? (opts.env ?? process.env).NODE_NAME;
  if (nodeName === undefined || nodeName === '') return usage('--node-name NAME is required (or set $NODE_NAME)');
  if (flags.config === undefined && flags.cluster === undefined) return runKubernetesMode({ ...flags, nodeName }, opts);
  const k8sOnly = (['kubeconfig', 'namespace', 'configMap', 'lbClass', 'kubeApiQps', 'kubeApiBurst'] as const).find((k) => flags[k] !== undefined);
  if (k8sOnly !== undefined) return usage(`--${k8sOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is a Kubernetes-mode option; standalone mode (--config/--cluster) does not use it`);
  if (flags.config === undefined || flags.cluster === undefined) {
    return usage('standalone mode needs both --config FILE and --cluster FILE');
  }
  const configFile = flags.config;
  const clusterFile = flags.cluster;
  const common = commonFlags(flags);
  if (typeof common === 'string') return usage(common);
  const { logLevel, metricsAddr, listen } = common;
  // Layer 2 flags (checked before anything is started).
  const l2flags = layer2Flags(flags);
  if (typeof l2flags === 'string') return usage(l2flags);
  const { port: mlPort, refreshMs, interfaces: l2Interfaces } = l2flags;
  const peek = peekFiles(configFile, clusterFile);
  const key = l2flags.key;
  if (key === null && peek.hasLayer2) {
    return usage('the config has a layer2 pool: --ml-secret-key-file FILE is required (the key the speakers share to sign their liveness packets, at least 16 bytes)');
  }


  const log = createLogger({ level: logLevel }).with({ node: nodeName });
  const metrics = new SpeakerMetrics({ defaultMetrics: true });
  const speaker = new BgpSpeaker({ nodeName, listen, metrics, logger: log });

  // Layer 2: members are the cluster file's Nodes (InternalIP of the liveness socket's family).
  const selfNode = peek.cluster?.nodes.find((n) => n.name === nodeName);
  const bindAddress = flags.mlBindAddr ?? (selfNode ? internalIp(selfNode) : null) ?? '0.0.0.0';
  const family: 4 | 6 = isIP(bindAddress) === 6 ? 6 : 4;
  let members: MemberInput[] = [];
  const membersOf = (cluster: Cluster): MemberInput[] => {
    const r = membersFromNodes(cluster.nodes, family);
    if (r.skipped.length > 0) log.warn('layer2NodesWithoutAddress', { nodes: r.skipped, family: `IPv${family}`, effect: 'not liveness members' });
    return r.members;
  };
  if (peek.cluster !== null) members = membersOf(peek.cluster);
  let l2: Layer2Handle;
  if (key === null) {
    l2 = new Layer2Unavailable(nodeName, 'Layer 2 is off: no --ml-secret-key-file was given');
  } else {
    // Loaded only when Layer 2 is configured (frames, raw sockets, the liveness worker).
    const { createLayer2Announcer } = await import('../l2/create.js');
    const created = await createLayer2Announcer({
      nodeName: nodeName,
      members,
      key,
      bindAddress,
      port: mlPort,
      interfaces: l2Interfaces,
      refreshMs,
      registry: metrics.registry,
      logger: log,
    });
    l2 = created.announcer;
  }
  const agent = new NodeAgent({ nodeName, announcers: [new BgpAnnouncer(speaker), l2], metrics, logger: log });
  const standalone = new Standalone({
    nodeName,
    configFile,
    clusterFile,
    agent,
    logger: log,
    metrics,
    onCluster: (cluster) => {
      const next = membersOf(cluster);
      if (JSON.stringify(next) === JSON.stringify(members)) return;
      members = next;
      log.info('layer2MembersChanged', { members: next.map((m) => m.name) });
      l2.setMembers(next);
    },
  });
  let ready = false;
  const server = createMetricsServer({
    source: metrics,
    status: () => ({ ...speaker.status(), announcements: agent.announcements(), layer2: l2.status(), ...standalone.statusFiles() }),
    ready: () => ready,
    publicStatus: flags.publicStatus === true,
  });

  // Signals first: a SIGTERM during startup must still shut down cleanly.
  const { done, cleanup } = speakerSignals({
    log,
    nodeName,
    forceExit: opts.forceExit === true,
    onHup: () => standalone.reload('SIGHUP'),
    stopAnnouncing: async () => {
      await l2.stop();
      await speaker.stop({ message: `ingot speaker on node ${nodeName}: internal error, restarting`, timeoutMs: FATAL_STOP_TIMEOUT_MS });
    },
    onFatal: () => {
      ready = false;
      standalone.close();
    },
  });

  try {
    await listenHttp(server, metricsAddr);
  } catch (e) {
    cleanup();
    return usage(`--metrics-addr ${flags.metricsAddr}: ${errText(e)}`);
  }
  const ma = server.address() as AddressInfo;
  log.info('metricsListening', { address: ma.address, port: ma.port });
  // Files first, listener second: the listener is then created with the peers' TCP-MD5 keys already set
  // (no keyed peer's handshake is ever accepted unsigned, RFC 2385).
  const err = await standalone.start();
  if (err !== null) {
    cleanup();
    await l2.stop();
    await speaker.stop({ timeoutMs: 100 });
    server.close();
    // Read errors already name the file; parse errors do not.
    const named = err.kind === 'invalid-config' || err.kind === 'invalid-cluster' || err.kind === 'internal';
    process.stderr.write(`error: ${named ? `${err.file}: ` : ''}${err.error.replace(/\s*\n\s*/g, ' ')}\n`);
    return err.kind === 'invalid-config' ? 1 : 2;
  }
  try {
    await speaker.start();
  } catch (e) {
    cleanup();
    standalone.close();
    await l2.stop();
    await speaker.stop({ timeoutMs: 1000 });
    server.close();
    return usage(`--bgp-listen ${flags.bgpListen}: ${errText(e)}`);
  }
  ready = true;
  log.info('ready', { peers: speaker.peerKeys() });

  const sig = await done;
  ready = false;
  log.info('shutdown', { signal: sig });
  standalone.close();
  // Layer 2 first: its leave message lets the other speakers take the IPs over at once.
  await l2.stop().catch((e: unknown) => log.error('shutdownError', { error: e }));
  await shutdownSpeaker(speaker, nodeName, sig, log);
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  cleanup();
  log.info('exited', { code: 0 });
  // Anything still open (a socket the kernel is slow to close) must not hold the exit back.
  if (opts.forceExit === true) setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}

/**
 * The speaker process's signals, both modes: SIGTERM/SIGINT resolve `done` with the signal's name; SIGHUP
 * runs `onHup` (an exception is logged, never thrown into the signal handler); and, as the real process
 * (bin/ingot), the last-resort guard (src/cli/fatal.ts): `onFatal`, then `stopAnnouncing`, bounded, exit 1.
 * In-process tests keep node:test's own handlers. `cleanup` removes all of it.
 */
export function speakerSignals(o: {
  log: Logger;
  nodeName: string;
  forceExit: boolean;
  onHup: () => void;
  stopAnnouncing: () => Promise<void>;
  onFatal: () => void;
}): { done: Promise<string>; cleanup: () => void } {
  let shutdown!: (sig: string) => void;
  const done = new Promise<string>((resolve) => (shutdown = resolve));
  const onTerm = (sig: NodeJS.Signals) => shutdown(sig);
  const onHup = () => {
    try {
      o.onHup();
    } catch (e) {
      o.log.error('internalError', { where: 'SIGHUP', error: e });
    }
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  process.on('SIGHUP', onHup);
  const unguard = o.forceExit ? installFatalGuard(o.log, o.stopAnnouncing, FATAL_STOP_TIMEOUT_MS, o.onFatal) : () => undefined;
  const cleanup = () => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onTerm);
    process.off('SIGHUP', onHup);
    unguard();
  };
  return { done, cleanup };
}

export async function shutdownSpeaker(speaker: BgpSpeaker, node: string, sig: string, log: Logger): Promise<void> {
  // RFC 9003 §2: a short UTF-8 reason the peer's operator sees (FRR shows it in `show bgp neighbors`).
  const message = `ingot speaker on node ${node} shutting down (${sig})`;
  try {
    await speaker.stop({ message });
  } catch (e) {
    log.error('shutdownError', { error: e });
  }
}

export function listenHttp(server: Server, at: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The Layer 2 flags of both modes, checked, and the key file read. A string is the usage error. */
function layer2Flags(flags: SpeakerFlags): { port: number; bindAddr: string | null; refreshMs: number; interfaces: string[]; key: Buffer | null } | string {
  const port = Number(flags.mlBindPort);
  if (!/^\d{1,5}$/.test(flags.mlBindPort) || port < 1 || port > 65535) return `--ml-bind-port: want a port 1-65535, got ${JSON.stringify(flags.mlBindPort)}`;
  if (flags.mlBindAddr !== undefined && isIP(flags.mlBindAddr) === 0) return `--ml-bind-addr: ${JSON.stringify(flags.mlBindAddr)} is not an IP address`;
  if (!/^\d+$/.test(flags.l2RefreshMs)) return `--l2-refresh-ms: want a number of milliseconds (0: off), got ${JSON.stringify(flags.l2RefreshMs)}`;
  let interfaces: string[];
  try {
    interfaces = parseInterfaceList(flags.l2Interfaces ?? '');
  } catch (e) {
    return errText(e);
  }
  let key: Buffer | null = null;
  if (flags.mlSecretKeyFile !== undefined) {
    try {
      key = readFileSync(flags.mlSecretKeyFile);
    } catch (e) {
      return `--ml-secret-key-file ${flags.mlSecretKeyFile}: ${errText(e)}`;
    }
  }
  return { port, bindAddr: flags.mlBindAddr ?? null, refreshMs: Number(flags.l2RefreshMs), interfaces, key };
}

/** The flags both modes share: log level, metrics address, BGP listener. A string is the usage error. */
function commonFlags(flags: SpeakerFlags): { logLevel: LogLevel; metricsAddr: HostPort; listen: HostPort | null } | string {
  const logLevel = flags.logLevel;
  if (!isLogLevel(logLevel)) return `--log-level: want one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`;
  const metricsAddr = parseHostPort(flags.metricsAddr, '--metrics-addr');
  if (typeof metricsAddr === 'string') return metricsAddr;
  if (flags.bgpListen === 'off') return { logLevel, metricsAddr, listen: null };
  const listen = parseHostPort(flags.bgpListen, '--bgp-listen');
  return typeof listen === 'string' ? listen : { logLevel, metricsAddr, listen };
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Parses the Kubernetes-mode flags and hands over to speaker-kubernetes.ts (imported only now). */
async function runKubernetesMode(flags: SpeakerFlags & { nodeName: string }, opts: { forceExit?: boolean }): Promise<number> {
  const common = commonFlags(flags);
  if (typeof common === 'string') return usage(common);
  const { logLevel, metricsAddr, listen } = common;
  const qps = numberFlag(flags.kubeApiQps, '--kube-api-qps', 50);
  if (typeof qps === 'string') return usage(qps);
  const burst = numberFlag(flags.kubeApiBurst, '--kube-api-burst', 100);
  if (typeof burst === 'string') return usage(burst);
  if (flags.configMap === '') return usage('--config-map: want a ConfigMap name, got ""');
  const l2flags = layer2Flags(flags);
  if (typeof l2flags === 'string') return usage(l2flags);
  const { runKubernetesSpeaker } = await import('./speaker-kubernetes.js');
  return runKubernetesSpeaker(
    {
      nodeName: flags.nodeName,
      ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
      ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
      configMap: flags.configMap ?? 'config',
      ...(flags.lbClass !== undefined ? { lbClass: flags.lbClass } : {}),
      kubeApiQps: qps,
      kubeApiBurst: burst,
      logLevel,
      metricsAddr,
      metricsAddrText: flags.metricsAddr,
      listen,
      bgpListenText: flags.bgpListen,
      publicStatus: flags.publicStatus === true,
      layer2: l2flags,
    },
    opts,
  );
}

function numberFlag(text: string | undefined, flag: string, dflt: number): number | string {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) return `${flag}: want a number, got ${JSON.stringify(text)}`;
  return n;
}

export function registerSpeakerCommand(program: Command): void {
  program
    .command('speaker')
    .description(
      'run the BGP speaker of one node: Kubernetes mode (informers; announces the IPs the controller wrote into status.loadBalancer.ingress), ' +
        'or standalone mode with --config and --cluster files',
    )
    .option('--node-name <name>', 'this node\'s name, as its Node object is named (default: $NODE_NAME)')
    .option('--config <file>', 'standalone mode: MetalLB config (raw or ConfigMap)')
    .option('--cluster <file>', 'standalone mode: Kubernetes objects (Services, EndpointSlices, Nodes)')
    .option('--kubeconfig <file>', 'Kubernetes mode: cluster access (default: $KUBECONFIG, else the in-cluster service account)')
    .option('--namespace <ns>', 'Kubernetes mode: where the ConfigMap lives (default: the service account\'s namespace, else ingot-system)')
    .option('--config-map <name>', 'Kubernetes mode: the MetalLB-format ConfigMap (data key "config")', undefined)
    .option('--lb-class <name>', 'Kubernetes mode: handle only Services with this spec.loadBalancerClass (default: only those without one)')
    .option('--kube-api-qps <n>', 'Kubernetes mode: client-side request rate limit (default 50)')
    .option('--kube-api-burst <n>', 'Kubernetes mode: requests allowed at once (default 100)')
    .option('--metrics-addr <host:port>', 'serve /metrics, /healthz, /readyz (and /status to loopback clients) here', '0.0.0.0:7472')
    .option('--public-status', 'serve /status to every client, not only loopback ones (it lists peers, Services and file paths)')
    .option('--bgp-listen <addr:port|off>', 'accept BGP connections from configured peers here ([::]:PORT: IPv4 and IPv6)', '0.0.0.0:179')
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--ml-secret-key-file <file>', 'Layer 2 liveness key (the speakers share it; >= 16 bytes); required when the config has a layer2 pool')
    .option('--ml-bind-addr <ip>', "Layer 2 liveness address (default: this node's InternalIP in the cluster file, else 0.0.0.0)")
    .option('--ml-bind-port <port>', 'Layer 2 liveness UDP port (every speaker uses the same)', '7946')
    .option('--l2-interfaces <a,b>', 'answer ARP/NDP only on these interfaces (default: those whose subnet holds the IP)')
    .option('--l2-refresh-ms <ms>', 're-send gratuitous ARP/NA for owned IPs this often (0: only on takeover)', '0')
    .action(async (opts: SpeakerFlags) => {
      process.exitCode = await runSpeaker(opts, { forceExit: true });
    });
}

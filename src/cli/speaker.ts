// `ingot speaker` (contract: ../shared/spec/cli.md). Standalone mode only for now: `--node-name N --config F
// --cluster F`; Kubernetes mode (`--kubeconfig`, or neither file) is a later issue and a usage error here.
// The agent gets two announcers: BGP, and Layer 2 from createLayer2Announcer (src/l2/create.ts; members from the
// cluster file's Nodes, key from --ml-secret-key-file, required when the config has a layer2 pool).
// I/O lives here: flags, the metrics server, signals. SIGTERM/SIGINT: Cease / Administrative Shutdown with
// an RFC 9003 message to every peer, bounded wait, exit 0. SIGHUP: re-read both files.
// Exit codes: 0 clean shutdown; 1 invalid config or cluster file at startup; 2 usage error, unreadable file,
// or an address that cannot be bound.
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Command } from 'commander';
import { createLogger, isLogLevel, LOG_LEVELS, type Logger } from '../log.js';
import { SpeakerMetrics } from '../metrics/registry.js';
import { createMetricsServer } from '../metrics/server.js';
import { BgpSpeaker } from '../speaker/bgp-speaker.js';
import { Standalone } from '../speaker/standalone.js';
import { NodeAgent } from '../agent/agent.js';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../config/index.js';
import { parseCluster, type Cluster } from '../plan/cluster.js';
import { createLayer2Announcer, internalIp, Layer2Unavailable, membersFromNodes, type Layer2Handle } from '../l2/create.js';
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
  nodeName: string;
  config?: string;
  cluster?: string;
  kubeconfig?: string;
  metricsAddr: string;
  bgpListen: string;
  logLevel: string;
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

function usage(msg: string): number {
  process.stderr.write(`error: ${msg}\n`);
  return 2;
}

export async function runSpeaker(flags: SpeakerFlags, opts: { forceExit?: boolean } = {}): Promise<number> {
  if (flags.kubeconfig !== undefined || (flags.config === undefined && flags.cluster === undefined)) {
    return usage(
      'Kubernetes mode (--kubeconfig, or in-cluster) is not implemented yet; run standalone mode with --config FILE --cluster FILE',
    );
  }
  if (flags.config === undefined || flags.cluster === undefined) {
    return usage('standalone mode needs both --config FILE and --cluster FILE');
  }
  if (!isLogLevel(flags.logLevel)) return usage(`--log-level: want one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(flags.logLevel)}`);
  const metricsAddr = parseHostPort(flags.metricsAddr, '--metrics-addr');
  if (typeof metricsAddr === 'string') return usage(metricsAddr);
  let listen: HostPort | null = null;
  if (flags.bgpListen !== 'off') {
    const l = parseHostPort(flags.bgpListen, '--bgp-listen');
    if (typeof l === 'string') return usage(l);
    listen = l;
  }
  // Layer 2 flags (checked before anything is started).
  const mlPort = Number(flags.mlBindPort);
  if (!/^\d{1,5}$/.test(flags.mlBindPort) || mlPort < 1 || mlPort > 65535) return usage(`--ml-bind-port: want a port 1-65535, got ${JSON.stringify(flags.mlBindPort)}`);
  if (flags.mlBindAddr !== undefined && isIP(flags.mlBindAddr) === 0) return usage(`--ml-bind-addr: ${JSON.stringify(flags.mlBindAddr)} is not an IP address`);
  const refreshMs = Number(flags.l2RefreshMs);
  if (!/^\d+$/.test(flags.l2RefreshMs)) return usage(`--l2-refresh-ms: want a number of milliseconds (0: off), got ${JSON.stringify(flags.l2RefreshMs)}`);
  let l2Interfaces: string[] = [];
  try {
    l2Interfaces = parseInterfaceList(flags.l2Interfaces ?? '');
  } catch (e) {
    return usage(errText(e));
  }
  const peek = peekFiles(flags.config, flags.cluster);
  let key: Buffer | null = null;
  if (flags.mlSecretKeyFile !== undefined) {
    try {
      key = readFileSync(flags.mlSecretKeyFile);
    } catch (e) {
      return usage(`--ml-secret-key-file ${flags.mlSecretKeyFile}: ${errText(e)}`);
    }
  } else if (peek.hasLayer2) {
    return usage('the config has a layer2 pool: --ml-secret-key-file FILE is required (the key the speakers share to sign their liveness packets, at least 16 bytes)');
  }

  const log = createLogger({ level: flags.logLevel }).with({ node: flags.nodeName });
  const metrics = new SpeakerMetrics({ defaultMetrics: true });
  const speaker = new BgpSpeaker({ nodeName: flags.nodeName, listen, metrics, logger: log });

  // Layer 2: members are the cluster file's Nodes (InternalIP of the liveness socket's family).
  const selfNode = peek.cluster?.nodes.find((n) => n.name === flags.nodeName);
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
    l2 = new Layer2Unavailable(flags.nodeName, 'Layer 2 is off: no --ml-secret-key-file was given');
  } else {
    const created = await createLayer2Announcer({
      nodeName: flags.nodeName,
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
  const agent = new NodeAgent({ nodeName: flags.nodeName, announcers: [new BgpAnnouncer(speaker), l2], metrics, logger: log });
  const standalone = new Standalone({
    nodeName: flags.nodeName,
    configFile: flags.config,
    clusterFile: flags.cluster,
    agent,
    logger: log,
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
    status: () => ({ ...speaker.status(), announcements: agent.announcements(), layer2: l2.status(), staleFiles: Object.fromEntries(standalone.stale) }),
    ready: () => ready,
  });

  // Signals first: a SIGTERM during startup must still shut down cleanly.
  let shutdown!: (sig: string) => void;
  const done = new Promise<string>((resolve) => (shutdown = resolve));
  const onTerm = (sig: NodeJS.Signals) => shutdown(sig);
  const onHup = () => standalone.reload('SIGHUP');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  process.on('SIGHUP', onHup);
  const cleanup = () => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onTerm);
    process.off('SIGHUP', onHup);
  };

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
  const err = standalone.start();
  if (err !== null) {
    cleanup();
    await l2.stop();
    await speaker.stop({ timeoutMs: 100 });
    server.close();
    process.stderr.write(`error: ${err.kind === 'unreadable' ? '' : `${err.file}: `}${err.error.replace(/\s*\n\s*/g, ' ')}\n`);
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
  await shutdownSpeaker(speaker, flags.nodeName, sig, log);
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  cleanup();
  log.info('exited', { code: 0 });
  // Anything still open (a socket the kernel is slow to close) must not hold the exit back.
  if (opts.forceExit === true) setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}

async function shutdownSpeaker(speaker: BgpSpeaker, node: string, sig: string, log: Logger): Promise<void> {
  // RFC 9003 §2: a short UTF-8 reason the peer's operator sees (FRR shows it in `show bgp neighbors`).
  const message = `ingot speaker on node ${node} shutting down (${sig})`;
  try {
    await speaker.stop({ message });
  } catch (e) {
    log.error('shutdownError', { error: e });
  }
}

function listenHttp(server: Server, at: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function registerSpeakerCommand(program: Command): void {
  program
    .command('speaker')
    .description('run the speaker of one node: BGP and Layer 2 (ARP/NDP) announcements (standalone mode: --config and --cluster files)')
    .requiredOption('--node-name <name>', 'this node\'s name (as in the cluster file\'s Node objects)')
    .option('--config <file>', 'MetalLB config (raw or ConfigMap); standalone mode')
    .option('--cluster <file>', 'Kubernetes objects (Services, EndpointSlices, Nodes); standalone mode')
    .option('--kubeconfig <file>', 'Kubernetes mode (not implemented yet)')
    .option('--metrics-addr <host:port>', 'serve /metrics, /healthz, /readyz, /status here', '0.0.0.0:7472')
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

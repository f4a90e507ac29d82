// `ingot speaker --node-name NAME [--kubeconfig FILE]` — Kubernetes mode (../shared/spec/cli.md). Loaded
// lazily by src/cli/speaker.ts, so standalone mode never loads the Kubernetes client.
// I/O lives here: cluster access, the metrics server, signals. The state comes from KubernetesSource
// (src/speaker/kubernetes.ts) and goes through the same NodeAgent and BgpSpeaker as standalone mode.
// Exit codes: 0 clean shutdown; 1 cluster access could not be set up (kubeconfig, in-cluster files);
// 2 usage error or an address that cannot be bound.
import type { AddressInfo } from 'node:net';
import { NodeAgent } from '../agent/agent.js';
import { systemClock } from '../clock.js';
import { createKubeClient, EventRecorder, validateRateLimit, ClusterAccessError, type KubeClient } from '../k8s/index.js';
import { createLogger } from '../log.js';
import { K8sClientMetrics, SpeakerMetrics } from '../metrics/registry.js';
import { createMetricsServer } from '../metrics/server.js';
import { BgpAnnouncer } from '../speaker/bgp-announcer.js';
import { BgpSpeaker } from '../speaker/bgp-speaker.js';
import { KubernetesSource } from '../speaker/kubernetes.js';
import { Layer2Unavailable, membersFromNodes, type Layer2Handle } from '../l2/members.js';
import type { Layer2ConflictEvent } from '../l2/announcer.js';
import { errText, FATAL_STOP_TIMEOUT_MS, listenHttp, shutdownSpeaker, speakerSignals, usage, type HostPort } from './speaker.js';

export interface KubernetesSpeakerFlags {
  nodeName: string;
  kubeconfig?: string;
  namespace?: string;
  configMap: string;
  lbClass?: string;
  kubeApiQps: number;
  kubeApiBurst: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  metricsAddr: HostPort;
  metricsAddrText: string;
  listen: HostPort | null;
  bgpListenText: string;
  publicStatus?: boolean;
  /** Layer 2: liveness port and address, interfaces, refresh, and the key (the mounted Secret, or null). */
  layer2?: { port: number; bindAddr: string | null; refreshMs: number; interfaces: string[]; key: Buffer | null };
}

export async function runKubernetesSpeaker(flags: KubernetesSpeakerFlags, opts: { forceExit?: boolean } = {}): Promise<number> {
  try {
    validateRateLimit({ qps: flags.kubeApiQps, burst: flags.kubeApiBurst });
  } catch (e) {
    return usage(errText(e));
  }
  const log = createLogger({ level: flags.logLevel }).with({ node: flags.nodeName });
  let client: KubeClient;
  try {
    client = createKubeClient({
      ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
      ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
      qps: flags.kubeApiQps,
      burst: flags.kubeApiBurst,
      userAgent: 'ingot-speaker',
    });
  } catch (e) {
    process.stderr.write(`error: ${e instanceof ClusterAccessError ? e.message : errText(e)}\n`);
    return 1;
  }
  const metrics = new SpeakerMetrics({ defaultMetrics: true });
  const k8sMetrics = new K8sClientMetrics({ registry: metrics.registry });
  // The speaker's own metallb_k8s_client_config_{loaded,stale}_bool (SpeakerMetrics).
  const configMetrics = metrics;
  const speaker = new BgpSpeaker({ nodeName: flags.nodeName, listen: flags.listen, metrics, logger: log });
  const events = new EventRecorder({ api: client.api, component: 'ingot-speaker', host: flags.nodeName, logger: log });
  // Layer 2: members are the cluster's Nodes (InternalIP of the liveness socket's family), learnt from the Node
  // informer; the key is the Secret ingot-memberlist the DaemonSet mounts (--ml-secret-key-file). Without a
  // key, layer2 Services get reason layer2Unavailable and BGP runs as usual.
  const l2o = flags.layer2;
  const bindAddress = l2o?.bindAddr ?? '0.0.0.0';
  const family: 4 | 6 = bindAddress.includes(':') ? 6 : 4;
  let l2: Layer2Handle;
  if (l2o === undefined || l2o.key === null) {
    l2 = new Layer2Unavailable(flags.nodeName, 'Layer 2 is off: no --ml-secret-key-file was given (the manifest mounts the Secret ingot-memberlist there)');
  } else {
    // Loaded only when Layer 2 is configured (frames, raw sockets, the liveness worker).
    const { createLayer2Announcer } = await import('../l2/create.js');
    const created = await createLayer2Announcer({
      nodeName: flags.nodeName,
      members: [],
      key: l2o.key,
      bindAddress,
      port: l2o.port,
      interfaces: l2o.interfaces,
      refreshMs: l2o.refreshMs,
      registry: metrics.registry,
      logger: log,
      onConflict: (e: Layer2ConflictEvent) => {
        // The split-brain guard's finding, where an operator looks: a Warning on every Service of the IP.
        for (const key of e.services) {
          const [namespace, name] = key.split('/');
          const ref = { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name } };
          void events.record(ref as never, 'Warning', 'Layer2Conflict', e.message).catch(() => undefined);
        }
      },
    });
    l2 = created.announcer;
  }
  let members = '';
  const source = new KubernetesSource({
    nodeName: flags.nodeName,
    agent: (observer) => new NodeAgent({ nodeName: flags.nodeName, announcers: [new BgpAnnouncer(speaker), l2], metrics, logger: log, observer }),
    onNodes: (nodes) => {
      const r = membersFromNodes(nodes, family);
      const next = JSON.stringify(r.members);
      if (next === members) return;
      members = next;
      if (r.skipped.length > 0) log.warn('layer2NodesWithoutAddress', { nodes: r.skipped, family: `IPv${family}`, effect: 'not liveness members' });
      log.info('layer2MembersChanged', { members: r.members.map((m) => m.name) });
      l2.setMembers(r.members);
    },
    api: client.api,
    informers: { rest: client.rest, clock: systemClock({ unref: true }), logger: log, metrics: k8sMetrics },
    namespace: client.namespace,
    configMap: flags.configMap,
    lbClass: flags.lbClass ?? null,
    events,
    configMetrics,
    logger: log,
  });
  const agent = source.agent;
  let stopping = false;
  let listening = false;
  const server = createMetricsServer({
    source: metrics,
    status: () => ({ ...speaker.status(), announcements: agent.announcements(), layer2: l2.status(), kubernetes: source.status(), memory: process.memoryUsage(), staleFiles: Object.fromEntries(source.stale) }),
    ready: () => listening && !stopping && source.ready(),
    publicStatus: flags.publicStatus === true,
  });

  const { done, cleanup } = speakerSignals({
    log,
    nodeName: flags.nodeName,
    forceExit: opts.forceExit === true,
    onHup: () => source.reload('SIGHUP'),
    stopAnnouncing: async () => {
      await l2.stop();
      await speaker.stop({ message: `ingot speaker on node ${flags.nodeName}: internal error, restarting`, timeoutMs: FATAL_STOP_TIMEOUT_MS });
    },
    onFatal: () => {
      stopping = true;
      source.close();
    },
  });

  try {
    await listenHttp(server, flags.metricsAddr);
  } catch (e) {
    cleanup();
    await client.close();
    return usage(`--metrics-addr ${flags.metricsAddrText}: ${errText(e)}`);
  }
  const ma = server.address() as AddressInfo;
  log.info('metricsListening', { address: ma.address, port: ma.port });
  log.info('kubernetesMode', { server: client.access.server, namespace: client.namespace, configMap: flags.configMap, lbClass: flags.lbClass ?? null, qps: flags.kubeApiQps, burst: flags.kubeApiBurst });

  // The informers' first full state first, the listener second (as in standalone mode: the listener is created
  // with the peers' TCP-MD5 keys already set). A SIGTERM while waiting for the API server still exits cleanly.
  const first = await Promise.race([source.start().then(() => null), done]);
  let sig: string;
  if (first !== null) {
    sig = first;
  } else {
    try {
      await speaker.start();
    } catch (e) {
      cleanup();
      source.close();
      await l2.stop().catch(() => undefined);
      await speaker.stop({ timeoutMs: 1000 });
      server.close();
      await client.close();
      return usage(`--bgp-listen ${flags.bgpListenText}: ${errText(e)}`);
    }
    listening = true;
    log.info('ready', { peers: speaker.peerKeys() });
    sig = await done;
  }
  stopping = true;
  log.info('shutdown', { signal: sig });
  source.close();
  // Layer 2 first: its leave message lets the other speakers take the IPs over at once.
  await l2.stop().catch((e: unknown) => log.error('shutdownError', { error: e }));
  await shutdownSpeaker(speaker, flags.nodeName, sig, log);
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await client.close().catch(() => undefined);
  cleanup();
  log.info('exited', { code: 0 });
  if (opts.forceExit === true) setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}

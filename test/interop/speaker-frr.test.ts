// One `ingot speaker` (bin/ingot, standalone mode) peering over eBGP with a real FRR bgpd: the Service's /32
// reaches FRR with the export policy's attributes, editing the cluster file withdraws it, and SIGTERM ends
// the session with Cease / Administrative Shutdown and its RFC 9003 message, then exits 0.
//
//   igsp-frr  10.98.0.1/24  AS 65001 (FRR, passive: the speaker dials)
//   igsp-node 10.98.0.2/24  AS 64512 (ingot speaker, node "n1"; also listening on 10.98.0.2:179)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { interopSkip } from '../helpers/interop.js';
import { NetnsLab, waitFor } from '../../src/lab/netns.js';
import { startFrr } from '../helpers/frr.js';
import { SpeakerProcess, buildIngot } from './support/speaker/process.js';

const PATHSPACE = 'igsp';

function vtysh(cmd: string): string {
  return execFileSync('vtysh', ['-N', PATHSPACE, '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
}
function vtyJson<T = Record<string, unknown>>(cmd: string): T {
  return JSON.parse(vtysh(cmd)) as T;
}

interface FrrPath {
  valid?: boolean;
  bestpath?: { overall?: boolean };
  origin?: string;
  aspath?: { string: string };
  community?: { string: string };
  nexthops?: Array<{ ip: string }>;
}

function paths(prefix: string): FrrPath[] {
  return vtyJson<{ paths?: FrrPath[] }>(`show bgp ipv4 unicast ${prefix} json`).paths ?? [];
}

function neighbor(): Record<string, unknown> | undefined {
  return vtyJson<Record<string, Record<string, unknown>>>('show bgp neighbors 10.98.0.2 json')['10.98.0.2'];
}

const CONFIG = `
peers:
- peer-address: 10.98.0.1
  peer-asn: 65001
  my-asn: 64512
  hold-time: 30s
address-pools:
- name: vips
  protocol: bgp
  addresses: [198.51.100.0/24]
  bgp-advertisements:
  - aggregation-length: 32
    communities: ["64512:100"]
`;

const NODE = `
- apiVersion: v1
  kind: Node
  metadata: {name: n1, labels: {kubernetes.io/hostname: n1}}
`;

const WEB = `
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
  spec: {type: LoadBalancer, externalTrafficPolicy: Cluster, ports: [{port: 80}]}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  endpoints: [{addresses: [10.244.0.5], nodeName: n1, conditions: {ready: true}}]
`;

const cluster = (...parts: string[]) => `apiVersion: v1\nkind: List\nitems:${parts.join('')}`;

describe('ingot speaker ↔ FRR bgpd', { skip: interopSkip({ binaries: ['/usr/lib/frr/bgpd', '/usr/lib/frr/zebra', '/usr/bin/vtysh', 'curl'] }) }, () => {
  const lab = new NetnsLab('igsp');
  let sp: SpeakerProcess;

  before(async () => {
    buildIngot();
    lab.pair('frr', 'node', { a: { v4: '10.98.0.1/24' }, b: { v4: '10.98.0.2/24' } });
    lab.exec('node', 'ip', ['link', 'set', 'lo', 'up']);
    await startFrr(
      lab,
      'frr',
      PATHSPACE,
    [
      'hostname igsp-frr',
      'router bgp 65001',
      ' bgp router-id 10.98.0.1',
      ' no bgp ebgp-requires-policy',
      ' neighbor 10.98.0.2 remote-as 64512',
      ' neighbor 10.98.0.2 passive',
      '',
    ].join('\n'),
      '65001',
    );

    sp = SpeakerProcess.start(lab, 'node', {
      nodeName: 'n1',
      config: CONFIG,
      cluster: cluster(NODE, WEB),
      listen: '10.98.0.2:179',
      metricsAddr: '10.98.0.2:7472',
    });
    await sp.waitFor('ready');
  });

  after(async () => {
    await lab.teardown();
  });

  it('is ready once the files are applied, and the session comes up', async () => {
    assert.equal(sp.http('/readyz').status, 200);
    await sp.waitFor('sessionUp');
    await waitFor('FRR Established', () => neighbor()?.bgpState === 'Established');
  });

  it("the Service's /32 appears at FRR with ORIGIN IGP, AS_PATH 64512, NEXT_HOP 10.98.0.2 and the community", async () => {
    // Wait for what is asserted: the path shows before bgpd has validated its next hop and chosen it best.
    const [p, ...more] = await waitFor('198.51.100.0/32 at FRR, valid and best', () => {
      const ps = paths('198.51.100.0/32');
      return ps.length > 0 && ps.every((x) => x.valid) && ps.some((x) => x.bestpath?.overall) ? ps : undefined;
    });
    assert.equal(more.length, 0);
    assert.ok(p?.valid);
    assert.ok(p?.bestpath?.overall);
    assert.equal(p?.origin, 'IGP');
    assert.equal(p?.aspath?.string, '64512');
    assert.equal(p?.nexthops?.[0]?.ip, '10.98.0.2');
    assert.equal(p?.community?.string, '64512:100');

    const st = sp.status<{ sessions: Array<{ state: string; prefixes: { sent: number }; negotiated: { holdTime: number } | null }>; announcements: Array<{ service: string; peers: string[]; reason: string | null }> }>();
    assert.equal(st.sessions[0]?.state, 'Established');
    assert.equal(st.sessions[0]?.prefixes.sent, 1);
    assert.equal(st.sessions[0]?.negotiated?.holdTime, 30);
    assert.deepEqual(st.announcements.map((a) => [a.service, a.peers, a.reason]), [['default/web', ['10.98.0.1:179'], null]]);
    const metrics = sp.http('/metrics').body;
    assert.match(metrics, /metallb_bgp_session_up\{peer="10\.98\.0\.1:179"\} 1/);
    assert.match(metrics, /metallb_speaker_announced\{service="default\/web",protocol="bgp",node="n1",ip="198\.51\.100\.0"\} 1/);
  });

  it('a bad cluster file is reported and the route stays; removing the Service withdraws it', async () => {
    const mark = sp.lines.length;
    sp.replaceFile('cluster', 'kind: [this is not\n');
    const stale = await sp.waitFor('configStale', () => true, 15_000, mark);
    assert.equal(stale.file, sp.clusterFile);
    assert.equal(typeof stale.error, 'string');
    assert.equal(paths('198.51.100.0/32').length, 1, 'last good state kept');

    sp.replaceFile('cluster', cluster(NODE));
    await sp.waitFor('serviceWithdrawn', (l) => l.service === 'default/web', 15_000, mark);
    await waitFor('198.51.100.0/32 withdrawn at FRR', () => paths('198.51.100.0/32').length === 0);
    assert.equal(neighbor()?.bgpState, 'Established', 'the session stays up');
    assert.doesNotMatch(sp.http('/metrics').body, /metallb_speaker_announced\{/);
  });

  it('SIGHUP re-reads the files: the Service comes back', async () => {
    // Written without a file event reaching the speaker first is not guaranteed; SIGHUP makes it certain.
    sp.replaceFile('cluster', cluster(NODE, WEB));
    sp.signal('SIGHUP');
    await waitFor('198.51.100.0/32 back at FRR', () => paths('198.51.100.0/32').length === 1);
  });

  it('graceful restart (RFC 4724): kill -9 and restart keeps the route at FRR the whole time', async () => {
    const grConfig = CONFIG.replace('  hold-time: 30s\n', '  hold-time: 30s\n  graceful-restart: true\n  graceful-restart-time: 60s\n');
    assert.notEqual(grConfig, CONFIG);
    sp.replaceFile('config', grConfig);
    sp.signal('SIGHUP');
    const grNegotiated = () => {
      const n = neighbor();
      const caps = n?.['neighborCapabilities'] as { gracefulRestart?: string } | undefined;
      return n?.['bgpState'] === 'Established' && /advertisedAndReceived|received/.test(caps?.gracefulRestart ?? '');
    };
    await waitFor('a session with graceful restart negotiated', grNegotiated);
    await waitFor('the route on the new session', () => paths('198.51.100.0/32').length === 1);

    // Sample FRR's table continuously from the kill until the restarted speaker's End-of-RIB cleared staleness.
    let samples = 0;
    let missing = 0;
    let sawStale = false;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ps = vtyJson<{ paths?: Array<Record<string, unknown>> }>('show bgp ipv4 unicast 198.51.100.0/32 json').paths ?? [];
        samples++;
        if (ps.length === 0) missing++;
        if (ps.some((x) => x['stale'] === true)) sawStale = true;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const dir = sp.configFile.slice(0, sp.configFile.lastIndexOf('/'));
    sp.signal('SIGKILL');
    await sp.exited();
    await waitFor('FRR to notice the session is gone', () => neighbor()?.['bgpState'] !== 'Established');
    await waitFor('FRR to hold the route as stale', () => sawStale, { timeoutMs: 10_000 });
    sp = SpeakerProcess.start(lab, 'node', { nodeName: 'n1', config: grConfig, cluster: cluster(NODE, WEB), listen: '10.98.0.2:179', metricsAddr: '10.98.0.2:7472', dir });
    await sp.waitFor('ready');
    await waitFor('the restarted session with graceful restart', grNegotiated);
    await waitFor('the route fresh again (End-of-RIB ended the stale period)', () => {
      const ps = vtyJson<{ paths?: Array<Record<string, unknown>> }>('show bgp ipv4 unicast 198.51.100.0/32 json').paths ?? [];
      return ps.length === 1 && ps[0]!['stale'] !== true;
    });
    sampling = false;
    await sampler;
    assert.ok(samples > 5, `sampled ${samples} times`);
    assert.equal(missing, 0, `the route was missing in ${missing} of ${samples} samples`);
  });

  it('SIGTERM: FRR sees Cease / Administrative Shutdown with the shutdown message; exit code 0', async () => {
    sp.signal('SIGTERM');
    assert.equal(await sp.exited(), 0);
    const n = await waitFor('FRR to record the NOTIFICATION', () => {
      const p = neighbor();
      return p && p.bgpState !== 'Established' ? p : undefined;
    });
    const text = JSON.stringify(n);
    if (process.env.IGSP_DEBUG) process.stderr.write(`${text}\n`);
    // FRR 8.4's names for what it last received and why the session was reset.
    assert.equal(n.lastNotificationReason, 'Cease/Administrative Shutdown', text.slice(0, 2000));
    assert.equal(n.lastErrorCodeSubcode, '0602');
    assert.equal(n.lastShutdownDescription, 'ingot speaker on node n1 shutting down (SIGTERM)');
    assert.equal(n.lastResetDueTo, 'BGP Notification received');
    await waitFor('198.51.100.0/32 gone from FRR', () => paths('198.51.100.0/32').length === 0);
    assert.ok(sp.events('exited').length === 1);
  });
});

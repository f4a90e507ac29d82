// NodeAgent: the protocol-neutral per-Service decision, with recording announcers. What is checked: the
// pool's protocol picks the announcer; an update re-decides only the Services it touches; the
// metallb_speaker_announced series are per Service × protocol; logs and /status follow the decision.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeAgent } from '../../../src/agent/agent.js';
import { LAYER2_UNAVAILABLE as LAYER2_REASON, Layer2Unavailable } from '../../../src/l2/create.js';
import type { Announcer, AnnouncementDetail, EndpointView, ServiceView } from '../../../src/agent/types.js';
import type { Pool, Protocol } from '../../../src/config/index.js';
import { createLogger } from '../../../src/log.js';
import { SpeakerMetrics } from '../../../src/metrics/registry.js';
import { ok } from '../config/helpers.js';
import { captureLog } from '../speaker/harness.js';

const CONFIG = `
address-pools:
- {name: b, protocol: bgp, addresses: [10.1.0.0/24]}
- {name: l, protocol: layer2, addresses: [10.2.0.0/24]}
`;

/** Records every call; announces when a ready endpoint exists. */
class Recorder implements Announcer {
  readonly calls: string[] = [];
  decisions = 0;
  private invalidate: (() => void) | undefined;
  constructor(readonly protocol: Protocol) {}
  setConfig(): void {
    this.calls.push('setConfig');
  }
  setNode(): void {
    this.calls.push('setNode');
  }
  shouldAnnounce(_svc: ServiceView, endpoints: readonly EndpointView[]): string | null {
    this.decisions++;
    return endpoints.some((e) => e.ready) ? null : 'noEndpoints';
  }
  setBalancer(key: string, ips: readonly string[], pool: Pool): void {
    this.calls.push(`set ${key} ${ips.join(',')} ${pool.name}`);
  }
  deleteBalancer(key: string): void {
    this.calls.push(`delete ${key}`);
  }
  onInvalidate(cb: () => void): void {
    this.invalidate = cb;
  }
  fireInvalidate(): void {
    this.invalidate?.();
  }
  synced(): void {
    this.calls.push('synced');
  }
  detail(key: string): AnnouncementDetail {
    return { prefixes: [`${key}-prefix`], peers: [] };
  }
  status(): unknown {
    return null;
  }
  async stop(): Promise<void> {}
}

const view = (key: string, ips: string[], type = 'LoadBalancer'): ServiceView => ({ key, type, ips, externalTrafficPolicy: 'Cluster' });
const READY: EndpointView[] = [{ nodeName: 'n1', ready: true }];

function setup() {
  const bgp = new Recorder('bgp');
  const l2 = new Recorder('layer2');
  const metrics = new SpeakerMetrics();
  const log = captureLog();
  const agent = new NodeAgent({ nodeName: 'n1', announcers: [bgp, l2], metrics, logger: createLogger({ level: 'debug', write: log.write }) });
  agent.setConfig(ok(CONFIG));
  return { agent, bgp, l2, metrics, log };
}

const series = async (m: SpeakerMetrics) => (await m.metrics()).split('\n').filter((l) => l.startsWith('metallb_speaker_announced{'));

describe('NodeAgent', () => {
  it('the pool protocol picks the announcer; series, logs and status follow', async () => {
    const { agent, bgp, l2, metrics, log } = setup();
    agent.setEndpoints('ns/a', READY);
    agent.upsertService(view('ns/a', ['10.1.0.1']));
    agent.setEndpoints('ns/b', READY);
    agent.upsertService(view('ns/b', ['10.2.0.1']));
    agent.upsertService(view('ns/c', []));
    assert.deepEqual(bgp.calls.slice(1), ['set ns/a 10.1.0.1 b']);
    assert.deepEqual(l2.calls.slice(1), ['set ns/b 10.2.0.1 l']);
    assert.deepEqual(await series(metrics), [
      'metallb_speaker_announced{service="ns/a",protocol="bgp",node="n1",ip="10.1.0.1"} 1',
      'metallb_speaker_announced{service="ns/b",protocol="layer2",node="n1",ip="10.2.0.1"} 1',
    ]);
    assert.deepEqual(
      agent.announcements().map((a) => [a.service, a.protocol, a.reason, a.prefixes]),
      [
        ['ns/a', 'bgp', null, ['ns/a-prefix']],
        ['ns/b', 'layer2', null, ['ns/b-prefix']],
        ['ns/c', null, 'noIPAllocated', []],
      ],
    );
    assert.deepEqual(log.lines.filter((l) => l['event'] === 'serviceAnnounced').map((l) => [l['service'], l['protocol']]), [
      ['ns/a', 'bgp'],
      ['ns/b', 'layer2'],
    ]);
    // Withdrawing one protocol's Service leaves the other protocol's series alone.
    agent.setEndpoints('ns/b', []);
    assert.deepEqual(l2.calls.at(-1), 'delete ns/b');
    assert.deepEqual(await series(metrics), ['metallb_speaker_announced{service="ns/a",protocol="bgp",node="n1",ip="10.1.0.1"} 1']);
    const w = log.lines.find((l) => l['event'] === 'serviceWithdrawn' && l['service'] === 'ns/b');
    assert.equal(w?.['reason'], 'noEndpoints');
    assert.equal(w?.['level'], 'info');
    agent.deleteService('ns/a');
    assert.deepEqual(bgp.calls.at(-1), 'delete ns/a');
    assert.equal(log.lines.at(-1)?.['reason'], 'serviceDeleted');
    assert.deepEqual(await series(metrics), []);
  });

  it('is incremental: an endpoint or Service event re-decides that Service only; config and node re-decide all', () => {
    const { agent, bgp } = setup();
    agent.batch(() => {
      for (let i = 0; i < 50; i++) {
        agent.setEndpoints(`ns/s${i}`, READY);
        agent.upsertService(view(`ns/s${i}`, [`10.1.0.${i}`]));
      }
    });
    assert.equal(bgp.decisions, 50, 'batch decides each Service once');
    agent.setEndpoints('ns/s7', []);
    assert.equal(bgp.decisions, 51);
    assert.equal(bgp.calls.at(-1), 'delete ns/s7');
    agent.upsertService(view('ns/s8', ['10.1.0.200']));
    assert.equal(bgp.decisions, 52);
    assert.equal(bgp.calls.at(-1), 'set ns/s8 10.1.0.200 b');
    agent.setEndpoints('ns/unknown', READY);
    assert.equal(bgp.decisions, 52, 'endpoints of an unknown Service are kept, nothing decided');
    agent.setNode({ name: 'n1', labels: { zone: 'a' } });
    assert.equal(bgp.decisions, 102);
    bgp.fireInvalidate();
    assert.equal(bgp.decisions, 152);
    // An unchanged re-decision calls the announcer again only when IPs or the pool changed.
    const before = bgp.calls.length;
    agent.setEndpoints('ns/s9', READY);
    assert.equal(bgp.calls.length, before);
  });

  it('a type change away from LoadBalancer withdraws with notLoadBalancer and leaves /status', () => {
    const { agent, bgp, log } = setup();
    agent.setEndpoints('ns/a', READY);
    agent.upsertService(view('ns/a', ['10.1.0.1']));
    agent.upsertService(view('ns/a', ['10.1.0.1'], 'ClusterIP'));
    assert.equal(bgp.calls.at(-1), 'delete ns/a');
    assert.equal(log.lines.at(-1)?.['reason'], 'notLoadBalancer');
    assert.deepEqual(agent.announcements(), []);
  });

  it('Layer2Unavailable: layer2 Services get layer2Unavailable after the shared checks, never noPeers', () => {
    const agent = new NodeAgent({ nodeName: 'n1', announcers: [new Recorder('bgp'), new Layer2Unavailable('n1', 'no key')] });
    agent.setConfig(ok(CONFIG));
    agent.upsertService(view('ns/l', ['10.2.0.1']));
    assert.equal(agent.announcements()[0]?.reason, 'noEndpoints');
    agent.setEndpoints('ns/l', READY);
    assert.equal(agent.announcements()[0]?.reason, LAYER2_REASON);
    agent.setNode({ name: 'n1', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } });
    assert.equal(agent.announcements()[0]?.reason, 'nodeExcluded');
  });

  it('a pool protocol without an announcer is a reason, not a crash; synced reaches every announcer', () => {
    const bgp = new Recorder('bgp');
    const agent = new NodeAgent({ nodeName: 'n1', announcers: [bgp] });
    agent.setConfig(ok(CONFIG));
    agent.setEndpoints('ns/l', READY);
    agent.upsertService(view('ns/l', ['10.2.0.1']));
    assert.equal(agent.announcements()[0]?.reason, 'layer2Unsupported');
    agent.synced();
    assert.equal(bgp.calls.at(-1), 'synced');
  });
});

describe('NodeAgent observer (Kubernetes mode posts nodeAssigned from it)', () => {
  it('announced when this node starts announcing (not on IP changes or re-decisions), withdrawn when it stops', () => {
    const bgp = new Recorder('bgp');
    const seen: string[] = [];
    const agent = new NodeAgent({
      nodeName: 'n1',
      announcers: [bgp],
      observer: { announced: (k, p) => seen.push(`announced ${k} ${p}`), withdrawn: (k, r) => seen.push(`withdrawn ${k} ${r}`) },
    });
    agent.setConfig(ok(CONFIG));
    agent.setEndpoints('ns/a', READY);
    agent.upsertService(view('ns/a', ['10.1.0.1']));
    assert.deepEqual(seen, ['announced ns/a bgp']);
    assert.equal(agent.isAnnounced('ns/a'), true);
    agent.upsertService(view('ns/a', ['10.1.0.2']));
    agent.setConfig(ok(CONFIG));
    bgp.fireInvalidate();
    assert.deepEqual(seen, ['announced ns/a bgp'], 'an IP change, a new config and an invalidation start nothing new');
    agent.setEndpoints('ns/a', []);
    agent.setEndpoints('ns/a', READY);
    agent.deleteService('ns/a');
    assert.deepEqual(seen, ['announced ns/a bgp', 'withdrawn ns/a noEndpoints', 'announced ns/a bgp', 'withdrawn ns/a serviceDeleted']);
    assert.equal(agent.isAnnounced('ns/a'), false);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeakerMetrics } from '../../../src/metrics/registry.js';

function lines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
}

test('a configured peer has all four BGP series at 0 before its session comes up', async () => {
  const m = new SpeakerMetrics();
  m.addPeer('192.0.2.1:179');
  const text = await m.metrics();
  assert.deepEqual(lines(text, 'metallb_bgp_session_up'), ['metallb_bgp_session_up{peer="192.0.2.1:179"} 0']);
  assert.deepEqual(lines(text, 'metallb_bgp_updates_total'), ['metallb_bgp_updates_total{peer="192.0.2.1:179"} 0']);
  assert.deepEqual(lines(text, 'metallb_bgp_announced_prefixes_total'), ['metallb_bgp_announced_prefixes_total{peer="192.0.2.1:179"} 0']);
  assert.deepEqual(lines(text, 'metallb_bgp_pending_prefixes_total'), ['metallb_bgp_pending_prefixes_total{peer="192.0.2.1:179"} 0']);
});

test('session state, updates and prefix counts are reported per peer', async () => {
  const m = new SpeakerMetrics();
  m.setSessionUp('192.0.2.1:179', true);
  m.addUpdatesSent('192.0.2.1:179', 3);
  m.addUpdatesSent('192.0.2.1:179', 2);
  m.setPrefixCounts('192.0.2.1:179', 100, 7);
  const text = await m.metrics();
  assert.deepEqual(lines(text, 'metallb_bgp_session_up'), ['metallb_bgp_session_up{peer="192.0.2.1:179"} 1']);
  assert.deepEqual(lines(text, 'metallb_bgp_updates_total'), ['metallb_bgp_updates_total{peer="192.0.2.1:179"} 5']);
  assert.deepEqual(lines(text, 'metallb_bgp_announced_prefixes_total'), ['metallb_bgp_announced_prefixes_total{peer="192.0.2.1:179"} 100']);
  assert.deepEqual(lines(text, 'metallb_bgp_pending_prefixes_total'), ['metallb_bgp_pending_prefixes_total{peer="192.0.2.1:179"} 7']);
});

test('a removed peer leaves no series behind (MetalLB leaves them stale)', async () => {
  const m = new SpeakerMetrics();
  m.setSessionUp('192.0.2.1:179', true);
  m.setSessionUp('192.0.2.2:179', false);
  m.removePeer('192.0.2.1:179');
  const text = await m.metrics();
  assert.doesNotMatch(text, /192\.0\.2\.1:179/);
  assert.deepEqual(lines(text, 'metallb_bgp_session_up'), ['metallb_bgp_session_up{peer="192.0.2.2:179"} 0']);
});

test('one Service × protocol at a time: new series appear, vanished ones are removed, others untouched', async () => {
  const m = new SpeakerMetrics();
  m.setServiceAnnounced('default/web', 'bgp', 'node-a', ['10.1.0.1']);
  m.setServiceAnnounced('default/db', 'layer2', 'node-a', ['10.2.0.1']);
  let text = await m.metrics();
  assert.equal(lines(text, 'metallb_speaker_announced').length, 2);
  assert.match(text, /metallb_speaker_announced\{service="default\/web",protocol="bgp",node="node-a",ip="10.1.0.1"\} 1/);
  m.setServiceAnnounced('default/web', 'bgp', 'node-a', []);
  text = await m.metrics();
  assert.deepEqual(lines(text, 'metallb_speaker_announced'), [
    'metallb_speaker_announced{service="default/db",protocol="layer2",node="node-a",ip="10.2.0.1"} 1',
  ]);
  // A second protocol for the same Service does not replace the first one's series.
  m.setServiceAnnounced('default/db', 'bgp', 'node-a', ['10.2.0.1', 'fd00::1']);
  m.setServiceAnnounced('default/db', 'bgp', 'node-a', ['fd00::1']);
  assert.equal(lines(await m.metrics(), 'metallb_speaker_announced').length, 2);
  m.deleteServiceAnnounced('default/db', 'layer2');
  m.deleteServiceAnnounced('default/db', 'bgp');
  assert.deepEqual(lines(await m.metrics(), 'metallb_speaker_announced'), []);
});

test('two instances do not share a registry (no duplicate-registration error)', () => {
  const a = new SpeakerMetrics();
  const b = new SpeakerMetrics();
  assert.notEqual(a.registry, b.registry);
});

test('layer2: MetalLB counters per ip exist at 0 once owned, count, and are removed when the IP goes', async () => {
  const { Layer2Metrics } = await import('../../../src/metrics/registry.js');
  const m = new Layer2Metrics();
  m.addIp('10.99.0.100');
  m.requestReceived('10.99.0.100');
  m.responseSent('10.99.0.100');
  m.gratuitousSent('fd00:99::100', 3);
  m.malformedFrame('nd-bad-hop-limit');
  let text = await m.metrics();
  assert.deepEqual(lines(text, 'metallb_layer2_requests_received'), ['metallb_layer2_requests_received{ip="10.99.0.100"} 1', 'metallb_layer2_requests_received{ip="fd00:99::100"} 0']);
  assert.deepEqual(lines(text, 'metallb_layer2_responses_sent'), ['metallb_layer2_responses_sent{ip="10.99.0.100"} 1', 'metallb_layer2_responses_sent{ip="fd00:99::100"} 0']);
  assert.deepEqual(lines(text, 'metallb_layer2_gratuitous_sent'), ['metallb_layer2_gratuitous_sent{ip="10.99.0.100"} 0', 'metallb_layer2_gratuitous_sent{ip="fd00:99::100"} 3']);
  assert.deepEqual(lines(text, 'ingot_layer2_malformed_frames_total'), ['ingot_layer2_malformed_frames_total{reason="nd-bad-hop-limit"} 1']);
  m.forgetIp('10.99.0.100');
  text = await m.metrics();
  assert.doesNotMatch(text, /10\.99\.0\.100/);
});

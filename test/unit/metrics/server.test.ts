import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SpeakerMetrics } from '../../../src/metrics/registry.js';
import { createMetricsServer } from '../../../src/metrics/server.js';

async function withServer(
  opts: Parameters<typeof createMetricsServer>[0],
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = createMetricsServer(opts);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test('serves /metrics, /healthz, /readyz and /status; 404 elsewhere', async () => {
  const metrics = new SpeakerMetrics();
  metrics.setSessionUp('192.0.2.1:179', true);
  let ready = false;
  await withServer(
    { source: metrics, ready: () => ready, status: () => ({ sessions: [{ peer: '192.0.2.1:179', state: 'Established' }] }) },
    async (base) => {
      const m = await fetch(`${base}/metrics`);
      assert.equal(m.status, 200);
      assert.match(m.headers.get('content-type') ?? '', /text\/plain/);
      assert.match(await m.text(), /metallb_bgp_session_up\{peer="192.0.2.1:179"\} 1/);

      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.equal((await fetch(`${base}/readyz`)).status, 503);
      ready = true;
      assert.equal((await fetch(`${base}/readyz`)).status, 200);

      const s = await fetch(`${base}/status`);
      assert.equal(s.status, 200);
      assert.deepEqual(await s.json(), { sessions: [{ peer: '192.0.2.1:179', state: 'Established' }] });

      assert.equal((await fetch(`${base}/nope`)).status, 404);
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    },
  );
});

// Issue 8 item 9 (exposure) and the process-level guard:
// - /status answers loopback clients only unless --public-status (403 with the reason otherwise); /metrics,
//   /healthz, /readyz answer everyone;
// - `config validate -o json` redacts passwords unless --show-secrets;
// - an error nothing caught makes the speaker log it, send Cease to its peers and exit 1.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SpeakerMetrics } from '../../../src/metrics/registry.js';
import { createMetricsServer, isLoopbackAddress } from '../../../src/metrics/server.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { INGOT_BIN, runIngot } from '../../helpers/cli.js';
import { TestPeer, until } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'igsp-expo-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Drives the server's request handler with a request from `remote` (no socket needed). */
function request(server: ReturnType<typeof createMetricsServer>, path: string, remote: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = Object.assign(new EventEmitter(), { url: path, method: 'GET', headers: {}, socket: { remoteAddress: remote } }) as unknown as IncomingMessage;
    let status = 0;
    const res = {
      set statusCode(c: number) {
        status = c;
      },
      get statusCode() {
        return status;
      },
      setHeader() {},
      end(body: string) {
        resolve({ status, body });
      },
    } as unknown as ServerResponse;
    server.emit('request', req, res);
  });
}

describe('/status exposure', () => {
  it('isLoopbackAddress', () => {
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopbackAddress(a), true, a);
    for (const a of ['10.0.0.1', '192.0.2.1', '::2', '2001:db8::1', '::ffff:10.0.0.1', 'fe80::1%eth0', '', undefined]) assert.equal(isLoopbackAddress(a), false, String(a));
  });

  it('a remote client gets 403 on /status but /metrics, /healthz and /readyz as before', async () => {
    const server = createMetricsServer({ source: new SpeakerMetrics(), status: () => ({ secret: 'paths' }), ready: () => true });
    const s = await request(server, '/status', '192.0.2.7');
    assert.equal(s.status, 403);
    assert.match(s.body, /loopback clients only.*--public-status/);
    assert.equal((await request(server, '/status', '127.0.0.1')).status, 200);
    assert.equal((await request(server, '/status', '::1')).status, 200);
    for (const p of ['/metrics', '/healthz', '/readyz']) assert.equal((await request(server, p, '192.0.2.7')).status, 200, p);
    const pub = createMetricsServer({ source: new SpeakerMetrics(), status: () => ({ ok: 1 }), publicStatus: true });
    const r = await request(pub, '/status', '192.0.2.7');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { ok: 1 });
  });

  it('the help text documents the default and --public-status', () => {
    const r = runIngot(['speaker', '--help']);
    assert.match(r.stdout, /--public-status/);
    assert.match(r.stdout, /\/status\s+to\s+loopback\s+clients/);
  });
});

describe('config validate -o json redacts passwords', () => {
  const f = join(dir, 'pw.yaml');
  writeFileSync(f, 'peers:\n- {peer-address: 10.0.0.1, peer-asn: 1, my-asn: 2, password: "s3cr3t-md5"}\n- {peer-address: 10.0.0.2, peer-asn: 1, my-asn: 2}\n');
  it('"<redacted>" by default; null stays null', () => {
    const r = runIngot(['config', 'validate', f, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /s3cr3t/);
    const j = JSON.parse(r.stdout) as { peers: { password: string | null }[] };
    assert.deepEqual(j.peers.map((p) => p.password), ['<redacted>', null]);
  });
  it('--show-secrets prints them', () => {
    const r = runIngot(['config', 'validate', f, '-o', 'json', '--show-secrets']);
    const j = JSON.parse(r.stdout) as { peers: { password: string | null }[] };
    assert.deepEqual(j.peers.map((p) => p.password), ['s3cr3t-md5', null]);
  });
});

describe('process level: an uncaught error', () => {
  it('is logged with context, peers get a Cease, and the process exits 1', async () => {
    const clock = new FakeClock();
    const peer = await TestPeer.listening('127.0.0.43', { localAs: 64512, peerAs: 64512 }, clock);
    try {
      const cfg = join(dir, 'fatal-config.yaml');
      const cl = join(dir, 'fatal-cluster.yaml');
      writeFileSync(cfg, `peers:\n- {peer-address: 127.0.0.43, peer-asn: 64512, my-asn: 64512, peer-port: ${peer.port}}\naddress-pools:\n- {name: p, protocol: bgp, addresses: [10.61.0.0/24]}\n`);
      writeFileSync(cl, 'apiVersion: v1\nkind: List\nitems: []\n');
      const preload = fileURLToPath(new URL('../../fixtures/process/throw-on-sigusr2.mjs', import.meta.url));
      const child = spawn(INGOT_BIN, ['speaker', '--node-name', 'n1', '--config', cfg, '--cluster', cl, '--metrics-addr', '127.0.0.1:0', '--bgp-listen', 'off'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${preload}` },
      });
      children.push(child);
      const lines: Record<string, unknown>[] = [];
      createInterface({ input: child.stderr! }).on('line', (l) => {
        try {
          lines.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          lines.push({ raw: l });
        }
      });
      let code: number | null | undefined;
      child.on('exit', (c) => (code = c));
      await until(() => peer.ups.length > 0 || code !== undefined, 'the session to come up', 60_000);
      assert.equal(peer.ups.length, 1, JSON.stringify(lines));
      child.kill('SIGUSR2');
      await until(() => code !== undefined, 'exit', 15_000);
      assert.equal(code, 1);
      const fatal = lines.find((l) => l['event'] === 'fatalError');
      assert.equal(fatal?.['kind'], 'uncaughtException');
      assert.match(JSON.stringify(fatal?.['error']), /injected failure/);
      await until(() => peer.downs.length > 0, 'the peer to see the session end');
      const n = peer.downs[0]!.notification;
      assert.equal(n?.code, 6, `Cease, got ${JSON.stringify(peer.downs[0])}`);
      assert.equal(n?.subcode, 2, 'Administrative Shutdown');
    } finally {
      await peer.close();
    }
  });
});

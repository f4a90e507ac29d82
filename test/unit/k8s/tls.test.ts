// HTTPS as a real cluster serves it: a kubeconfig with certificate-authority-data, a bearer token, and a client
// certificate, through a TLS front (node:https, certificates made with openssl) that forwards to the fake API
// server, which speaks plain HTTP. Checks that requests and watches verify the server against the CA, carry the
// credentials, and reuse one TLS connection pool (client-node 2.0.2 would build an Agent per request).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { after } from 'node:test';
import { createKubeClient } from '../../../src/k8s/index.js';
import { systemClock } from '../../../src/k8s/primitives.js';
import { startFakeApiServer, type FakeApiServer } from '../../helpers/fake-apiserver.js';
import { captureLogger, recordingMetrics, tmpDir, until } from './support.js';

interface Pki {
  ca: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
}

function makePki(dir: string): Pki {
  const f = (n: string): string => path.join(dir, n);
  const ossl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=ingot-test-ca');
  for (const [name, cn, ext] of [
    ['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'system:serviceaccount:ingot-system:controller', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    fs.writeFileSync(f(`${name}.ext`), `${ext}\n`);
    ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '2', '-extfile', f(`${name}.ext`));
  }
  const r = (n: string): string => fs.readFileSync(f(n), 'utf8');
  return { ca: r('ca.crt'), serverKey: r('server.key'), serverCert: r('server.crt'), clientKey: r('client.key'), clientCert: r('client.crt') };
}

interface Front {
  url: string;
  seen: Array<{ auth: string | undefined; clientCN: string | undefined; path: string }>;
  connections: number;
  close(): Promise<void>;
}

/** TLS in front of the fake server: records the Authorization header and the client certificate's CN. */
async function tlsFront(pki: Pki, backend: FakeApiServer): Promise<Front> {
  const front: Front = { url: '', seen: [], connections: 0, close: async () => undefined };
  const server = https.createServer({ key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
    front.seen.push({ auth: req.headers.authorization, clientCN: [peer?.subject?.CN].flat()[0], path: req.url ?? '' });
    const up = http.request(`${backend.url}${req.url ?? ''}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      res.flushHeaders();
      r.pipe(res);
    });
    req.pipe(up);
    res.on('close', () => up.destroy());
  });
  server.on('secureConnection', () => front.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  front.url = `https://127.0.0.1:${port}`;
  front.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return front;
}

describe('HTTPS with CA data, bearer token and client certificate', () => {
  const dir = tmpDir();
  const otherDir = tmpDir();
  let pki: Pki;
  before(() => {
    pki = makePki(dir);
  });

  it('requests and watches verify the server and carry the token and the client certificate over one pool', async () => {
    const backend = await startFakeApiServer();
    const front = await tlsFront(pki, backend);
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const kubeconfig = path.join(dir, 'tls.yaml');
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: c, cluster: {server: "${front.url}", certificate-authority-data: "${b64(pki.ca)}"}}]`,
        `users: [{name: u, user: {token: tls-token, client-certificate-data: "${b64(pki.clientCert)}", client-key-data: "${b64(pki.clientKey)}"}}]`,
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
        '',
      ].join('\n'),
    );
    const client = createKubeClient({ kubeconfig, env: {}, qps: 1000, burst: 1000 });
    after(async () => {
      await client.close();
      await front.close();
      await backend.close();
    });
    backend.seed('/api/v1/namespaces/default/services', { metadata: { name: 'a' } });
    for (let i = 0; i < 5; i++) assert.equal((await client.api.getService('default', 'a'))?.metadata?.name, 'a');
    const inf = client.api.servicesInformer({ rest: client.rest, clock: systemClock(), logger: captureLogger().logger, metrics: recordingMetrics() });
    inf.start();
    await inf.waitForSync();
    await backend.waitForWatches(1, '/api/v1/services');
    backend.seed('/api/v1/namespaces/default/services', { metadata: { name: 'b' } });
    await until(() => inf.get('default/b') !== undefined, 'watch event over TLS');
    inf.stop();
    assert.ok(front.seen.length >= 7);
    for (const s of front.seen) {
      assert.equal(s.auth, 'Bearer tls-token', s.path);
      assert.equal(s.clientCN, 'system:serviceaccount:ingot-system:controller', s.path);
    }
    assert.ok(front.connections <= 2, `${front.connections} TLS connections for ${front.seen.length} requests (one pool, keep-alive)`);
  });

  it('a server certificate not signed by the kubeconfig CA is refused', async () => {
    const backend = await startFakeApiServer();
    const front = await tlsFront(pki, backend);
    const other = makePki(otherDir);
    const kubeconfig = path.join(dir, 'wrong-ca.yaml');
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: c, cluster: {server: "${front.url}", certificate-authority-data: "${Buffer.from(other.ca).toString('base64')}"}}]`,
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
        '',
      ].join('\n'),
    );
    const client = createKubeClient({ kubeconfig, env: {} });
    after(async () => {
      await client.close();
      await front.close();
      await backend.close();
    });
    await assert.rejects(client.api.getService('default', 'a'), (e: unknown) => {
      assert.match(String((e as Error).message), /NetworkError|certificate|fetch failed/i);
      return true;
    });
    assert.equal(front.seen.length, 0, 'no request got through');
  });
});

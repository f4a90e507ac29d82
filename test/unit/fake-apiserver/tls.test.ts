// HTTPS mode from Node's side (what client-node does with a kubeconfig's CA data): the server's certificate
// verifies against `caPem` for 127.0.0.1 and fails without it; the bearer token selects the user.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import { fakeServers } from './client.js';

const server = fakeServers();

function get(url: string, options: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...options, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

describe('HTTPS with a generated CA', () => {
  it('verifies against caPem, refuses an unknown CA, and authenticates the bearer token', async () => {
    const s = await server({ tls: true, rbac: true });
    const ca = s.caPem ?? '';
    assert.match(ca, /^-----BEGIN CERTIFICATE-----/);
    const v = await get(`${s.url}/version`, { ca, headers: { authorization: `Bearer ${s.adminToken}` } });
    assert.equal(v.status, 200);
    assert.equal((JSON.parse(v.body) as { gitVersion: string }).gitVersion, 'v1.32.0-fake');
    await assert.rejects(get(`${s.url}/version`, {}), /self[- ]signed|unable to (get|verify)/i);
    assert.equal((await get(`${s.url}/api/v1/services`, { ca })).status, 401);
    assert.equal((await get(`${s.url}/api/v1/services`, { ca, headers: { authorization: `Bearer ${s.serviceAccountToken('x', 'y')}` } })).status, 403);
    assert.equal(s.audit.at(-1)?.user, 'system:serviceaccount:x:y');
    const kc = s.kubeconfig('x', s.serviceAccountToken('x', 'y'));
    assert.deepEqual(kc.clusters, [{ name: 'fake', server: s.url, skipTLSVerify: false, caData: Buffer.from(ca).toString('base64') }]);
    assert.deepEqual(kc.users, [{ name: 'fake', token: s.serviceAccountToken('x', 'y') }]);
  });

  it('shares one CA across servers in a process', async () => {
    const [a, b] = await Promise.all([server({ tls: true }), server({ tls: true })]);
    assert.equal(a.caPem, b.caPem);
    assert.notEqual(a.port, b.port);
  });
});

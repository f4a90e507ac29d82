// Cluster access: --kubeconfig, $KUBECONFIG (merged, first wins), in-cluster files; the namespace default; and
// the precise startup errors. Nothing here talks to a server (startup does no network I/O, not even DNS).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadClusterAccess, type ClusterAccess, resolveNamespace, DEFAULT_NAMESPACE, type InClusterPaths } from '../../../src/k8s/config.js';
import { tmpDir, writeKubeconfig } from './support.js';

function inClusterFiles(dir: string, token = 'sa-token\n', ns?: string): InClusterPaths {
  const p = { tokenFile: path.join(dir, 'token'), caFile: path.join(dir, 'ca.crt'), namespaceFile: path.join(dir, 'namespace') };
  fs.writeFileSync(p.tokenFile, token);
  fs.writeFileSync(p.caFile, 'not a real CA, never used for a connection here\n');
  if (ns !== undefined) fs.writeFileSync(p.namespaceFile, ns);
  return p;
}

const NO_SA: InClusterPaths = { tokenFile: '/nonexistent/token', caFile: '/nonexistent/ca.crt', namespaceFile: '/nonexistent/namespace' };

async function authHeader(a: ClusterAccess): Promise<string | undefined> {
  return (await a.headers()).Authorization;
}

describe('loadClusterAccess', () => {
  it('--kubeconfig FILE wins over $KUBECONFIG and in-cluster; namespace defaults to ingot-system', () => {
    const dir = tmpDir();
    const flag = writeKubeconfig(dir, 'http://127.0.0.1:1', { name: 'flag' });
    const envFile = writeKubeconfig(dir, 'http://127.0.0.1:2', { name: 'env' });
    const a = loadClusterAccess({ kubeconfig: flag, env: { KUBECONFIG: envFile, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, inCluster: NO_SA });
    assert.equal(a.server, 'http://127.0.0.1:1');
    assert.equal(a.source.kind, 'flag');
    assert.equal(a.namespace, DEFAULT_NAMESPACE);
    assert.equal(DEFAULT_NAMESPACE, 'ingot-system');
  });

  it('$KUBECONFIG: several files merged, the first current-context and the first definition of a name win', async () => {
    const dir = tmpDir();
    const first = writeKubeconfig(dir, 'http://127.0.0.1:11', { name: 'one', token: 'first' });
    const second = writeKubeconfig(dir, 'http://127.0.0.1:22', { name: 'two', token: 'second' });
    const a = loadClusterAccess({ env: { KUBECONFIG: `${first}${path.delimiter}${second}` }, inCluster: NO_SA });
    assert.equal(a.server, 'http://127.0.0.1:11');
    assert.equal(a.source.kind, 'env');
    assert.deepEqual(a.source.files, [first, second]);
    assert.equal(await authHeader(a), 'Bearer first');
  });

  it('--namespace wins; else the service account namespace file (trimmed); the kubeconfig context namespace is not used (cli.md)', () => {
    const dir = tmpDir();
    const file = writeKubeconfig(dir, 'http://127.0.0.1:1', { namespace: 'from-context' });
    const sa = inClusterFiles(dir, 'x', 'metallb-system\n');
    assert.equal(loadClusterAccess({ kubeconfig: file, namespace: 'flagged', env: {}, inCluster: sa }).namespace, 'flagged');
    assert.equal(loadClusterAccess({ kubeconfig: file, env: {}, inCluster: sa }).namespace, 'metallb-system');
    assert.equal(loadClusterAccess({ kubeconfig: file, env: {}, inCluster: NO_SA }).namespace, 'ingot-system');
    fs.writeFileSync(sa.namespaceFile, '  \n');
    assert.equal(resolveNamespace(undefined, sa.namespaceFile), 'ingot-system', 'an empty file counts as none');
  });

  it('in-cluster: https to KUBERNETES_SERVICE_HOST:PORT (IPv6 bracketed), CA file, trimmed bearer token from the token file', async () => {
    const dir = tmpDir();
    const sa = inClusterFiles(dir, 'sa-token\n', 'ingot-system');
    const a = loadClusterAccess({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, inCluster: sa });
    assert.equal(a.server, 'https://10.96.0.1:443');
    assert.equal(a.source.kind, 'in-cluster');
    assert.equal(a.tls.ca, fs.readFileSync(sa.caFile, 'utf8'));
    assert.equal(a.tls.rejectUnauthorized, true);
    assert.equal(await authHeader(a), 'Bearer sa-token');
    const v6 = loadClusterAccess({ env: { KUBERNETES_SERVICE_HOST: 'fd00:10:96::1', KUBERNETES_SERVICE_PORT: '6443' }, inCluster: sa });
    assert.equal(v6.server, 'https://[fd00:10:96::1]:6443');
  });

  it('kubeconfig bearer token and client certificate / CA data are what client-node applies', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'kc.yaml');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://192.0.2.10:6443", certificate-authority-data: "Y2E="}}]',
        'users: [{name: u, user: {token: tok-123}}, {name: cert, user: {client-certificate-data: "Y2VydA==", client-key-data: "a2V5"}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}, {name: y, context: {cluster: c, user: cert}}]',
        'current-context: x',
        '',
      ].join('\n'),
    );
    const a = loadClusterAccess({ kubeconfig: file, env: {}, inCluster: NO_SA });
    assert.equal(a.server, 'https://192.0.2.10:6443');
    assert.equal(a.tls.ca, 'ca');
    assert.equal(a.tls.rejectUnauthorized, true);
    assert.equal(a.tls.cert, undefined);
    assert.equal(await authHeader(a), 'Bearer tok-123');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('current-context: x', 'current-context: y'));
    const y = loadClusterAccess({ kubeconfig: file, env: {}, inCluster: NO_SA });
    assert.equal(y.tls.cert, 'cert');
    assert.equal(y.tls.key, 'key');
    assert.equal(await authHeader(y), undefined);
  });

  it('precise errors: plain http without insecure-skip-tls-verify, missing file, undefined context, no access at all', () => {
    const dir = tmpDir();
    const plain = writeKubeconfig(dir, 'http://127.0.0.1:8080', { skipTLSVerify: false });
    assert.throws(() => loadClusterAccess({ kubeconfig: plain, env: {}, inCluster: NO_SA }), /cluster "fake": plain http server http:\/\/127\.0\.0\.1:8080 needs insecure-skip-tls-verify: true/);
    assert.throws(() => loadClusterAccess({ kubeconfig: path.join(dir, 'missing.yaml'), env: {}, inCluster: NO_SA }), /--kubeconfig: cannot load .*missing\.yaml/);
    const badCtx = path.join(dir, 'badctx.yaml');
    fs.writeFileSync(badCtx, fs.readFileSync(writeKubeconfig(dir, 'http://127.0.0.1:1', { name: 'x' }), 'utf8').replace('current-context: fake', 'current-context: nope'));
    assert.throws(() => loadClusterAccess({ kubeconfig: badCtx, env: {}, inCluster: NO_SA }), /current-context "nope" is not defined/);
    assert.throws(() => loadClusterAccess({ env: {}, inCluster: NO_SA }), /no cluster access: give --kubeconfig FILE or set \$KUBECONFIG/);
    assert.throws(
      () => loadClusterAccess({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, inCluster: NO_SA }),
      /in-cluster config: service account token \/nonexistent\/token is not readable/,
    );
  });
});

describe('credentials that change', () => {
  it('an exec credential plugin runs in the resolver; after a 401 the next request carries its new token (at most one run per 10 s)', async () => {
    const dir = tmpDir();
    const counter = path.join(dir, 'runs');
    const plugin = path.join(dir, 'plugin.sh');
    // Each run prints a new token: run 1 → tok-1, run 2 → tok-2.
    fs.writeFileSync(
      plugin,
      `#!/bin/sh\nn=$(( $(cat ${counter} 2>/dev/null || echo 0) + 1 ))\necho $n > ${counter}\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-%s"}}' $n\n`,
      { mode: 0o755 },
    );
    const file = path.join(dir, 'kc.yaml');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://192.0.2.10:6443", insecure-skip-tls-verify: true}}]',
        `users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, interactiveMode: Never}}}]`,
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
        '',
      ].join('\n'),
    );
    const a = loadClusterAccess({ kubeconfig: file, env: {}, inCluster: NO_SA });
    assert.equal(a.tls.rejectUnauthorized, false);
    assert.equal(await authHeader(a), 'Bearer tok-1');
    assert.equal(await authHeader(a), 'Bearer tok-1', 'no 401: the resolved token is kept');
    a.unauthorized();
    assert.equal(await authHeader(a), 'Bearer tok-1', 'a 401 within 10 s of the last run does not run the plugin again');
    assert.equal(fs.readFileSync(counter, 'utf8').trim(), '1');
    const b = loadClusterAccess({ kubeconfig: file, env: {}, inCluster: NO_SA, refreshMinIntervalMs: 0 });
    assert.equal(await authHeader(b), 'Bearer tok-2');
    b.unauthorized();
    assert.equal(await authHeader(b), 'Bearer tok-3', 'after a 401 the plugin runs again');
    assert.equal(await authHeader(b), 'Bearer tok-3');
  });

  it('in-cluster: a 401 makes the rotated token file be read again at once', async () => {
    const dir = tmpDir();
    const sa = inClusterFiles(dir, 'old-token\n');
    const a = loadClusterAccess({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, inCluster: sa });
    assert.equal(await authHeader(a), 'Bearer old-token');
    fs.writeFileSync(sa.tokenFile, 'new-token\n');
    assert.equal(await authHeader(a), 'Bearer old-token', 'within the minute the cached token is used');
    a.unauthorized();
    assert.equal(await authHeader(a), 'Bearer new-token');
  });

  it('a kubeconfig with proxy-url is refused by name (requests go to the API server directly)', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'kc.yaml');
    fs.writeFileSync(file, fs.readFileSync(writeKubeconfig(dir, 'https://192.0.2.10:6443'), 'utf8').replace('    server:', '    proxy-url: http://192.0.2.99:3128\n    server:'));
    assert.throws(() => loadClusterAccess({ kubeconfig: file, env: {}, inCluster: NO_SA }), /cluster "fake": proxy-url http:\/\/192\.0\.2\.99:3128 is not supported/);
  });
});

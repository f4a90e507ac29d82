// A throwaway certificate authority and a server certificate for 127.0.0.1, made with the openssl CLI at test
// time (Node's crypto can make keys but not X.509 certificates). EC P-256 keys keep it to a few tens of ms; the
// result is cached per process, so every fake API server in a test file shares one CA.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  /** PEM of the CA certificate: what a kubeconfig's `certificate-authority-data` carries (base64 of it). */
  caPem: string;
  /** PEM of the server's certificate (SAN IP:127.0.0.1, DNS:localhost) and its private key. */
  certPem: string;
  keyPem: string;
}

let cached: Promise<TestPki> | undefined;

/** The process-wide test CA and server certificate, made on first use. */
export function testPki(): Promise<TestPki> {
  cached ??= makePki().catch((err: unknown) => {
    cached = undefined;
    throw new Error(`could not make a test CA with openssl (is the openssl package installed?): ${String(err)}`);
  });
  return cached;
}

async function makePki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fake-apiserver-pki-'));
  const f = (name: string): string => path.join(dir, name);
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=fake-apiserver-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await run('openssl', ['req', '-new', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=fake-apiserver']);
    await writeFile(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
    await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('ext.cnf')]);
    const [caPem, certPem, keyPem] = await Promise.all(['ca.crt', 'server.crt', 'server.key'].map((n) => readFile(f(n), 'utf8')));
    return { caPem: caPem ?? '', certPem: certPem ?? '', keyPem: keyPem ?? '' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

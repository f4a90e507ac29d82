// The real addon (built by `npm ci`) on loopback: none of these options needs privileges, so this runs
// anywhere the addon builds. Network traffic stays on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';

import { addonCandidates, checkAddon, loadNative, NATIVE_ABI_VERSION } from '../../../src/net/native.js';
import { createBgpListener, createBgpSocket, setMd5Key, setMinTtl, setTtl, ttlOptions } from '../../../src/net/sockopt.js';

const addon = loadNative();

function withFd<T>(family: 4 | 6, fn: (fd: number) => T): T {
  const fd = addon.tcpSocket(family);
  try {
    return fn(fd);
  } finally {
    addon.closeFd(fd);
  }
}

test('loadNative finds the built addon at the documented path and it has the expected ABI', () => {
  assert.equal(addon.abiVersion, NATIVE_ABI_VERSION);
  assert.match(addonCandidates()[0]!, /native\/build\/Release\/ingot_native\.node$/);
  assert.equal(loadNative(), addon, 'loaded once');
});

test('checkAddon refuses a stale or foreign module with a rebuild hint', () => {
  assert.throws(() => checkAddon({ abiVersion: 0 }, '/x.node'), new RegExp(`stale \\(abiVersion 0, expected ${NATIVE_ABI_VERSION}; missing tcpSocket, closeFd`));
  assert.throws(() => checkAddon({ ...addon, abiVersion: NATIVE_ABI_VERSION + 1 }, '/x.node'), /npm run build:native/);
  assert.doesNotThrow(() => checkAddon(addon, '/x.node'));
});

test('errors carry Node-style code, negative errno and syscall', () => {
  withFd(4, (fd) => {
    // 192.0.2.1 (TEST-NET-1) is not configured here, so the kernel refuses it as a source address.
    assert.throws(() => addon.bind(fd, '192.0.2.1', 0, false), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'EADDRNOTAVAIL');
      assert.equal(e.errno, -99);
      assert.equal(e.syscall, 'bind');
      assert.match(e.message, /^bind EADDRNOTAVAIL: /);
      return true;
    });
  });
  // A closed descriptor: the kernel's EBADF, from the SO_DOMAIN probe every option call starts with.
  const fd = addon.tcpSocket(4);
  addon.closeFd(fd);
  assert.throws(() => addon.setTtl(fd, 64), { code: 'EBADF', syscall: 'getsockopt(SO_DOMAIN)' });
  assert.throws(() => addon.closeFd(fd), { code: 'EBADF', syscall: 'close' });
});

test('the addon checks its arguments itself (TypeError/RangeError, no crash)', () => {
  withFd(4, (fd) => {
    assert.throws(() => addon.setTtl(fd, 'x' as unknown as number), { name: 'TypeError', message: 'ttl must be an integer' });
    assert.throws(() => addon.setTtl(fd, 256), { name: 'RangeError', message: 'ttl must be 1..255' });
    assert.throws(() => addon.setMinTtl(fd, -1), { name: 'RangeError' });
    assert.throws(() => addon.setMd5Key(fd, '127.0.0.1', Buffer.alloc(81)), { name: 'RangeError', message: /81 bytes; Linux allows at most 80/ });
    assert.throws(() => addon.setMd5Key(fd, '::1', Buffer.from('k')), { name: 'TypeError', message: /'::1' is not an IPv4 address/ });
    assert.throws(() => addon.setMd5Key(fd, '127.0.0.1', 'k' as unknown as Buffer), { name: 'TypeError', message: 'key must be a Buffer' });
    assert.throws(() => addon.bind(fd, '127.0.0.1', 70000, false), /port must be 0..65535/);
  });
  assert.throws(() => addon.tcpSocket(5 as 4), /family must be 4 or 6/);
  withFd(6, (fd) => {
    assert.throws(() => addon.bind(fd, 'fe80::1%no-such-if0', 0, false), /'fe80::1%no-such-if0' is not an IPv6 address/);
    assert.throws(() => addon.setMd5Key(fd, '127.0.0.1', Buffer.from('k')), /not an IPv6 address/);
  });
});

test('TTL and minimum TTL read back as set, on IPv4 and IPv6 sockets', () => {
  for (const family of [4, 6] as const) {
    withFd(family, (fd) => {
      addon.setTtl(fd, 255);
      addon.setMinTtl(fd, 254);
      assert.equal(addon.getTtl(fd), 255);
      assert.equal(addon.getMinTtl(fd), 254);
      addon.setTtl(fd, 3);
      addon.setMinTtl(fd, 0);
      assert.equal(addon.getTtl(fd), 3);
      assert.equal(addon.getMinTtl(fd), 0);
    });
  }
});

test('setting a key and deleting it works; deleting an absent key is ENOENT in the addon, ignored by setMd5Key', async () => {
  withFd(4, (fd) => {
    addon.setMd5Key(fd, '127.0.0.1', Buffer.from('k'));
    addon.setMd5Key(fd, '127.0.0.1', Buffer.alloc(0));
    assert.throws(() => addon.setMd5Key(fd, '127.0.0.1', Buffer.alloc(0)), { code: 'ENOENT' });
  });
  const server = await createBgpListener({ family: 4, localAddress: '127.0.0.1', port: 0 });
  try {
    setMd5Key(server, '127.0.0.9', null);
    setMd5Key(server, '127.0.0.9', 'k');
    setMd5Key(server, '127.0.0.9', null);
    assert.throws(() => setMd5Key(server, '::1', 'k'), /TCP-MD5 key for ::1: .*not an IPv4 address/);
  } finally {
    server.close();
  }
});

test('loopback: a keyed listener accepts a client with the same key; accepted sockets inherit TTL and minimum TTL', async () => {
  const server = await createBgpListener({
    family: 4,
    localAddress: '127.0.0.1',
    port: 0,
    md5: [{ peer: '127.0.0.1', key: 'loopback-key' }],
    ttl: 255,
    minTtl: 254,
  });
  const client = createBgpSocket({ family: 4, localAddress: '127.0.0.1', md5: { peer: '127.0.0.1', key: 'loopback-key' }, ttl: 255 });
  let peer: net.Socket | undefined;
  try {
    assert.deepEqual(ttlOptions(server), { ttl: 255, minTtl: 254 });
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    client.setTimeout(3000, () => client.destroy(new Error('handshake timed out')));
    client.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
    await once(client, 'connect');
    [peer] = await accepted;
    assert.equal(peer.remoteAddress, '127.0.0.1');
    assert.deepEqual(ttlOptions(peer), { ttl: 255, minTtl: 254 });
    assert.deepEqual(ttlOptions(client), { ttl: 255, minTtl: 0 });
    setTtl(client, 7);
    setMinTtl(client, 1);
    assert.deepEqual(ttlOptions(client), { ttl: 7, minTtl: 1 });
    peer.end('x');
    const [data] = (await once(client, 'data')) as [Buffer];
    assert.equal(data.toString(), 'x');
  } finally {
    // The accepted socket is never read to its end, so it would keep the process alive: destroy it too.
    peer?.destroy();
    client.destroy();
    server.close();
  }
});

test('a source address that is not local fails with EADDRNOTAVAIL and the context', () => {
  assert.throws(() => createBgpSocket({ family: 4, localAddress: '192.0.2.1' }), {
    code: 'EADDRNOTAVAIL',
    message: /^source address 192\.0\.2\.1: bind EADDRNOTAVAIL/,
  });
});

test('a listener on a port in use rejects with EADDRINUSE and releases its fd', async () => {
  const first = await createBgpListener({ family: 4, localAddress: '127.0.0.1', port: 0 });
  try {
    const port = (first.address() as net.AddressInfo).port;
    await assert.rejects(createBgpListener({ family: 4, localAddress: '127.0.0.1', port }), { code: 'EADDRINUSE' });
  } finally {
    first.close();
  }
});

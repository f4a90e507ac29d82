// Pure parts of src/net/sockopt.ts (validation, error wording, call order, fd cleanup) with a fake addon.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  checkBgpSocketOptions,
  createBgpListener,
  createBgpSocket,
  explainSocketError,
  fdOf,
  md5KeyBytes,
  MD5_MAX_KEY_BYTES,
} from '../../../src/net/sockopt.js';
import { NATIVE_ABI_VERSION, type NativeAddon } from '../../../src/net/native.js';
import net from 'node:net';

function errnoError(message: string, code: string, errno: number, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, errno, syscall });
}

/** A fake addon that records calls and can be told to fail one of them. */
function fakeAddon(failOn?: keyof NativeAddon, err?: Error): { addon: NativeAddon; calls: string[] } {
  const calls: string[] = [];
  const rec =
    (name: keyof NativeAddon, ret: unknown = undefined) =>
    (...args: unknown[]) => {
      calls.push(`${name}(${args.map((a) => (Buffer.isBuffer(a) ? `key:${a.length}` : String(a))).join(',')})`);
      if (name === failOn) throw err ?? new Error('boom');
      return ret;
    };
  const addon: NativeAddon = {
    abiVersion: NATIVE_ABI_VERSION,
    tcpSocket: rec('tcpSocket', 999) as NativeAddon['tcpSocket'],
    closeFd: rec('closeFd') as NativeAddon['closeFd'],
    bind: rec('bind') as NativeAddon['bind'],
    setMd5Key: rec('setMd5Key') as NativeAddon['setMd5Key'],
    setTtl: rec('setTtl') as NativeAddon['setTtl'],
    getTtl: rec('getTtl', 64) as NativeAddon['getTtl'],
    setMinTtl: rec('setMinTtl') as NativeAddon['setMinTtl'],
    getMinTtl: rec('getMinTtl', 0) as NativeAddon['getMinTtl'],
  };
  return { addon, calls };
}

test('md5KeyBytes: UTF-8 bytes, 80 bytes allowed, 81 and empty refused', () => {
  assert.equal(md5KeyBytes('s3cret').toString(), 's3cret');
  assert.equal(md5KeyBytes('é').length, 2);
  assert.equal(md5KeyBytes(new Uint8Array([1, 2, 3])).length, 3);
  assert.equal(md5KeyBytes('x'.repeat(MD5_MAX_KEY_BYTES)).length, 80);
  assert.throws(() => md5KeyBytes('x'.repeat(81)), { name: 'RangeError', message: /81 bytes; Linux allows at most 80/ });
  // 40 two-byte characters are 80 bytes, 41 are 82: the limit is on bytes, not characters.
  assert.doesNotThrow(() => md5KeyBytes('é'.repeat(40)));
  assert.throws(() => md5KeyBytes('é'.repeat(41)), /82 bytes/);
  assert.throws(() => md5KeyBytes(''), /empty/);
});

test('checkBgpSocketOptions: family and address must agree; TTLs and ports in range', () => {
  assert.doesNotThrow(() => checkBgpSocketOptions({ family: 4, localAddress: '10.0.0.1', md5: { peer: '10.0.0.2', key: 'k' }, ttl: 255, minTtl: 254 }));
  assert.doesNotThrow(() => checkBgpSocketOptions({ family: 6, localAddress: 'fe80::1%eth0', md5: { peer: 'fd00::2', key: 'k' } }));
  assert.doesNotThrow(() => checkBgpSocketOptions({ family: 6, port: 179, md5: [{ peer: 'fd00::2', key: 'k' }, { peer: 'fd00::3', key: 'j' }] }));
  assert.throws(() => checkBgpSocketOptions({ family: 4, localAddress: 'fd00::1' }), { name: 'TypeError', message: /local address 'fd00::1' is not an IPv4 address/ });
  assert.throws(() => checkBgpSocketOptions({ family: 6, md5: { peer: '10.0.0.2', key: 'k' } }), /TCP-MD5 peer '10.0.0.2' is not an IPv6 address/);
  assert.throws(() => checkBgpSocketOptions({ family: 6, port: 179, md5: [{ peer: 'fd00::2', key: 'x'.repeat(81) }] }), RangeError);
  assert.throws(() => checkBgpSocketOptions({ family: 4, localAddress: 'host.example' }), TypeError);
  assert.throws(() => checkBgpSocketOptions({ family: 5 as 4 }), /family must be 4 or 6/);
  assert.throws(() => checkBgpSocketOptions({ family: 4, ttl: 0 }), /ttl must be an integer 1..255, got 0/);
  assert.throws(() => checkBgpSocketOptions({ family: 4, ttl: 256 }), RangeError);
  assert.throws(() => checkBgpSocketOptions({ family: 4, minTtl: 1.5 }), /minTtl/);
  assert.doesNotThrow(() => checkBgpSocketOptions({ family: 4, minTtl: 0 }));
  assert.throws(() => checkBgpSocketOptions({ family: 4, port: 65536 }), /port must be an integer 0..65535/);
  assert.throws(() => checkBgpSocketOptions({ family: 4, localPort: -1 }), /local port/);
});

test('explainSocketError: ENOPROTOOPT on TCP_MD5SIG names CONFIG_TCP_MD5SIG and keeps code/errno/syscall', () => {
  const raw = errnoError('setsockopt(TCP_MD5SIG) ENOPROTOOPT: Protocol not available', 'ENOPROTOOPT', -92, 'setsockopt(TCP_MD5SIG)');
  const e = explainSocketError(raw, 'TCP-MD5 key for 10.0.0.2') as NodeJS.ErrnoException;
  assert.match(e.message, /^TCP-MD5 key for 10\.0\.0\.2: this kernel has no TCP-MD5 support/);
  assert.match(e.message, /CONFIG_TCP_MD5SIG/);
  assert.equal(e.code, 'ENOPROTOOPT');
  assert.equal(e.errno, -92);
  assert.equal(e.syscall, 'setsockopt(TCP_MD5SIG)');
  assert.equal(e.cause, raw);
});

test('explainSocketError: other errors keep their text under a context prefix', () => {
  const raw = errnoError('bind EADDRNOTAVAIL: Cannot assign requested address', 'EADDRNOTAVAIL', -99, 'bind');
  const e = explainSocketError(raw, 'source address 192.0.2.1') as NodeJS.ErrnoException;
  assert.equal(e.message, 'source address 192.0.2.1: bind EADDRNOTAVAIL: Cannot assign requested address');
  assert.equal(e.code, 'EADDRNOTAVAIL');
  assert.doesNotMatch(e.message, /CONFIG_TCP_MD5SIG/);
  assert.match(explainSocketError('odd', 'ctx').message, /^ctx: odd$/);
});

test('createBgpSocket: bind, then key, then TTLs, all before net sees the fd', () => {
  const kernelLacksMd5 = errnoError('setsockopt(TCP_MD5SIG) ENOPROTOOPT: Protocol not available', 'ENOPROTOOPT', -92, 'setsockopt(TCP_MD5SIG)');
  const { addon, calls } = fakeAddon('setMd5Key', kernelLacksMd5);
  assert.throws(
    () => createBgpSocket({ family: 4, localAddress: '10.0.0.1', md5: { peer: '10.0.0.2', key: 'abc' }, ttl: 255, minTtl: 254 }, addon),
    (e: NodeJS.ErrnoException) => /CONFIG_TCP_MD5SIG/.test(e.message) && e.code === 'ENOPROTOOPT',
  );
  // The fd is closed when a step fails, so a broken config does not leak descriptors on every retry.
  assert.deepEqual(calls, ['tcpSocket(4)', 'bind(999,10.0.0.1,0,false)', 'setMd5Key(999,10.0.0.2,key:3)', 'closeFd(999)']);
});

test('createBgpSocket: invalid options are refused before any fd exists', () => {
  const { addon, calls } = fakeAddon();
  assert.throws(() => createBgpSocket({ family: 4, md5: { peer: 'fd00::2', key: 'k' } }, addon), TypeError);
  assert.deepEqual(calls, []);
});

test('createBgpSocket: no source address means no bind; a TTL failure closes the fd', () => {
  const { addon, calls } = fakeAddon('setMinTtl', errnoError('setsockopt(IP_MINTTL) EINVAL: Invalid argument', 'EINVAL', -22, 'setsockopt(IP_MINTTL)'));
  assert.throws(() => createBgpSocket({ family: 6, ttl: 255, minTtl: 254 }, addon), /^Error: TTL options: setsockopt\(IP_MINTTL\) EINVAL/);
  assert.deepEqual(calls, ['tcpSocket(6)', 'setTtl(999,255)', 'setMinTtl(999,254)', 'closeFd(999)']);
});

test('createBgpListener: binds with SO_REUSEADDR and sets every peer key before listening', async () => {
  const { addon, calls } = fakeAddon('setTtl', new Error('stop here'));
  await assert.rejects(
    createBgpListener({ family: 4, port: 179, md5: [{ peer: '10.0.0.2', key: 'a' }, { peer: '10.0.0.3', key: 'bb' }], ttl: 255 }, addon),
    /stop here/,
  );
  assert.deepEqual(calls, [
    'tcpSocket(4)',
    'bind(999,0.0.0.0,179,true)',
    'setMd5Key(999,10.0.0.2,key:1)',
    'setMd5Key(999,10.0.0.3,key:2)',
    'setTtl(999,255)',
    'closeFd(999)',
  ]);
});

test('fdOf: a server that is not listening has no fd', () => {
  assert.throws(() => fdOf(net.createServer()), /no file descriptor yet/);
  assert.throws(() => fdOf(new net.Socket()), /no file descriptor yet/);
});

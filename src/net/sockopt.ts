// BGP's TCP sockets with the options Node's `net` lacks: TCP-MD5 (RFC 2385), the sending TTL (eBGP multihop,
// and 255 for GTSM) and the minimum receive TTL (GTSM, RFC 5082). The fd is made and configured in the addon
// *before* the first SYN or listen(), then handed to `net`, so no segment ever leaves unsigned or with the
// wrong TTL. The functions here validate, order the calls and close the fd on failure; the addon only wraps
// the system calls.
import net from 'node:net';
import type { IPFamily } from '../ip/index.js';
import { loadNative, type NativeAddon } from './native.js';

/** TCP-MD5 key for one peer address. A string key is used as its UTF-8 bytes, as FRR and BIRD do. */
export interface Md5Peer {
  peer: string;
  key: string | Uint8Array;
}

export interface BgpSocketOptions {
  family: IPFamily;
  /** Source address (config `source-address`); the kernel picks one when absent. */
  localAddress?: string;
  /** Source port; 0 or absent lets the kernel choose, as BGP's active side normally does. */
  localPort?: number;
  md5?: Md5Peer;
  /** Sending TTL / hop limit: eBGP multihop, or 255 for GTSM (RFC 5082 §3). */
  ttl?: number;
  /** Minimum TTL / hop limit accepted on receive (GTSM, RFC 5082 §3); 0 turns the check off. */
  minTtl?: number;
}

export interface BgpListenerOptions {
  family: IPFamily;
  /** Address to listen on; all addresses of the family when absent. */
  localAddress?: string;
  /** 179 for BGP (RFC 4271 §8.2.1); configurable so tests can use others. */
  port: number;
  /** One key per peer: the kernel picks the key by the SYN's source address, and accepted sockets inherit it. */
  md5?: readonly Md5Peer[];
  ttl?: number;
  minTtl?: number;
  backlog?: number;
}

/** Linux keeps at most this many key bytes (TCP_MD5SIG_MAXKEYLEN); RFC 2385 sets no bound. */
export const MD5_MAX_KEY_BYTES = 80;

/** TTL a GTSM speaker sends with (RFC 5082 §3). */
export const GTSM_TTL = 255;

/** Throws a TypeError unless `address` is a literal of `family` (IPv6 may carry a %zone). */
export function checkAddress(address: string, family: IPFamily, what: string): void {
  // net.isIPv6 accepts a non-empty %zone, which link-local peers need.
  if (!(family === 4 ? net.isIPv4(address) : net.isIPv6(address))) throw new TypeError(`${what} '${address}' is not an IPv${family} address`);
}

function checkByte(value: number, min: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > 255) {
    throw new RangeError(`${what} must be an integer ${min}..255, got ${value}`);
  }
}

function checkPort(value: number, min: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > 65535) {
    throw new RangeError(`${what} must be an integer ${min}..65535, got ${value}`);
  }
}

/** The key's bytes, checked against the kernel's limit. An empty key is refused: it would delete the key. */
export function md5KeyBytes(key: string | Uint8Array): Buffer {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  if (bytes.length === 0) throw new RangeError('TCP-MD5 key is empty');
  if (bytes.length > MD5_MAX_KEY_BYTES) {
    throw new RangeError(`TCP-MD5 key is ${bytes.length} bytes; Linux allows at most ${MD5_MAX_KEY_BYTES}`);
  }
  return bytes;
}

/** Validates socket options before any fd exists, so bad config never leaks an fd. Pure. */
export function checkBgpSocketOptions(o: BgpSocketOptions | BgpListenerOptions): void {
  if (o.family !== 4 && o.family !== 6) throw new RangeError(`family must be 4 or 6, got ${String(o.family)}`);
  if (o.localAddress !== undefined) checkAddress(o.localAddress, o.family, 'local address');
  if ('port' in o) checkPort(o.port, 0, 'port');
  if ('localPort' in o && o.localPort !== undefined) checkPort(o.localPort, 0, 'local port');
  const peers = o.md5 === undefined ? [] : Array.isArray(o.md5) ? o.md5 : [o.md5 as Md5Peer];
  for (const p of peers as Md5Peer[]) {
    checkAddress(p.peer, o.family, 'TCP-MD5 peer');
    md5KeyBytes(p.key);
  }
  if (o.ttl !== undefined) checkByte(o.ttl, 1, 'ttl');
  if (o.minTtl !== undefined) checkByte(o.minTtl, 0, 'minTtl');
}

/**
 * Rewrites the addon's errno errors into ones a user can act on, keeping code/errno/syscall. The important one:
 * a kernel built without CONFIG_TCP_MD5SIG answers setsockopt(TCP_MD5SIG) with ENOPROTOOPT. Pure.
 */
export function explainSocketError(err: unknown, context: string): Error {
  if (!(err instanceof Error)) return new Error(`${context}: ${String(err)}`);
  const code = (err as NodeJS.ErrnoException).code;
  let message = `${context}: ${err.message}`;
  if (code === 'ENOPROTOOPT' && /TCP_MD5SIG/.test(err.message)) {
    message =
      `${context}: this kernel has no TCP-MD5 support (RFC 2385): setsockopt(TCP_MD5SIG) failed with ENOPROTOOPT, ` +
      'which means the kernel was built without CONFIG_TCP_MD5SIG. Use a kernel with CONFIG_TCP_MD5SIG=y ' +
      '(check /boot/config-$(uname -r) or /proc/config.gz) or remove the peer\'s password.';
  } else if (code === 'ENOPROTOOPT' && /MINTTL|MINHOPCOUNT/.test(err.message)) {
    message = `${context}: this kernel does not support the GTSM minimum TTL option (RFC 5082): ${err.message}`;
  }
  const out: NodeJS.ErrnoException = new Error(message, { cause: err });
  const src = err as NodeJS.ErrnoException;
  if (src.code !== undefined) out.code = src.code;
  if (src.errno !== undefined) out.errno = src.errno;
  if (src.syscall !== undefined) out.syscall = src.syscall;
  return out;
}

function configure(addon: NativeAddon, fd: number, o: BgpSocketOptions | BgpListenerOptions, md5: readonly Md5Peer[]): void {
  for (const p of md5) {
    try {
      addon.setMd5Key(fd, p.peer, md5KeyBytes(p.key));
    } catch (err) {
      throw explainSocketError(err, `TCP-MD5 key for ${p.peer}`);
    }
  }
  try {
    if (o.ttl !== undefined) addon.setTtl(fd, o.ttl);
    if (o.minTtl !== undefined) addon.setMinTtl(fd, o.minTtl);
  } catch (err) {
    throw explainSocketError(err, 'TTL options');
  }
}

/**
 * An unconnected TCP socket with the options applied; call `.connect({host, port})` on it (without
 * `localAddress`: the fd is already bound). The remote must be of `family`.
 */
export function createBgpSocket(o: BgpSocketOptions, addon: NativeAddon = loadNative()): net.Socket {
  checkBgpSocketOptions(o);
  const fd = addon.tcpSocket(o.family);
  try {
    if (o.localAddress !== undefined || (o.localPort ?? 0) !== 0) {
      const any = o.family === 4 ? '0.0.0.0' : '::';
      try {
        addon.bind(fd, o.localAddress ?? any, o.localPort ?? 0, false);
      } catch (err) {
        throw explainSocketError(err, `source address ${o.localAddress ?? any}`);
      }
    }
    configure(addon, fd, o, o.md5 ? [o.md5] : []);
    return new net.Socket({ fd });
  } catch (err) {
    addon.closeFd(fd);
    throw err;
  }
}

/**
 * A listening net.Server whose keys and TTL options were set before listen(), so no handshake is ever
 * accepted unsigned. Resolves once listening; rejects (and releases the port) on error.
 */
export async function createBgpListener(o: BgpListenerOptions, addon: NativeAddon = loadNative()): Promise<net.Server> {
  checkBgpSocketOptions(o);
  const fd = addon.tcpSocket(o.family);
  try {
    const address = o.localAddress ?? (o.family === 4 ? '0.0.0.0' : '::');
    try {
      addon.bind(fd, address, o.port, true);
    } catch (err) {
      throw explainSocketError(err, `listen address [${address}]:${o.port}`);
    }
    configure(addon, fd, o, o.md5 ?? []);
  } catch (err) {
    addon.closeFd(fd);
    throw err;
  }
  // From here `net` owns the fd and closes it on every path, failures included.
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd, backlog: o.backlog ?? 511 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The fd under a net.Server or net.Socket (`_handle.fd`: undocumented but stable since Node 0.x). */
export function fdOf(target: net.Server | net.Socket): number {
  const fd = (target as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new Error('socket has no file descriptor yet (not listening/connected, or already closed)');
  }
  return fd;
}

/**
 * Adds, replaces (key) or removes (null) the TCP-MD5 key for `peer` on a listening server, e.g. when the
 * config gains a peer. Connections already accepted keep the key they were born with. Removing an absent key
 * is not an error.
 */
export function setMd5Key(
  target: net.Server | net.Socket,
  peer: string,
  key: string | Uint8Array | null,
  addon: NativeAddon = loadNative(),
): void {
  const fd = fdOf(target);
  try {
    addon.setMd5Key(fd, peer, key === null ? Buffer.alloc(0) : md5KeyBytes(key));
  } catch (err) {
    // The kernel answers ENOENT when asked to delete a key it does not hold.
    if (key === null && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw explainSocketError(err, `TCP-MD5 key for ${peer}`);
  }
}

/** Sets the sending TTL / hop limit on a live socket or server (accepted sockets inherit the server's). */
export function setTtl(target: net.Server | net.Socket, ttl: number, addon: NativeAddon = loadNative()): void {
  checkByte(ttl, 1, 'ttl');
  addon.setTtl(fdOf(target), ttl);
}

/** Sets the GTSM minimum receive TTL / hop limit on a live socket or server; 0 turns it off. */
export function setMinTtl(target: net.Server | net.Socket, minTtl: number, addon: NativeAddon = loadNative()): void {
  checkByte(minTtl, 0, 'minTtl');
  addon.setMinTtl(fdOf(target), minTtl);
}

/** Current sending TTL / hop limit and minimum receive TTL of a socket or server, e.g. for /status. */
export function ttlOptions(target: net.Server | net.Socket, addon: NativeAddon = loadNative()): { ttl: number; minTtl: number } {
  const fd = fdOf(target);
  return { ttl: addon.getTtl(fd), minTtl: addon.getMinTtl(fd) };
}

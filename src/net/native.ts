// Loads ingot's N-API addon (native/, built by `npm ci`). The one place that touches the .node file, so a
// missing or stale build fails with one clear message instead of a bare dlopen or "is not a function" error.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { IPFamily } from '../ip/index.js';

/** Raw fd-level primitives of native/src/sockopt.cc. Policy and validation live in sockopt.ts. */
export interface NativeAddon {
  readonly abiVersion: number;
  tcpSocket(family: IPFamily): number;
  closeFd(fd: number): void;
  bind(fd: number, address: string, port: number, reuseAddress: boolean): void;
  setMd5Key(fd: number, peer: string, key: Buffer): void;
  setTtl(fd: number, ttl: number): void;
  getTtl(fd: number): number;
  setMinTtl(fd: number, minTtl: number): void;
  getMinTtl(fd: number): number;
}

/** One AF_PACKET socket of native/src/packet.cc. Policy (filters, error wording) lives in src/l2/transport.ts. */
export interface NativePacketSocket {
  readonly fd: number;
  /** Sends a whole Ethernet frame out of the bound interface; returns the octets sent. Throws errno errors. */
  send(frame: Buffer): number;
  addMembership(mac: Buffer): void;
  dropMembership(mac: Buffer): void;
  /** Stops polling and closes the fd; idempotent. */
  close(): void;
}

/** `frame`: the whole Ethernet frame; `pkttype`: PACKET_HOST (0), _BROADCAST (1), _MULTICAST (2), _OTHERHOST (3). */
export type NativeFrameCallback = (frame: Buffer, ifindex: number, pkttype: number, srcMac: Buffer) => void;

/** native/src/packet.cc: AF_PACKET sockets for ARP and NDP (Layer 2 mode). */
export interface PacketAddon {
  PacketSocket: new (
    ifindex: number,
    protocol: number,
    filter: Buffer,
    onFrame: NativeFrameCallback,
    onError: (err: NodeJS.ErrnoException) => void,
  ) => NativePacketSocket;
}

/** Must equal kAbiVersion in native/src/addon.cc. */
export const NATIVE_ABI_VERSION = 2;

const FUNCTIONS = ['tcpSocket', 'closeFd', 'bind', 'setMd5Key', 'setTtl', 'getTtl', 'setMinTtl', 'getMinTtl', 'PacketSocket'] as const;

/**
 * Where a build may be, relative to this module: src/net/ under tsx and dist/net/ once compiled sit at the same
 * depth below the package root. Release is what `npm ci` builds; Debug only after `node-gyp --debug`.
 */
export function addonCandidates(): string[] {
  return ['Release', 'Debug'].map((kind) =>
    fileURLToPath(new URL(`../../native/build/${kind}/ingot_native.node`, import.meta.url)),
  );
}

let cached: (NativeAddon & PacketAddon) | undefined;

/** The addon, loaded once. Throws an Error saying how to build it when it is missing or stale. */
export function loadNative(): NativeAddon & PacketAddon {
  if (cached) return cached;
  const candidates = addonCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    throw new Error(
      `ingot's native addon is not built (looked for ${candidates.join(', ')}). ` +
        'It provides TCP-MD5 and TTL/GTSM socket options and the AF_PACKET sockets of Layer 2 mode, which Node has no API for. Build it with `npm ci` ' +
        '(or `npm run build:native`); that needs python3, make, g++ and the Node headers (include/node).',
    );
  }
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)(path);
  } catch (err) {
    throw new Error(
      `ingot's native addon at ${path} cannot be loaded (${(err as Error).message}); ` +
        'rebuild it for this Node with `npm run build:native`',
      { cause: err },
    );
  }
  cached = checkAddon(mod, path);
  return cached;
}

/** Checks the shape of a loaded module; exported for tests. */
export function checkAddon(mod: unknown, path: string): NativeAddon & PacketAddon {
  const m = mod as Partial<Record<string, unknown>>;
  const missing = FUNCTIONS.filter((f) => typeof m[f] !== 'function');
  if (m.abiVersion !== NATIVE_ABI_VERSION || missing.length > 0) {
    throw new Error(
      `ingot's native addon at ${path} is stale (abiVersion ${String(m.abiVersion)}, expected ` +
        `${NATIVE_ABI_VERSION}${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''}); ` +
        'rebuild it with `npm run build:native`',
    );
  }
  return mod as NativeAddon & PacketAddon;
}

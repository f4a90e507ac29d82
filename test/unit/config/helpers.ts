// Shared helpers for the config tests: parse and insist on success or failure.
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/config/index.js';
import type { Config } from '../../../src/config/index.js';

export function ok(text: string): Config {
  const r = parseConfig(text);
  if (!r.ok) assert.fail(`expected a valid config, got: ${r.error}`);
  return r.config;
}

export function bad(text: string): string {
  const r = parseConfig(text);
  if (r.ok) assert.fail('expected an invalid config, but it parsed');
  return r.error;
}

/** Minimal valid peer lines, for tests that vary one field. */
export function peer(extra: string): string {
  return `peers:\n- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 10.0.0.1\n${extra}`;
}

/** One pool with the given protocol and addresses, plus extra lines. */
export function pool(protocol: string, addresses: readonly string[], extra = ''): string {
  const addrs = addresses.map((a) => `  - ${JSON.stringify(a)}\n`).join('');
  return `address-pools:\n- name: p1\n  protocol: ${protocol}\n  addresses:\n${addrs}${extra}`;
}

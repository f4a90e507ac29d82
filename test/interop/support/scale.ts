// Inputs for the scale cases (speaker-scale.test.ts, scripts/bench-ingest.ts): N Services, each with an
// address already in its status (198.18.0.1 upwards, the RFC 2544 benchmarking range), in one BGP pool of a
// /15 (131,072 addresses), each with one ready endpoint on the announcing node, so every one is announced.
import type { ConfigSpec, PeerSpec, ServiceSpec } from '../../../src/lab/topology.js';

export const SCALE_POOL = '198.18.0.0/15';

export function scaleIp(i: number): string {
  const n = 0xc6120000 + i + 1; // 198.18.0.0 + i + 1
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function scaleServices(n: number, peer: PeerSpec, node = 'node-1'): { config: ConfigSpec; services: ServiceSpec[] } {
  if (n > 131_000) throw new Error('the scale pool holds 131,072 addresses');
  const services: ServiceSpec[] = [];
  for (let i = 0; i < n; i++) services.push({ name: `s${i}`, ips: [scaleIp(i)], endpoints: [{ node }] });
  return { config: { peers: [peer], pools: [{ name: 'scale', addresses: [SCALE_POOL] }] }, services };
}

// Adapter from the validated config (src/config) to the allocator's plain PoolSpec. Kept separate so the
// allocator itself depends on nothing but its own types.
import type { Config } from '../config/types.js';
import type { PoolSpec } from './types.js';

export function poolsFromConfig(config: Pick<Config, 'pools'>): PoolSpec[] {
  return config.pools.map((p) => ({
    name: p.name,
    cidrs: [...p.cidrs],
    autoAssign: p.autoAssign,
    avoidBuggyIPs: p.avoidBuggyIPs,
    protocol: p.protocol,
  }));
}

// Random Services for allocator property tests and scripts/allocator-diff.ts: biased towards the cases where
// MetalLB's rules bite — one sharing key on most Services, Local policies with two selectors, overlapping and
// disjoint ports, both families and both orders, requested IPs and pools (some unknown), non-LoadBalancer
// types, and status IPs (one or two, possibly stale).
import fc from 'fast-check';
import type { ServiceInput } from '../../src/allocator/types.js';

export interface ServiceDraw {
  key: string;
  family: string[];
  share: string;
  local: string | undefined;
  ports: string[];
  request: { ip: string } | { pool: string } | undefined;
  type: string;
  status: string[] | undefined;
}

/** Services drawn from these keys, addresses (for requests and status) and pool names (for the annotation). */
export function serviceArb(keys: readonly string[], addresses: readonly string[], pools: readonly string[]): fc.Arbitrary<ServiceDraw> {
  return fc.record({
    key: fc.constantFrom(...keys),
    family: fc.constantFrom(['IPv4'], ['IPv6'], ['IPv4', 'IPv6'], ['IPv6', 'IPv4']),
    share: fc.constantFrom('', 'k1', 'k1', 'k1', 'k2'),
    local: fc.constantFrom<string | undefined>(undefined, undefined, 'x', 'y'),
    ports: fc.subarray(['TCP/53', 'UDP/53', 'TCP/80', 'TCP/443']),
    request: fc.option(
      fc.oneof(
        fc.constantFrom(...addresses).map((ip): { ip: string } => ({ ip })),
        fc.constantFrom(...pools).map((pool): { pool: string } => ({ pool })),
      ),
      { nil: undefined },
    ),
    type: fc.constantFrom('LoadBalancer', 'LoadBalancer', 'LoadBalancer', 'NodePort'),
    status: fc.option(fc.subarray([...addresses], { minLength: 1, maxLength: 2 }), { nil: undefined }),
  });
}

export function toService(s: ServiceDraw): ServiceInput {
  const annotations: Record<string, string> = {};
  if (s.share !== '') annotations['metallb.universe.tf/allow-shared-ip'] = s.share;
  if (s.request && 'pool' in s.request) annotations['metallb.universe.tf/address-pool'] = s.request.pool;
  return {
    key: s.key,
    type: s.type,
    ipFamilies: s.family,
    annotations,
    ports: s.ports.map((p) => ({ protocol: p.split('/')[0]!, port: Number(p.split('/')[1]) })),
    externalTrafficPolicy: s.local === undefined ? 'Cluster' : 'Local',
    selector: s.local === undefined ? null : { app: s.local },
    loadBalancerIP: s.request && 'ip' in s.request ? s.request.ip : null,
    statusIPs: s.status ?? [],
  };
}

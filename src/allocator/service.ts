// What the allocator derives from a Service before touching any pool: its address family, the addresses it
// requests, its sharing key, backend key and ports. Each derivation returns a value or a failure value.
import { parseIP, type ParsedIP } from './ip.js';
import { parseIPv4Number } from '../ip/index.js';
import {
  ANNOTATION_ADDRESS_POOL,
  ANNOTATION_ALLOW_SHARED_IP,
  ANNOTATION_LOADBALANCER_IPS,
  type FailureReason,
  type ServiceFamily,
  type ServiceInput,
} from './types.js';

export type Failure = { readonly ok: false; readonly reason: FailureReason; readonly message: string };
export type Derived<T> = { readonly ok: true; readonly value: T } | Failure;

export function fail(reason: FailureReason, message: string): Failure {
  return { ok: false, reason, message };
}

function ok<T>(value: T): Derived<T> {
  return { ok: true, value };
}

// Shared results for the common answers: derivation runs on every allocation, and these are immutable.
const FAMILY_OK: Readonly<Record<ServiceFamily, Derived<ServiceFamily>>> = {
  ipv4: Object.freeze(ok<ServiceFamily>('ipv4')),
  ipv6: Object.freeze(ok<ServiceFamily>('ipv6')),
  dual: Object.freeze(ok<ServiceFamily>('dual')),
};
const NONE: readonly string[] = Object.freeze([]);
const NOTHING_REQUESTED: Derived<null> = Object.freeze(ok(null));

/** Go's %q of a string list as MetalLB prints IP lists: ["10.0.0.1" "2001:db8::1"]. */
export function quoteList(items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/**
 * The family MetalLB v0.12 reads from `spec.clusterIPs`. ingot also accepts Services without clusterIPs
 * (hand-written `ingot plan` input, and Kubernetes < 1.20 like MetalLB 0.13.2): then `ipFamilies` decides,
 * then `ipFamilyPolicy` (RequireDualStack/PreferDualStack = dual), else IPv4. `ipFamilies` comes first when
 * present because the API server fills it and clusterIPs consistently and it needs no parsing.
 */
export function serviceFamily(svc: ServiceInput): Derived<ServiceFamily> {
  const policy = svc.ipFamilyPolicy ?? null;
  if (policy !== null && policy !== 'SingleStack' && policy !== 'PreferDualStack' && policy !== 'RequireDualStack') {
    return fail('invalidService', `invalid ipFamilyPolicy "${policy}": want SingleStack, PreferDualStack or RequireDualStack`);
  }
  let family: ServiceFamily | null = null;
  const fams = svc.ipFamilies ?? NONE;
  if (fams.length > 0) {
    const set = new Set<string>();
    for (const f of fams) {
      if (f !== 'IPv4' && f !== 'IPv6') return fail('invalidService', `invalid ipFamilies entry "${f}": want IPv4 or IPv6`);
      if (set.has(f)) return fail('invalidService', `ipFamilies lists "${f}" twice`);
      set.add(f);
    }
    if (set.size > 2) return fail('invalidService', 'ipFamilies has more than two entries');
    family = set.size === 2 ? 'dual' : set.has('IPv4') ? 'ipv4' : 'ipv6';
  } else if (svc.clusterIPs && svc.clusterIPs.length === 1 && isPlainIPv4(svc.clusterIPs[0]!)) {
    // The common case (one IPv4 clusterIP): no ParsedIP and canonical text just to learn the family.
    family = 'ipv4';
  } else if (svc.clusterIPs && svc.clusterIPs.length > 0 && svc.clusterIPs[0] !== 'None') {
    const r = familyOfAddresses(svc.clusterIPs, 'spec.clusterIPs');
    if (!r.ok) return fail('invalidService', r.message);
    family = r.value.family;
  } else {
    family = policy === 'RequireDualStack' || policy === 'PreferDualStack' ? 'dual' : 'ipv4';
  }
  if (policy === 'SingleStack' && family === 'dual') {
    return fail('invalidService', 'ipFamilyPolicy SingleStack with two ipFamilies');
  }
  if (policy === 'RequireDualStack' && family !== 'dual') {
    return fail('invalidService', `ipFamilyPolicy RequireDualStack with a single ${family} family`);
  }
  return FAMILY_OK[family];
}

/** True when `t` is an IPv4 address in dotted form (what parseIP would return as IPv4 without a colon). */
function isPlainIPv4(t: string): boolean {
  return !t.includes(':') && parseIPv4Number(t) !== null;
}

/** MetalLB's ipfamily.ForAddresses: one address, or two of different families. */
export function familyOfAddresses(
  texts: readonly string[],
  what: string,
): Derived<{ family: ServiceFamily; ips: ParsedIP[] }> {
  const ips: ParsedIP[] = [];
  for (const t of texts) {
    const ip = parseIP(t);
    if (ip === null) return fail('invalidService', `invalid ${what} "${t}"`);
    ips.push(ip);
  }
  return familyOfParsed(ips, what);
}

export function familyOfParsed(ips: ParsedIP[], what: string): Derived<{ family: ServiceFamily; ips: ParsedIP[] }> {
  if (ips.length === 1) return ok({ family: ips[0]!.family, ips });
  if (ips.length === 2) {
    if (ips[0]!.family === ips[1]!.family) {
      return fail('familyMismatch', `${what} ${quoteList(ips.map((i) => i.text))}: same address family ${ips[0]!.family}`);
    }
    return ok({ family: 'dual', ips });
  }
  return fail('familyMismatch', `${what} ${quoteList(ips.map((i) => i.text))}: want one address, or two of different families`);
}

/**
 * The addresses a Service asks for (spec.loadBalancerIP or the loadBalancerIPs annotation), or null when it
 * asks for none. Checked against the Service's family, with MetalLB's error texts.
 */
export function requestedIPs(svc: ServiceInput, family: ServiceFamily): Derived<ParsedIP[] | null> {
  const spec = svc.loadBalancerIP ?? '';
  const ann = svc.annotations?.[ANNOTATION_LOADBALANCER_IPS] ?? '';
  if (spec !== '' && ann !== '') {
    return fail(
      'invalidAnnotation',
      `service can not have both ${ANNOTATION_LOADBALANCER_IPS} and svc.Spec.LoadBalancerIP`,
    );
  }
  let ips: ParsedIP[];
  if (spec !== '') {
    const ip = parseIP(spec);
    if (ip === null) return fail('invalidLoadBalancerIP', `invalid spec.loadBalancerIP "${spec}"`);
    ips = [ip];
  } else if (ann !== '') {
    ips = [];
    for (const item of ann.split(',')) {
      const t = item.trim();
      const ip = parseIP(t);
      if (ip === null) return fail('invalidAnnotation', `invalid ${ANNOTATION_LOADBALANCER_IPS}: "${t}" is not an IP address`);
      ips.push(ip);
    }
    const r = familyOfParsed(ips, ANNOTATION_LOADBALANCER_IPS);
    if (!r.ok) return fail('invalidAnnotation', `invalid ${r.message}`);
  } else {
    return NOTHING_REQUESTED;
  }
  const got = ips.length === 2 ? 'dual' : ips[0]!.family;
  if (got !== family) {
    return fail(
      'familyMismatch',
      `requested loadBalancer IP(s) ${quoteList(ips.map((i) => i.text))} does not match the ipFamily of the service (${family})`,
    );
  }
  return ok(ips);
}

export function requestedPool(svc: ServiceInput): string | null {
  const p = svc.annotations?.[ANNOTATION_ADDRESS_POOL] ?? '';
  return p === '' ? null : p;
}

/** The allow-shared-ip value, exact (MetalLB does not trim); "" = does not share. */
export function sharingKey(svc: ServiceInput): string {
  return svc.annotations?.[ANNOTATION_ALLOW_SHARED_IP] ?? '';
}

/**
 * MetalLB's backend key: for externalTrafficPolicy Local the selector rendered like labels.Set.String()
 * (keys sorted, "k=v" joined by ","), so Local Services only share with identical selectors; "" otherwise.
 */
export function backendKey(svc: ServiceInput): string {
  if (svc.externalTrafficPolicy !== 'Local') return '';
  const sel = svc.selector ?? {};
  return Object.keys(sel)
    .sort()
    .map((k) => `${k}=${sel[k]}`)
    .join(',');
}

// "TCP/80" strings are interned: thousands of Services share a handful of ports, and each allocation keeps
// its port list for the life of the allocation. A one-port Service (almost all of them) gets a shared, frozen
// `{ ok, value: [name] }`: the allocator only reads port lists, so the hot path allocates nothing here.
interface PortEntry {
  readonly name: string;
  readonly one: Derived<string[]>;
}
const portNames = new Map<string, Map<number, PortEntry>>();

// Consecutive Services mostly carry the same port: remember the last one looked up.
let lastEntry: PortEntry | null = null;
let lastProtocol = '';
let lastPort = -1;

function portEntry(protocol: string, port: number): PortEntry {
  if (port === lastPort && protocol === lastProtocol) return lastEntry!;
  const e = lookupPort(protocol, port);
  lastEntry = e;
  lastProtocol = protocol;
  lastPort = port;
  return e;
}

function lookupPort(protocol: string, port: number): PortEntry {
  let byPort = portNames.get(protocol);
  if (byPort === undefined) {
    byPort = new Map();
    portNames.set(protocol, byPort);
  }
  let e = byPort.get(port);
  if (e === undefined) {
    const name = `${protocol}/${port}`;
    e = { name, one: Object.freeze(ok(Object.freeze([name]) as string[])) };
    byPort.set(port, e);
  }
  return e;
}

function portName(protocol: string, port: number): string {
  return portEntry(protocol, port).name;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

/** The Service's (protocol, port) pairs as "TCP/80" strings, deduplicated. */
export function servicePorts(svc: ServiceInput): Derived<string[]> {
  const ports = svc.ports ?? [];
  // Most Services have one port: skip the Set.
  if (ports.length === 1) {
    const p = ports[0]!;
    if (validPort(p.port)) return portEntry(p.protocol ?? 'TCP', p.port).one;
  }
  const out = new Set<string>();
  for (const p of ports) {
    if (!validPort(p.port)) return fail('invalidService', `invalid port ${String(p.port)}`);
    out.add(portName(p.protocol ?? 'TCP', p.port));
  }
  return ok([...out]);
}

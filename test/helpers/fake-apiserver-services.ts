// Service defaulting and allocation as the real API server's Service registry does it (opt-in `serviceDefaults`):
// type ClusterIP, sessionAffinity None, port protocol TCP and targetPort = port, external/internalTrafficPolicy
// Cluster, allocateLoadBalancerNodePorts true; clusterIP(s) from 10.96.0.0/12 and fd00:10:96::/112 following
// ipFamilyPolicy/ipFamilies (SingleStack → the first family, IPv4 unless ipFamilies says IPv6; PreferDualStack and
// RequireDualStack → both, primary first); headless (`clusterIP: None`) and ExternalName get none; nodePorts from
// 30000–32767 for NodePort and LoadBalancer (unless allocateLoadBalancerNodePorts is false). On update, allocated
// values the new spec leaves out are kept (kubectl apply and PUTs without them), a type that no longer needs node
// ports releases them, and delete releases everything. An exhausted node-port range is a 500, as on the real server
// ("failed to allocate a nodePort: range is full"); a requested port in use is a 422.
// Not modelled: changing clusterIP (immutable on the real server), ipFamilyPolicy upgrades on update,
// healthCheckNodePort for externalTrafficPolicy Local, the `kubernetes` Service at 10.96.0.1.

export class ServiceError extends Error {
  constructor(
    readonly code: 422 | 500,
    message: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

export class ServiceAllocator {
  private readonly nodePorts = new Set<number>();
  private readonly clusterIPs = new Set<string>();
  private nextV4 = 10; // 10.96.0.1 is the kubernetes Service on a real cluster
  private nextV6 = 10;
  private nextPort = NODE_PORT_MIN;

  /** Defaults and allocates a new Service's spec in place (a copy of the request body). */
  create(name: string, spec: Json): void {
    this.defaults(spec);
    const taken: Array<() => void> = [];
    try {
      this.allocate(name, spec, undefined, taken);
    } catch (err) {
      for (const undo of taken) undo();
      throw err;
    }
  }

  /** Carries allocated values over from `old` where `next` leaves them out, then allocates what is newly needed and
   *  releases what no longer is. */
  update(name: string, old: Json, next: Json): void {
    if (next.ipFamilyPolicy === undefined && old.ipFamilyPolicy !== undefined) next.ipFamilyPolicy = old.ipFamilyPolicy;
    this.defaults(next);
    // dropTypeDependentFields: a type that no longer takes node ports loses them.
    if (!needsNodePorts(next)) for (const p of ports(next)) delete p.nodePort;
    if (next.type !== 'LoadBalancer') delete next.allocateLoadBalancerNodePorts;
    if (next.type !== 'ExternalName') {
      if (next.clusterIP === undefined && old.clusterIP !== undefined) next.clusterIP = old.clusterIP;
      if (next.clusterIPs === undefined && old.clusterIPs !== undefined) next.clusterIPs = old.clusterIPs;
      if (next.ipFamilies === undefined && old.ipFamilies !== undefined) next.ipFamilies = old.ipFamilies;
    }
    const oldPorts = new Map<string, number>();
    for (const p of ports(old)) if (typeof p.nodePort === 'number') oldPorts.set(`${String(p.port)}/${String(p.protocol ?? 'TCP')}`, p.nodePort);
    if (needsNodePorts(next)) for (const p of ports(next)) if (p.nodePort === undefined) {
      const kept = oldPorts.get(`${String(p.port)}/${String(p.protocol ?? 'TCP')}`);
      if (kept !== undefined) p.nodePort = kept;
    }
    const taken: Array<() => void> = [];
    try {
      this.allocate(name, next, old, taken);
    } catch (err) {
      for (const undo of taken) undo();
      throw err;
    }
    // Release what the old spec held and the new one does not.
    const stillPorts = new Set(ports(next).map((p) => p.nodePort));
    for (const p of ports(old)) if (typeof p.nodePort === 'number' && !stillPorts.has(p.nodePort)) this.nodePorts.delete(p.nodePort);
    const stillIPs = new Set(strings(next.clusterIPs));
    for (const ip of strings(old.clusterIPs)) if (!stillIPs.has(ip)) this.clusterIPs.delete(ip);
  }

  release(spec: unknown): void {
    if (!isRecord(spec)) return;
    for (const p of ports(spec)) if (typeof p.nodePort === 'number') this.nodePorts.delete(p.nodePort);
    for (const ip of strings(spec.clusterIPs)) this.clusterIPs.delete(ip);
  }

  private defaults(spec: Json): void {
    spec.type ??= 'ClusterIP';
    if (spec.type === 'ExternalName') return;
    spec.sessionAffinity ??= 'None';
    for (const p of ports(spec)) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
    if (spec.type === 'LoadBalancer' || spec.type === 'NodePort') spec.externalTrafficPolicy ??= 'Cluster';
    if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
    spec.internalTrafficPolicy ??= 'Cluster';
    spec.ipFamilyPolicy ??= 'SingleStack';
  }

  private allocate(name: string, spec: Json, old: Json | undefined, taken: Array<() => void>): void {
    if (spec.type === 'ExternalName') return;
    const heldByOld = new Set(old ? ports(old).map((p) => p.nodePort) : []);
    if (needsNodePorts(spec)) {
      ports(spec).forEach((p, i) => {
        if (typeof p.nodePort === 'number') {
          if (heldByOld.has(p.nodePort)) return;
          if (this.nodePorts.has(p.nodePort)) throw new ServiceError(422, `Service "${name}" is invalid: spec.ports[${i}].nodePort: Invalid value: ${p.nodePort}: provided port is already allocated`);
          this.take(this.nodePorts, p.nodePort, taken);
          return;
        }
        const port = this.freePort();
        if (port === undefined) throw new ServiceError(500, 'Internal error occurred: failed to allocate a nodePort: range is full');
        this.take(this.nodePorts, port, taken);
        p.nodePort = port;
      });
    } else if (!old) {
      for (const p of ports(spec)) delete p.nodePort;
    }
    if (spec.clusterIP === 'None' || (Array.isArray(spec.clusterIPs) && spec.clusterIPs[0] === 'None')) {
      spec.clusterIP = 'None';
      spec.clusterIPs = ['None'];
      spec.ipFamilies ??= ['IPv4'];
      return;
    }
    if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0) {
      spec.clusterIP = spec.clusterIPs[0];
      for (const ip of strings(spec.clusterIPs)) if (!(old && strings(old.clusterIPs).includes(ip))) this.take(this.clusterIPs, ip, taken);
      spec.ipFamilies ??= strings(spec.clusterIPs).map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4'));
      return;
    }
    const requested = strings(spec.ipFamilies);
    const primary = requested[0] ?? (typeof spec.clusterIP === 'string' && spec.clusterIP.includes(':') ? 'IPv6' : 'IPv4');
    const dual = spec.ipFamilyPolicy === 'PreferDualStack' || spec.ipFamilyPolicy === 'RequireDualStack';
    const families = dual ? [primary, requested[1] ?? (primary === 'IPv4' ? 'IPv6' : 'IPv4')] : [primary];
    const ips = families.map((f, i) => (i === 0 && typeof spec.clusterIP === 'string' && spec.clusterIP !== '' ? spec.clusterIP : this.freeIP(f)));
    for (const ip of ips) this.take(this.clusterIPs, ip, taken);
    spec.clusterIP = ips[0];
    spec.clusterIPs = ips;
    spec.ipFamilies = families;
  }

  private take<T>(set: Set<T>, value: T, taken: Array<() => void>): void {
    set.add(value);
    taken.push(() => set.delete(value));
  }

  private freePort(): number | undefined {
    const size = NODE_PORT_MAX - NODE_PORT_MIN + 1;
    for (let i = 0; i < size; i++) {
      const port = NODE_PORT_MIN + ((this.nextPort - NODE_PORT_MIN + i) % size);
      if (!this.nodePorts.has(port)) {
        this.nextPort = port + 1;
        return port;
      }
    }
    return undefined;
  }

  private freeIP(family: string): string {
    for (;;) {
      const ip = family === 'IPv6' ? `fd00:10:96::${(this.nextV6++).toString(16)}` : `10.${96 + (this.nextV4 >> 16)}.${(this.nextV4 >> 8) & 255}.${this.nextV4++ & 255}`;
      if (!this.clusterIPs.has(ip)) return ip;
    }
  }
}

function ports(spec: Json): Json[] {
  return Array.isArray(spec.ports) ? spec.ports.filter(isRecord) : [];
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function needsNodePorts(spec: Json): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

// The allocator: which Service holds which addresses, MetalLB v0.12's rules for claiming, choosing and sharing
// them, and config reloads. Pure and synchronous; every outcome is a value. See README.md for the model.
import type { ParsedIP } from './ip.js';
import { parseIP } from './ip.js';
import { OrdinalMap, OrdinalSet, compareDigits, incrementDigits, type Digits } from './ordinal-set.js';
import { buildSpaces, type AddressSpace, type V4Space } from './space.js';
import {
  backendKey,
  fail,
  familyOfParsed,
  quoteList,
  requestedIPs,
  requestedPool,
  serviceFamily,
  servicePorts,
  sharingKey,
  type Failure,
} from './service.js';
import type {
  Allocation,
  AllocationResult,
  Family,
  PoolSpec,
  PoolUsage,
  ServiceFamily,
  ServiceInput,
  SetPoolsResult,
} from './types.js';

/** Addresses sharing one (sharing key, backend key) inside one family of one pool. */
interface Group {
  readonly members: OrdinalSet;
  /** "TCP/80" → how many member addresses have that port taken; lets a hopeless scan stop at once. */
  readonly portUse: Map<string, number>;
}

interface FamilyState {
  readonly space: AddressSpace;
  /** Ordinals with at least one user, each with its users. */
  readonly used: OrdinalMap<AddressState>;
  readonly groups: Map<string, Group>;
  // Scratch digit buffers, reused so the hot path allocates no arrays.
  readonly a: Digits;
  readonly b: Digits;
}

interface PoolState {
  readonly spec: PoolSpec;
  readonly ipv4: FamilyState | null;
  readonly ipv6: FamilyState | null;
  /** For avoid-buggy-ips pools only: the IPv4 space with every address, to explain rejections. */
  readonly buggyV4: V4Space | null;
}

/**
 * One used address and who uses it. It is itself the address (the ParsedIP fields, copied): the ServiceStates
 * of its users point at it, so a held address costs one object, not a ParsedIP plus a state. Almost every
 * address has a single user, so that case lives in two fields and the maps exist only while the address is
 * shared: a /16 worth of Maps costs more in GC than the allocation.
 */
class AddressState {
  readonly family: ParsedIP['family'];
  readonly v4: number;
  readonly v6: bigint;
  readonly text: string;
  private soleKey: string | null = null;
  private solePorts: readonly string[] = [];
  private users: Map<string, readonly string[]> | null = null;
  private portOwners: Map<string, string> | null = null;

  constructor(
    ip: ParsedIP,
    readonly sharingKey: string,
    readonly backendKey: string,
  ) {
    this.family = ip.family;
    this.v4 = ip.v4;
    this.v6 = ip.v6;
    this.text = ip.text;
  }

  /** This address as a ParsedIP (the fields are the same; TypeScript cannot see the union's pairing). */
  get ip(): ParsedIP {
    return this as unknown as ParsedIP;
  }

  get userCount(): number {
    return this.users !== null ? this.users.size : this.soleKey === null ? 0 : 1;
  }

  userKeys(): string[] {
    if (this.users !== null) return [...this.users.keys()];
    return this.soleKey === null ? [] : [this.soleKey];
  }

  ownerOf(port: string): string | undefined {
    if (this.portOwners !== null) return this.portOwners.get(port);
    return this.soleKey !== null && this.solePorts.includes(port) ? this.soleKey : undefined;
  }

  /** Adds a user (not already present); returns the ports that became taken. */
  add(key: string, ports: readonly string[]): readonly string[] {
    if (this.users === null && this.soleKey === null) {
      this.soleKey = key;
      this.solePorts = ports;
      return ports;
    }
    if (this.users === null || this.portOwners === null) {
      const sole = this.soleKey!;
      this.users = new Map([[sole, this.solePorts]]);
      this.portOwners = new Map(this.solePorts.map((p) => [p, sole]));
      this.soleKey = null;
      this.solePorts = [];
    }
    this.users.set(key, ports);
    const taken: string[] = [];
    for (const p of ports) {
      if (this.portOwners.has(p)) continue;
      this.portOwners.set(p, key);
      taken.push(p);
    }
    return taken;
  }

  /** Removes a user; returns the ports it freed. */
  remove(key: string): readonly string[] {
    if (this.users === null || this.portOwners === null) {
      if (this.soleKey !== key) return [];
      const freed = this.solePorts;
      this.soleKey = null;
      this.solePorts = [];
      return freed;
    }
    const ports = this.users.get(key);
    if (ports === undefined) return [];
    this.users.delete(key);
    const freed: string[] = [];
    for (const p of ports) {
      if (this.portOwners.get(p) !== key) continue;
      this.portOwners.delete(p);
      freed.push(p);
    }
    if (this.users.size === 0) {
      this.users = null;
      this.portOwners = null;
    }
    return freed;
  }
}

/** What one Service holds. The one or two addresses are fields, not an array: one object per Service is
 *  what a /16 of allocations keeps alive, and every extra object is copied by each young-generation GC. */
class ServiceState {
  constructor(
    readonly ip0: AddressState,
    readonly ip1: AddressState | null,
    readonly pool: PoolState,
    readonly ports: readonly string[],
    readonly sharingKey: string,
    readonly backendKey: string,
  ) {}

  get ips(): readonly ParsedIP[] {
    return this.ip1 === null ? [this.ip0.ip] : [this.ip0.ip, this.ip1.ip];
  }
}

/** Everything the allocator reads from a Service, derived once per call. */
interface Derived {
  readonly ok: true;
  /** Set (with `requested` null) only when derive() was asked to be lenient about a broken request. */
  readonly requestError: Failure | null;
  readonly key: string;
  readonly family: ServiceFamily;
  /** Families in the order the Service lists them (primary first); IPv4 first when it lists none. */
  readonly order: readonly Family[];
  readonly ports: readonly string[];
  readonly sharingKey: string;
  readonly backendKey: string;
  readonly requested: ParsedIP[] | null;
  readonly pool: string | null;
}

export type ConvergeResult =
  | { readonly ok: true; readonly ips: readonly string[]; readonly pool: string | null }
  | Failure;

const LOADBALANCER = 'LoadBalancer';
const ORDER_V4: readonly Family[] = ['ipv4'];
const ORDER_V6: readonly Family[] = ['ipv6'];
const ORDER_V4_V6: readonly Family[] = ['ipv4', 'ipv6'];
const ORDER_V6_V4: readonly Family[] = ['ipv6', 'ipv4'];

/** The addresses' texts, without a closure per call (this runs on every allocation). */
function textsOf(ips: readonly ParsedIP[]): string[] {
  if (ips.length === 1) return [ips[0]!.text];
  const out = new Array<string>(ips.length);
  for (let i = 0; i < ips.length; i++) out[i] = ips[i]!.text;
  return out;
}

function groupKey(sk: string, bk: string): string {
  return `${sk}\n${bk}`;
}

function sameKeys(st: { sharingKey: string; backendKey: string }, sk: string, bk: string): string | null {
  // MetalLB's sharingOK, with its texts.
  if (st.sharingKey === '') return 'existing service does not allow sharing';
  if (sk === '') return 'new service does not allow sharing';
  if (st.sharingKey !== sk) return `sharing key "${sk}" does not match existing sharing key "${st.sharingKey}"`;
  if (st.backendKey !== bk) return `backend key "${bk}" does not match existing backend key "${st.backendKey}"`;
  return null;
}

function buildPools(specs: readonly PoolSpec[]): PoolState[] {
  const seen = new Set<string>();
  return specs.map((spec) => {
    if (seen.has(spec.name)) throw new TypeError(`duplicate pool "${spec.name}"`);
    seen.add(spec.name);
    const spaces = buildSpaces(spec.name, spec.cidrs, spec.avoidBuggyIPs);
    const fam = (space: AddressSpace | null): FamilyState | null =>
      space === null
        ? null
        : {
            space,
            used: new OrdinalMap<AddressState>(space.depth),
            groups: new Map(),
            a: new Uint8Array(space.depth),
            b: new Uint8Array(space.depth),
          };
    const buggyV4 = spec.avoidBuggyIPs ? buildSpaces(spec.name, spec.cidrs, false).ipv4 : null;
    return { spec, ipv4: fam(spaces.ipv4), ipv6: fam(spaces.ipv6), buggyV4 };
  });
}

export class Allocator {
  private pools: PoolState[];
  private byName: Map<string, PoolState>;
  private readonly services = new Map<string, ServiceState>();

  /** Throws TypeError only for a malformed PoolSpec (bad CIDR, duplicate name): pools come validated. */
  constructor(pools: readonly PoolSpec[] = []) {
    this.pools = buildPools(pools);
    this.byName = new Map(this.pools.map((p) => [p.spec.name, p]));
  }

  // ---- queries -------------------------------------------------------------------------------------------

  allocationOf(key: string): Allocation | undefined {
    const s = this.services.get(key);
    return s === undefined ? undefined : { ips: s.ips.map((i) => i.text), pool: s.pool.spec.name };
  }

  /** Every allocation, by Service key ascending. */
  allocations(): [string, Allocation][] {
    return [...this.services.keys()].sort().map((k) => [k, this.allocationOf(k)!]);
  }

  /** Service keys holding `ip`, ascending. */
  usersOf(ip: string): string[] {
    const p = parseIP(ip);
    const pool = p === null ? null : this.poolFor(this.pools, [p]);
    const st = pool === null ? undefined : this.stateOf(pool, p!);
    return st === undefined ? [] : st.userKeys().sort();
  }

  usage(): PoolUsage[] {
    const out: PoolUsage[] = [];
    for (const p of this.pools) {
      for (const fs of [p.ipv4, p.ipv6]) {
        if (fs === null) continue;
        const cap = fs.space.capacity;
        out.push({
          pool: p.spec.name,
          family: fs.space.family,
          inUse: fs.used.size,
          capacity: typeof cap === 'bigint' && cap <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(cap) : cap,
        });
      }
    }
    return out;
  }

  /** True when nothing is held and every index is back to a bare root (used by the property tests). */
  isEmpty(): boolean {
    if (this.services.size !== 0) return false;
    return this.pools.every((p) =>
      [p.ipv4, p.ipv6].every((fs) => fs === null || (fs.used.isBare && fs.groups.size === 0)),
    );
  }

  // ---- config --------------------------------------------------------------------------------------------

  /**
   * MetalLB's SetPools: the new pools are taken only if every current allocation still lies inside one pool
   * of them (allocations then move to that pool by address membership, so renames and splits work).
   * Otherwise nothing changes and the message names the first Service (by key) that would lose its IPs.
   */
  setPools(specs: readonly PoolSpec[]): SetPoolsResult {
    const next = buildPools(specs);
    const moved = new Map<string, PoolState>();
    for (const key of [...this.services.keys()].sort()) {
      const s = this.services.get(key)!;
      const pool = this.poolFor(next, s.ips);
      if (pool === null) {
        return {
          ok: false,
          reason: 'incompatibleConfig',
          message: `new config not compatible with assigned IPs: service "${key}" cannot own ${quoteList(
            s.ips.map((i) => i.text),
          )} under new config`,
        };
      }
      moved.set(key, pool);
    }
    const old = [...this.services.entries()];
    this.pools = next;
    this.byName = new Map(next.map((p) => [p.spec.name, p]));
    this.services.clear();
    for (const [key, s] of old) this.commit(key, s.ips, moved.get(key)!, s.ports, s.sharingKey, s.backendKey, false);
    return { ok: true };
  }

  // ---- operations ----------------------------------------------------------------------------------------

  /** Frees whatever `key` holds (Service deleted). Returns whether it held anything. */
  release(key: string): boolean {
    const s = this.services.get(key);
    if (s === undefined) return false;
    this.removeUse(key, s.ip0, s.pool);
    if (s.ip1 !== null) this.removeUse(key, s.ip1, s.pool);
    this.services.delete(key);
    return true;
  }

  /**
   * MetalLB's convergeBalancer without the API server: a non-LoadBalancer Service loses its addresses; one
   * with status IPs keeps them when they are still valid; anything else gets a fresh allocation.
   */
  converge(svc: ServiceInput): ConvergeResult {
    if (svc.type !== LOADBALANCER) {
      this.release(svc.key);
      return { ok: true, ips: [], pool: null };
    }
    if ((svc.statusIPs ?? []).length > 0) {
      const r = this.claimStatus(svc);
      if (r.ok) return r;
      this.release(svc.key);
    }
    return this.allocate(svc);
  }

  /**
   * Re-claims the addresses in the Service's status (step 4 of convergeBalancer). Fails, changing nothing,
   * when they no longer fit: outside the pools, a sharing conflict, the wrong family, or the Service now
   * requests other addresses or another pool. The caller then clears the status and allocates afresh.
   */
  claimStatus(svc: ServiceInput): AllocationResult {
    const texts = svc.statusIPs ?? [];
    const ips: ParsedIP[] = [];
    for (const t of texts) {
      const ip = parseIP(t);
      if (ip === null) return fail('invalidService', `status IP "${t}" is not an IP address`);
      ips.push(ip);
    }
    const fam = familyOfParsed(ips, 'status IPs');
    if (!fam.ok) return fam;
    const d = this.derive(svc, true);
    if (!d.ok) return d;
    const want = d;
    if (fam.value.family !== want.family) {
      return fail('familyMismatch', `status IPs ${quoteList(texts)} do not match the ipFamily of the service (${want.family})`);
    }
    if (want.requested !== null) {
      const a = ips.map((i) => i.text).sort();
      const b = want.requested.map((i) => i.text).sort();
      if (a.join(',') !== b.join(',')) {
        return fail('poolMismatch', `status IPs ${quoteList(texts)} differ from the requested ${quoteList(b)}`);
      }
    }
    if (want.pool !== null) {
      const holder = this.poolFor(this.pools, ips);
      if (holder !== null && holder.spec.name !== want.pool) {
        return fail('poolMismatch', `status IPs ${quoteList(texts)} are in pool "${holder.spec.name}", not the requested pool "${want.pool}"`);
      }
    }
    const r = this.assignParsed(want, ips);
    // MetalLB (convergeBalancer step 4) keeps valid addresses when the request itself is broken, with a
    // LoadBalancerFailed warning: a typo in an annotation must not take a running Service's address away.
    if (r.ok && d.requestError !== null) return { ...r, warning: `invalid requested loadbalancer IPs: ${d.requestError.message}` };
    return r;
  }

  /**
   * Claims specific addresses for a Service (MetalLB's Assign): they must form a valid family matching the
   * Service, lie in one pool (auto-assign does not matter) and pass the sharing rules. Atomic: on failure the
   * Service keeps what it had.
   */
  assign(svc: ServiceInput, ipTexts: readonly string[]): AllocationResult {
    const d = this.derive(svc);
    if (!d.ok) return d;
    const ips: ParsedIP[] = [];
    for (const t of ipTexts) {
      const ip = parseIP(t);
      if (ip === null) return fail('invalidService', `"${t}" is not an IP address`);
      ips.push(ip);
    }
    const fam = familyOfParsed(ips, 'addresses');
    if (!fam.ok) return fam;
    if (fam.value.family !== d.family) {
      return fail('familyMismatch', `addresses ${quoteList(ips.map((i) => i.text))} do not match the ipFamily of the service (${d.family})`);
    }
    return this.assignParsed(d, ips);
  }

  /**
   * Gives the Service addresses (MetalLB's allocateIPs): the requested ones if it names any; else from the
   * pool its annotation names; else from the first auto-assign pool, in config order, that has room. Inside
   * a pool the lowest address that is free, or already shared compatibly, wins. A Service that already holds
   * addresses that still satisfy it keeps them.
   */
  allocate(svc: ServiceInput): AllocationResult {
    const d = this.derive(svc);
    if (!d.ok) return d;
    let named: PoolState | null = null;
    if (d.pool !== null) {
      named = this.byName.get(d.pool) ?? null;
      if (named === null) return fail('unknownPool', `unknown pool "${d.pool}"`);
    }
    if (d.requested !== null) {
      if (named !== null) {
        // MetalLB 0.13 rejects this mix outright; 0.12 let the IP win and then flapped. Rejecting is clearer.
        const outside = d.requested.filter((ip) => !this.inPool(named!, ip));
        if (outside.length > 0) {
          return fail(
            'poolMismatch',
            `requested IP(s) ${quoteList(outside.map((i) => i.text))} not in the requested pool "${named.spec.name}"`,
          );
        }
      }
      return this.assignParsed(d, d.requested);
    }
    const current = this.services.get(d.key);
    if (current !== undefined) {
      const fam = current.ip1 !== null ? 'dual' : current.ip0.ip.family;
      if (fam === d.family && (named === null || named === current.pool)) {
        const r = this.assignParsed(d, current.ips);
        if (r.ok) return r;
      }
      this.release(d.key);
    }
    if (named !== null) return this.allocateFrom(named, d);

    let autoPools = 0;
    let familyPools = 0;
    for (const pool of this.pools) {
      if (!pool.spec.autoAssign) continue;
      autoPools++;
      if (!this.hasFamilies(pool, d.family)) continue;
      familyPools++;
      const r = this.allocateFrom(pool, d, true);
      if (r !== null) return r;
    }
    if (this.pools.length === 0) return fail('poolExhausted', 'no available IPs: no address pools configured');
    if (autoPools === 0) {
      return fail('autoAssignDisabled', 'no available IPs: every address pool has auto-assign disabled; request an IP or a pool');
    }
    if (familyPools === 0) {
      const what = d.family === 'dual' ? 'both IPv4 and IPv6' : d.family;
      return fail('familyMismatch', `no available IPs: no auto-assign pool has ${what} addresses`);
    }
    return fail('poolExhausted', 'no available IPs');
  }

  // ---- internals -----------------------------------------------------------------------------------------

  /**
   * With `lenientRequest`, a bad loadBalancerIP / loadBalancerIPs request does not fail the derivation: it is
   * returned in `requestError` and the Service counts as requesting nothing (how MetalLB treats a Service that
   * already holds addresses: it warns and keeps them).
   */
  private derive(
    svc: ServiceInput,
    lenientRequest = false,
  ): Derived | Failure {
    const family = serviceFamily(svc);
    if (!family.ok) return family;
    const ports = servicePorts(svc);
    if (!ports.ok) return ports;
    let requested = requestedIPs(svc, family.value);
    let requestError: Failure | null = null;
    if (!requested.ok) {
      if (!lenientRequest) return requested;
      requestError = requested;
      requested = { ok: true, value: null };
    }
    const order =
      family.value === 'ipv4' ? ORDER_V4 : family.value === 'ipv6' ? ORDER_V6 : svc.ipFamilies?.[0] === 'IPv6' ? ORDER_V6_V4 : ORDER_V4_V6;
    // One object, no { ok, value } wrapper: this runs on every allocation.
    return {
      ok: true,
      requestError,
      key: svc.key,
      family: family.value,
      order,
      ports: ports.value,
      sharingKey: sharingKey(svc),
      backendKey: backendKey(svc),
      requested: requested.value,
      pool: requestedPool(svc),
    };
  }

  private hasFamilies(pool: PoolState, family: ServiceFamily): boolean {
    if (family === 'dual') return pool.ipv4 !== null && pool.ipv6 !== null;
    return pool[family] !== null;
  }

  private inPool(pool: PoolState, ip: ParsedIP): boolean {
    const fs = pool[ip.family];
    return fs !== null && fs.space.digitsOf(ip, fs.a);
  }

  /** The first pool (config order) holding every one of `ips` as a usable address. */
  private poolFor(pools: readonly PoolState[], ips: readonly ParsedIP[]): PoolState | null {
    for (const pool of pools) if (ips.every((ip) => this.inPool(pool, ip))) return pool;
    return null;
  }

  private explainOutside(ips: readonly ParsedIP[]): Failure {
    const texts = quoteList(ips.map((i) => i.text));
    const homes = ips.map((ip) => this.pools.find((p) => this.inPool(p, ip)) ?? null);
    if (homes.every((h) => h !== null)) {
      return fail(
        'poolMismatch',
        `${texts} are not in one pool (${homes.map((h, i) => `${ips[i]!.text} in "${h!.spec.name}"`).join(', ')}); both addresses of a dual-stack Service must come from the same pool`,
      );
    }
    const lost = ips.filter((_, i) => homes[i] === null);
    // A .0/.255 of an avoid-buggy-ips pool is outside the pool for MetalLB too; say why, it surprises people.
    const buggy = lost.some((ip) => this.pools.some((p) => p.buggyV4 !== null && p.buggyV4.ordinalOf(ip) >= 0));
    const hint = buggy ? ' (avoid-buggy-ips excludes addresses ending in .0 and .255)' : '';
    return fail('notInAnyPool', `${quoteList(lost.map((i) => i.text))} is not allowed in config${hint}`);
  }

  private stateOf(pool: PoolState, ip: ParsedIP): AddressState | undefined {
    const fs = pool[ip.family];
    if (fs === null || !fs.space.digitsOf(ip, fs.a)) return undefined;
    return fs.used.get(fs.a);
  }

  /** MetalLB's checkSharing for one address, with the detail of the key mismatch kept in the message. */
  private checkSharing(d: Derived, ip: ParsedIP, pool: PoolState): Failure | null {
    const st = this.stateOf(pool, ip);
    if (st === undefined) return null;
    const mismatch = sameKeys(st, d.sharingKey, d.backendKey);
    if (mismatch !== null) {
      const others = st.userKeys().filter((k) => k !== d.key).sort();
      // The sole user of an address may change its own sharing key in place.
      if (others.length > 0) {
        return fail(
          'sharingConflict',
          `can't change sharing key for "${d.key}", address also in use by ${others.join(',')}: ${mismatch}`,
        );
      }
    }
    for (const p of d.ports) {
      const owner = st.ownerOf(p);
      if (owner !== undefined && owner !== d.key) {
        return fail('sharingConflict', `port ${p} is already in use on "${ip.text}" by ${owner}`);
      }
    }
    return null;
  }

  private assignParsed(d: Derived, ips: readonly ParsedIP[]): AllocationResult {
    const pool = this.poolFor(this.pools, ips);
    if (pool === null) return this.explainOutside(ips);
    for (const ip of ips) {
      const f = this.checkSharing(d, ip, pool);
      if (f !== null) return f;
    }
    this.commit(d.key, ips, pool, d.ports, d.sharingKey, d.backendKey, true);
    return { ok: true, ips: textsOf(ips), pool: pool.spec.name };
  }

  /** With `quiet`, exhaustion returns null instead of a failure: the auto-assign walk skips full pools
   *  without building a message for each. */
  private allocateFrom(pool: PoolState, d: Derived, quiet: true): AllocationResult | null;
  private allocateFrom(pool: PoolState, d: Derived): AllocationResult;
  private allocateFrom(pool: PoolState, d: Derived, quiet = false): AllocationResult | null {
    // Exact-size array: a pushed-to [] keeps a 17-slot backing store for the life of the allocation.
    const order = d.order;
    const ips = new Array<ParsedIP>(order.length);
    for (let i = 0; i < order.length; i++) {
      const family = order[i]!;
      const fs = pool[family];
      if (fs === null) {
        return fail(
          'familyMismatch',
          `no available IPs in pool "${pool.spec.name}" for ${d.family} IPFamily: the pool has no ${family} addresses`,
        );
      }
      const ip = this.candidate(fs, d);
      if (ip === null) {
        return quiet ? null : fail('poolExhausted', `no available IPs in pool "${pool.spec.name}" for ${d.family} IPFamily`);
      }
      ips[i] = ip;
    }
    // allocate() released the Service before asking for fresh addresses.
    this.commit(d.key, ips, pool, d.ports, d.sharingKey, d.backendKey, false);
    return { ok: true, ips: textsOf(ips), pool: pool.spec.name };
  }

  /**
   * The address MetalLB's ascending scan would stop at: the lowest one that passes the sharing check. That is
   * the lowest free address, unless an address already used by the same sharing group with free ports lies
   * below it. The Service itself holds nothing here (allocate released it first).
   */
  private candidate(fs: FamilyState, d: Derived): ParsedIP | null {
    const free = fs.a;
    const freeIP = fs.used.lowestAbsent(free) ? fs.space.ipAt(free) : null;
    if (d.sharingKey !== '') {
      const g = fs.groups.get(groupKey(d.sharingKey, d.backendKey));
      if (g !== undefined && !d.ports.some((p) => g.portUse.get(p) === g.members.size)) {
        const cur = fs.b;
        let more = g.members.first(cur);
        while (more) {
          if (freeIP !== null && compareDigits(cur, free) >= 0) break;
          const st = fs.used.get(cur)!;
          if (d.ports.every((p) => st.ownerOf(p) === undefined)) return st.ip;
          more = incrementDigits(cur) && g.members.nextPresent(cur, cur);
        }
      }
    }
    return freeIP;
  }

  private commit(
    key: string,
    ips: readonly ParsedIP[],
    pool: PoolState,
    ports: readonly string[],
    sk: string,
    bk: string,
    mayHold: boolean,
  ): void {
    if (mayHold) this.release(key);
    // The ServiceState points at the addresses' AddressStates (each is the ParsedIP), not at `ips`.
    let held0: AddressState | null = null;
    let held1: AddressState | null = null;
    for (const ip of ips) {
      const fs = pool[ip.family]!;
      fs.space.digitsOf(ip, fs.a);
      let st = fs.used.get(fs.a);
      let group: Group | undefined;
      if (st === undefined) {
        st = new AddressState(ip, sk, bk);
        fs.used.set(fs.a, st);
        if (sk !== '') {
          const gk = groupKey(sk, bk);
          group = fs.groups.get(gk);
          if (group === undefined) {
            group = { members: new OrdinalSet(fs.space.depth), portUse: new Map() };
            fs.groups.set(gk, group);
          }
          group.members.add(fs.a);
        }
      } else if (sk !== '') {
        group = fs.groups.get(groupKey(sk, bk));
      }
      const taken = st.add(key, ports);
      if (group !== undefined) for (const p of taken) group.portUse.set(p, (group.portUse.get(p) ?? 0) + 1);
      if (held0 === null) held0 = st;
      else held1 = st;
    }
    this.services.set(key, new ServiceState(held0!, held1, pool, ports, sk, bk));
  }

  /** `st` is the pool's state for one of the Service's addresses (a ServiceState points at its own). */
  private removeUse(key: string, st: AddressState, pool: PoolState): void {
    const ip = st.ip;
    const fs = pool[ip.family]!;
    fs.space.digitsOf(ip, fs.a);
    const gk = st.sharingKey === '' ? null : groupKey(st.sharingKey, st.backendKey);
    const group = gk === null ? undefined : fs.groups.get(gk);
    const freed = st.remove(key);
    if (group !== undefined) {
      for (const p of freed) {
        const n = (group.portUse.get(p) ?? 1) - 1;
        if (n === 0) group.portUse.delete(p);
        else group.portUse.set(p, n);
      }
    }
    if (st.userCount > 0) return;
    fs.used.delete(fs.a);
    if (group !== undefined) {
      group.members.delete(fs.a);
      if (group.members.size === 0) fs.groups.delete(gk!);
    }
  }
}

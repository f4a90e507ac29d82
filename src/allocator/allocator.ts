// The allocator: which Service holds which addresses, MetalLB v0.12's rules for claiming, choosing and sharing
// them, and config reloads. Pure and synchronous; every outcome is a value. See README.md for the model.
import type { ParsedIP } from './ip.js';
import { parseIP } from './ip.js';
import { OrdinalMap, OrdinalSet, compareDigits, incrementDigits, type Digits, type TrieNode } from './ordinal-set.js';
import { buildSpaces, type AddressSpace, type V4Space } from './space.js';
import { ServiceTable } from './table.js';
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
  /** Ordinals with at least one user: the sole user's slot in the ServiceTable, or a SharedAddress. */
  readonly used: OrdinalMap<Holder>;
  readonly groups: Map<string, Group>;
  // Scratch digit buffers, reused so the hot path allocates no arrays: `a` carries the address being chosen or
  // committed, `b` walks a sharing group, `c` turns a handle back into digits.
  readonly a: Digits;
  readonly b: Digits;
  readonly c: Digits;
}

interface PoolState {
  readonly spec: PoolSpec;
  readonly ipv4: FamilyState | null;
  readonly ipv6: FamilyState | null;
  /** For avoid-buggy-ips pools only: the IPv4 space with every address, to explain rejections. */
  readonly buggyV4: V4Space | null;
}

/** An address with two or more users (MetalLB's IP sharing); back to the sole user's slot at one user. */
class SharedAddress {
  /** Service key → slot. */
  readonly users = new Map<string, number>();
  /** "TCP/80" → the key of the user that has it: MetalLB forbids two users of one port on one address. */
  readonly portOwners = new Map<string, string>();
  constructor(
    readonly sharingKey: string,
    readonly backendKey: string,
  ) {}
}

/** What the trie stores at a used address: the slot of its sole user, or its users when several. */
type Holder = number | SharedAddress;

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
            used: new OrdinalMap<Holder>(space.depth),
            groups: new Map(),
            a: new Uint8Array(space.depth),
            b: new Uint8Array(space.depth),
            c: new Uint8Array(space.depth),
          };
    const buggyV4 = spec.avoidBuggyIPs ? buildSpaces(spec.name, spec.cidrs, false).ipv4 : null;
    return { spec, ipv4: fam(spaces.ipv4), ipv6: fam(spaces.ipv6), buggyV4 };
  });
}

export class Allocator {
  private pools: PoolState[];
  private byName: Map<string, PoolState>;
  private readonly services = new ServiceTable<PoolState>();
  private readonly derived: { -readonly [K in keyof Derived]: Derived[K] } = {
    ok: true,
    requestError: null,
    key: '',
    family: 'ipv4',
    order: ORDER_V4,
    ports: [],
    sharingKey: '',
    backendKey: '',
    requested: null,
    pool: null,
  };

  /** Throws TypeError only for a malformed PoolSpec (bad CIDR, duplicate name): pools come validated. */
  constructor(pools: readonly PoolSpec[] = []) {
    this.pools = buildPools(pools);
    this.byName = new Map(this.pools.map((p) => [p.spec.name, p]));
  }

  // ---- queries -------------------------------------------------------------------------------------------

  allocationOf(key: string): Allocation | undefined {
    const s = this.services.heldSlot(key);
    return s < 0 ? undefined : { ips: this.ipsOf(s).map((i) => i.text), pool: this.services.pool(s).spec.name };
  }

  /** Every allocation, by Service key ascending. */
  allocations(): [string, Allocation][] {
    return this.services.heldKeys().map((k) => [k, this.allocationOf(k)!]);
  }

  /** Service keys holding `ip`, ascending. */
  usersOf(ip: string): string[] {
    const p = parseIP(ip);
    const pool = p === null ? null : this.poolFor(this.pools, [p]);
    const h = pool === null ? undefined : this.holderOf(pool, p!);
    return h === undefined ? [] : this.userKeys(h).sort();
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
    const t = this.services;
    const moves: { key: string; ips: ParsedIP[]; pool: PoolState; ports: readonly string[]; sk: string; bk: string }[] = [];
    for (const key of t.heldKeys()) {
      const s = t.heldSlot(key);
      const ips = this.ipsOf(s);
      const pool = this.poolFor(next, ips);
      if (pool === null) {
        return {
          ok: false,
          reason: 'incompatibleConfig',
          message: `new config not compatible with assigned IPs: service "${key}" cannot own ${quoteList(
            ips.map((i) => i.text),
          )} under new config`,
        };
      }
      moves.push({ key, ips, pool, ports: t.ports(s), sk: t.sharingKey(s), bk: t.backendKey(s) });
    }
    this.pools = next;
    this.byName = new Map(next.map((p) => [p.spec.name, p]));
    t.clear();
    for (const m of moves) this.commit(m.key, m.ips, m.pool, m.ports, m.sk, m.bk);
    return { ok: true };
  }

  // ---- operations ----------------------------------------------------------------------------------------

  /** Frees whatever `key` holds (Service deleted). Returns whether it held anything. */
  release(key: string): boolean {
    const s = this.services.heldSlot(key);
    if (s < 0) return false;
    this.releaseSlot(s);
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
    // One lookup serves the whole call: a Service's first allocation would otherwise pay a second miss.
    const t = this.services;
    let known = t.slotOf(d.key);
    if (known >= 0 && t.isHeld(known)) {
      const fam = t.addressCount(known) === 2 ? 'dual' : t.family(known, 0);
      if (fam === d.family && (named === null || named === t.pool(known))) {
        const r = this.assignParsed(d, this.ipsOf(known));
        if (r.ok) return r;
      }
      this.releaseSlot(known);
      // The release may have swept the slot away.
      known = t.slotOf(d.key);
    }
    if (named !== null) return this.allocateFrom(named, d, false, known);

    let autoPools = 0;
    let familyPools = 0;
    for (const pool of this.pools) {
      if (!pool.spec.autoAssign) continue;
      autoPools++;
      if (!this.hasFamilies(pool, d.family)) continue;
      familyPools++;
      const r = this.allocateFrom(pool, d, true, known);
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

  /** A held slot's addresses, primary family first. */
  private ipsOf(s: number): ParsedIP[] {
    const t = this.services;
    const ips: ParsedIP[] = [];
    for (let n = 0; n < t.addressCount(s); n++) {
      const fs = t.pool(s)[t.family(s, n)]!;
      fs.used.digitsAt(t.leaf(s, n), t.index(s, n), fs.c);
      ips.push(fs.space.ipAt(fs.c)!);
    }
    return ips;
  }

  private userKeys(h: Holder): string[] {
    return typeof h === 'number' ? [this.services.key(h)] : [...h.users.keys()];
  }

  private ownerOf(h: Holder, port: string): string | undefined {
    if (typeof h !== 'number') return h.portOwners.get(port);
    return this.services.ports(h).includes(port) ? this.services.key(h) : undefined;
  }

  /** MetalLB's sharingOK between the users of an address and a Service with these keys. */
  private keysMismatch(h: Holder, sk: string, bk: string): string | null {
    if (typeof h !== 'number') return sameKeys(h, sk, bk);
    return sameKeys({ sharingKey: this.services.sharingKey(h), backendKey: this.services.backendKey(h) }, sk, bk);
  }

  /**
   * With `lenientRequest`, a bad loadBalancerIP / loadBalancerIPs request does not fail the derivation: it is
   * returned in `requestError` and the Service counts as requesting nothing (how MetalLB treats a Service that
   * already holds addresses: it warns and keeps them).
   */
  private derive(
    svc: ServiceInput,
    lenientRequest = false,
  ): Derived | Failure {
    // The result is one reused object, valid until the next derive(): every public operation derives once and
    // nothing inside an operation derives again. This runs on every allocation (~10% of a fill's CPU as a
    // fresh 112-byte object).
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
    const d = this.derived;
    d.requestError = requestError;
    d.key = svc.key;
    d.family = family.value;
    d.order =
      family.value === 'ipv4' ? ORDER_V4 : family.value === 'ipv6' ? ORDER_V6 : svc.ipFamilies?.[0] === 'IPv6' ? ORDER_V6_V4 : ORDER_V4_V6;
    d.ports = ports.value;
    d.sharingKey = sharingKey(svc);
    d.backendKey = backendKey(svc);
    d.requested = requested.value;
    d.pool = requestedPool(svc);
    return d;
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

  private holderOf(pool: PoolState, ip: ParsedIP): Holder | undefined {
    const fs = pool[ip.family];
    if (fs === null || !fs.space.digitsOf(ip, fs.a)) return undefined;
    return fs.used.get(fs.a);
  }

  /** MetalLB's checkSharing for one address, with the detail of the key mismatch kept in the message. */
  private checkSharing(d: Derived, ip: ParsedIP, pool: PoolState): Failure | null {
    const h = this.holderOf(pool, ip);
    if (h === undefined) return null;
    const mismatch = this.keysMismatch(h, d.sharingKey, d.backendKey);
    if (mismatch !== null) {
      const others = this.userKeys(h).filter((k) => k !== d.key).sort();
      // The sole user of an address may change its own sharing key in place.
      if (others.length > 0) {
        return fail(
          'sharingConflict',
          `can't change sharing key for "${d.key}", address also in use by ${others.join(',')}: ${mismatch}`,
        );
      }
    }
    for (const p of d.ports) {
      const owner = this.ownerOf(h, p);
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
    this.release(d.key);
    this.commit(d.key, ips, pool, d.ports, d.sharingKey, d.backendKey);
    return { ok: true, ips: textsOf(ips), pool: pool.spec.name };
  }

  /** With `quiet`, exhaustion returns null instead of a failure: the auto-assign walk skips full pools
   *  without building a message for each. */
  private allocateFrom(pool: PoolState, d: Derived, quiet: true, known: number): AllocationResult | null;
  private allocateFrom(pool: PoolState, d: Derived, quiet: false, known: number): AllocationResult;
  private allocateFrom(pool: PoolState, d: Derived, quiet: boolean, known: number): AllocationResult | null {
    const order = d.order;
    // Choose every family's address first (each lands in its family's `a` buffer), then commit: a dual-stack
    // Service gets both or nothing.
    for (let i = 0; i < order.length; i++) {
      const family = order[i]!;
      const fs = pool[family];
      if (fs === null) {
        return fail(
          'familyMismatch',
          `no available IPs in pool "${pool.spec.name}" for ${d.family} IPFamily: the pool has no ${family} addresses`,
        );
      }
      if (!this.candidate(fs, d)) {
        return quiet ? null : fail('poolExhausted', `no available IPs in pool "${pool.spec.name}" for ${d.family} IPFamily`);
      }
    }
    // allocate() released the Service before asking for fresh addresses.
    const s = this.services.hold(d.key, known, pool, d.ports, d.sharingKey, d.backendKey);
    // Exact-size array: a pushed-to [] keeps a 17-slot backing store.
    const texts = new Array<string>(order.length);
    for (let i = 0; i < order.length; i++) {
      const fs = pool[order[i]!]!;
      texts[i] = fs.space.textAt(fs.a)!;
      this.addUse(s, fs, i);
    }
    return { ok: true, ips: texts, pool: pool.spec.name };
  }

  /**
   * Writes into fs.a the address MetalLB's ascending scan would stop at: the lowest one that passes the
   * sharing check. That is the lowest free address, unless an address already used by the same sharing group
   * with free ports lies below it. False when there is none. The Service itself holds nothing here (allocate
   * released it first).
   */
  private candidate(fs: FamilyState, d: Derived): boolean {
    const free = fs.a;
    const hasFree = fs.used.lowestAbsent(free) && fs.space.inRange(free);
    if (d.sharingKey !== '') {
      const g = fs.groups.get(groupKey(d.sharingKey, d.backendKey));
      if (g !== undefined && !d.ports.some((p) => g.portUse.get(p) === g.members.size)) {
        const cur = fs.b;
        let more = g.members.first(cur);
        while (more) {
          if (hasFree && compareDigits(cur, free) >= 0) break;
          const h = fs.used.get(cur)!;
          if (d.ports.every((p) => this.ownerOf(h, p) === undefined)) {
            free.set(cur);
            return true;
          }
          more = incrementDigits(cur) && g.members.nextPresent(cur, cur);
        }
      }
    }
    return hasFree;
  }

  /** Makes the Service hold `ips` in `pool` (it holds nothing when called). */
  private commit(key: string, ips: readonly ParsedIP[], pool: PoolState, ports: readonly string[], sk: string, bk: string): void {
    const s = this.services.hold(key, undefined, pool, ports, sk, bk);
    for (let i = 0; i < ips.length; i++) {
      const ip = ips[i]!;
      const fs = pool[ip.family]!;
      fs.space.digitsOf(ip, fs.a);
      this.addUse(s, fs, i);
    }
  }

  /** Adds slot `s` as a user of the address in fs.a and records the address as its number `n`. */
  private addUse(s: number, fs: FamilyState, n: number): void {
    const t = this.services;
    const d = fs.a;
    const h = fs.used.get(d);
    const ports = t.ports(s);
    const sk = t.sharingKey(s);
    const bk = t.backendKey(s);
    let taken: readonly string[] = ports;
    let group: Group | undefined;
    let leaf: TrieNode;
    if (h === undefined) {
      leaf = fs.used.put(d, s);
      if (sk !== '') {
        const gk = groupKey(sk, bk);
        group = fs.groups.get(gk);
        if (group === undefined) {
          group = { members: new OrdinalSet(fs.space.depth), portUse: new Map() };
          fs.groups.set(gk, group);
        }
        group.members.add(d);
      }
    } else {
      // A second (or further) user: checkSharing has passed, so the keys match and the ports are disjoint.
      let shared: SharedAddress;
      if (typeof h !== 'number') {
        shared = h;
      } else {
        shared = new SharedAddress(t.sharingKey(h), t.backendKey(h));
        const sole = t.key(h);
        shared.users.set(sole, h);
        for (const p of t.ports(h)) shared.portOwners.set(p, sole);
      }
      const key = t.key(s);
      shared.users.set(key, s);
      const newly: string[] = [];
      for (const p of ports) {
        if (shared.portOwners.has(p)) continue;
        shared.portOwners.set(p, key);
        newly.push(p);
      }
      taken = newly;
      leaf = fs.used.put(d, shared);
      if (sk !== '') group = fs.groups.get(groupKey(sk, bk));
    }
    if (group !== undefined) for (const p of taken) group.portUse.set(p, (group.portUse.get(p) ?? 0) + 1);
    t.setAddress(s, n, leaf, d[0]!, fs.space.family);
  }

  /** Removes a held slot from the addresses it holds and marks it unheld. */
  private releaseSlot(s: number): void {
    const t = this.services;
    const pool = t.pool(s);
    for (let n = 0; n < t.addressCount(s); n++) this.removeUse(s, pool[t.family(s, n)]!, t.leaf(s, n), t.index(s, n));
    t.unhold(s);
  }

  /** Removes slot `s` as a user of the address at a handle it holds. */
  private removeUse(s: number, fs: FamilyState, leaf: TrieNode, i: number): void {
    const t = this.services;
    const h = fs.used.valueAt(leaf, i);
    let freed: readonly string[];
    let left = 0;
    let sk: string;
    let bk: string;
    if (typeof h !== 'number') {
      const key = t.key(s);
      h.users.delete(key);
      const gone: string[] = [];
      for (const p of t.ports(s)) {
        if (h.portOwners.get(p) !== key) continue;
        h.portOwners.delete(p);
        gone.push(p);
      }
      freed = gone;
      left = h.users.size;
      sk = h.sharingKey;
      bk = h.backendKey;
      // One user left: it owns all its ports (MetalLB forbids two users on one port), so it is the sole holder.
      if (left === 1) fs.used.replaceAt(leaf, i, h.users.values().next().value!);
    } else {
      freed = t.ports(s);
      sk = t.sharingKey(s);
      bk = t.backendKey(s);
    }
    const gk = sk === '' ? null : groupKey(sk, bk);
    const group = gk === null ? undefined : fs.groups.get(gk);
    if (group !== undefined) {
      for (const p of freed) {
        const n = (group.portUse.get(p) ?? 1) - 1;
        if (n === 0) group.portUse.delete(p);
        else group.portUse.set(p, n);
      }
    }
    if (left > 0) return;
    if (group !== undefined) {
      fs.used.digitsAt(leaf, i, fs.c);
      group.members.delete(fs.c);
      if (group.members.size === 0) fs.groups.delete(gk!);
    }
    fs.used.removeAt(leaf, i);
  }
}

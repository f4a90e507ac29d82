// What each Service holds, in flat arrays: no object per Service.
//
// A /16 of allocations keeps 65,536 of these entries alive. As objects, every one is born in V8's young
// generation and copied by the next scavenges before it settles, which made garbage collection about a third of
// the cost of an allocation (CPU profile of the /16 fill). Here a Service is a slot: eight consecutive cells of
// one array (usually one or two cache lines), reached through one Map<string, slot> lookup, and the trie stores
// the slot number (a small integer, no pointer) at each address the Service holds alone. The cells live in
// fixed-size chunks, so growing never copies (doubling one big array and copying it was an eighth of a /16 fill),
// of 1,024 slots: a chunk is then an ordinary heap object rather than a large-object page faulted in fresh.
//
// Slots outlive release: release-then-allocate of one Service is the controller's everyday step (every re-claim
// of a status IP goes through it), and Map delete + set costs several times a lookup once the map is large. A
// released slot is only marked unheld; unheld slots are swept in bulk when they outnumber the held ones (and a
// floor), which keeps the cost O(1) amortized and the memory proportional to the Services that exist.
import type { TrieNode } from './ordinal-set.js';
import type { Family } from './types.js';

// Cells of a slot.
const KEY = 0;
const POOL = 1;
const LEAF0 = 2;
const LEAF1 = 3;
const PORTS = 4;
const SHARING_KEY = 5;
const BACKEND_KEY = 6;
/** A small integer: bit 0 held; bits 1-5 index of address 0 in its leaf; bits 6-10 of address 1; bit 11 set
 *  when address 0 is IPv6; bit 12 set when there is an address 1 (always the other family). */
const BITS = 7;
const STRIDE = 8;
/** Slots per chunk: 1,024 (8,192 cells, 64 KiB: an ordinary heap object, not a large-object-space page). */
const CHUNK_BITS = 10;
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;

const HELD = 1;
const V6_FIRST = 1 << 11;
const TWO = 1 << 12;

/** Unheld slots kept before a sweep: at least this many, and at least as many as held ones. */
const SWEEP_MIN = 1024;

export class ServiceTable<Pool> {
  private chunks: unknown[][] = [];
  private slots = new Map<string, number>();
  private free: number[] = [];
  /** Slots ever created. */
  private allocated = 0;
  private held = 0;

  /** Services holding addresses. */
  get size(): number {
    return this.held;
  }

  /** The Service's slot, held or not; -1 when it has none. */
  slotOf(key: string): number {
    return this.slots.get(key) ?? -1;
  }

  /** The slot of a Service that holds addresses; -1 otherwise. */
  heldSlot(key: string): number {
    const s = this.slotOf(key);
    return s >= 0 && this.isHeld(s) ? s : -1;
  }

  private cell(s: number, k: number): unknown {
    return this.chunks[s >> CHUNK_BITS]![(s & CHUNK_MASK) * STRIDE + k];
  }

  /** The chunk holding slot s; its cells start at (s & CHUNK_MASK) * STRIDE. */
  private chunk(s: number): unknown[] {
    return this.chunks[s >> CHUNK_BITS]!;
  }

  isHeld(s: number): boolean {
    return ((this.cell(s, BITS) as number) & HELD) !== 0;
  }

  key(s: number): string {
    return this.cell(s, KEY) as string;
  }

  pool(s: number): Pool {
    return this.cell(s, POOL) as Pool;
  }

  ports(s: number): readonly string[] {
    return this.cell(s, PORTS) as readonly string[];
  }

  sharingKey(s: number): string {
    return this.cell(s, SHARING_KEY) as string;
  }

  backendKey(s: number): string {
    return this.cell(s, BACKEND_KEY) as string;
  }

  /** 1 or 2. */
  addressCount(s: number): number {
    return ((this.cell(s, BITS) as number) & TWO) !== 0 ? 2 : 1;
  }

  /** The family of address n (0 or 1). */
  family(s: number, n: number): Family {
    const v6First = ((this.cell(s, BITS) as number) & V6_FIRST) !== 0;
    return v6First === (n === 0) ? 'ipv6' : 'ipv4';
  }

  /** The leaf holding address n; its index there is index(s, n). */
  leaf(s: number, n: number): TrieNode {
    return this.cell(s, (n === 0 ? LEAF0 : LEAF1)) as TrieNode;
  }

  index(s: number, n: number): number {
    return ((this.cell(s, BITS) as number) >> (n === 0 ? 1 : 6)) & 31;
  }

  /**
   * Marks the Service as holding addresses in `pool` (it must not hold any now) and returns its slot.
   * `known` is slotOf(key) when the caller has just looked it up, undefined when not.
   */
  hold(key: string, known: number | undefined, pool: Pool, ports: readonly string[], sk: string, bk: string): number {
    let s = known ?? this.slotOf(key);
    if (s < 0) {
      if (this.free.length > 0) {
        s = this.free.pop()!;
      } else {
        // A counter, not a length divided by STRIDE: a division is a float to V8, and a float stored in the
        // Map is a heap number allocated per Service.
        s = this.allocated++;
        if ((s & CHUNK_MASK) === 0) this.chunks.push(new Array<unknown>((CHUNK_MASK + 1) * STRIDE).fill(null));
      }
      this.slots.set(key, s);
    }
    const c = this.chunk(s);
    const o = (s & CHUNK_MASK) * STRIDE;
    c[o + KEY] = key;
    c[o + POOL] = pool;
    c[o + PORTS] = ports;
    c[o + SHARING_KEY] = sk;
    c[o + BACKEND_KEY] = bk;
    c[o + LEAF0] = null;
    c[o + LEAF1] = null;
    c[o + BITS] = HELD;
    this.held++;
    return s;
  }

  /** Records address n of a held slot: its leaf, its index there, its family. */
  setAddress(s: number, n: number, leaf: TrieNode, i: number, family: Family): void {
    const c = this.chunk(s);
    const o = (s & CHUNK_MASK) * STRIDE;
    let bits = c[o + BITS] as number;
    if (n === 0) {
      c[o + LEAF0] = leaf;
      bits = (bits & ~(31 << 1) & ~V6_FIRST) | (i << 1) | (family === 'ipv6' ? V6_FIRST : 0);
    } else {
      c[o + LEAF1] = leaf;
      bits = (bits & ~(31 << 6)) | (i << 6) | TWO;
    }
    c[o + BITS] = bits;
  }

  /** Marks a held slot unheld (its addresses must already be removed from the tries). */
  unhold(s: number): void {
    const c = this.chunk(s);
    const o = (s & CHUNK_MASK) * STRIDE;
    // Drop the references so pruned trie nodes and replaced pools can be collected.
    c[o + POOL] = null;
    c[o + LEAF0] = null;
    c[o + LEAF1] = null;
    c[o + BITS] = 0;
    this.held--;
    const unheld = this.slots.size - this.held;
    if (unheld > SWEEP_MIN && unheld > this.held) this.sweep();
  }

  /** Keys of the held slots, ascending. */
  heldKeys(): string[] {
    const keys: string[] = [];
    for (const [k, s] of this.slots) if (this.isHeld(s)) keys.push(k);
    return keys.sort();
  }

  /** Forgets every Service. */
  clear(): void {
    this.chunks = [];
    this.slots = new Map();
    this.free = [];
    this.allocated = 0;
    this.held = 0;
  }

  private sweep(): void {
    for (const [k, s] of this.slots) {
      if (this.isHeld(s)) continue;
      this.slots.delete(k);
      const c = this.chunk(s);
      const o = (s & CHUNK_MASK) * STRIDE;
      for (let i = 0; i < STRIDE; i++) c[o + i] = null;
      c[o + BITS] = 0;
      this.free.push(s);
    }
  }
}

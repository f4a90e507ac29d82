// A set of ordinals (positions 0..32^depth-1 inside one pool's address space) stored as a lazily built 32-ary
// trie. Each node keeps two 32-bit masks: `present` (child subtree non-empty, or at a leaf: ordinal in set) and
// `full` (child subtree completely in the set). That gives, in O(depth) = O(log32 capacity) each:
//   lowestAbsent() — the lowest free address, the allocator's main query (MetalLB scans from the pool start);
//   nextPresent()  — walk the addresses of one sharing group in ascending order;
//   add / delete / has.
// Memory grows with the number of members, not with the pool: a /64 IPv6 pool costs nothing until used, and
// empty subtrees are pruned on delete so releasing everything returns the trie to a bare root.
//
// Ordinals are passed as digit arrays (base 32, index 0 = least significant) so that the same code serves IPv4
// (numbers) and IPv6 (bigints); the address spaces in space.ts do the conversion.
//
// A member can also be addressed by its handle: the leaf node that holds it and its index there (`put` returns
// the leaf). Nodes know their parent and their index in it, so removing by handle walks up from the leaf and
// never recomputes digits: the allocator keeps each Service's handles and releases without any lookup.

export class TrieNode {
  present = 0;
  full = 0;
  readonly kids: (TrieNode | undefined)[] | null;
  /** Leaf payloads (OrdinalMap only): consecutive ordinals share a leaf, so lookups stay cache-local. */
  readonly vals: unknown[] | null;
  constructor(
    leaf: boolean,
    withValues: boolean,
    /** null for the root. */
    readonly parent: TrieNode | null,
    /** This node's index (digit) in its parent. */
    readonly slot: number,
  ) {
    this.kids = leaf ? null : new Array<TrieNode | undefined>(32);
    this.vals = leaf && withValues ? new Array<unknown>(32) : null;
  }
}

export type Digits = Uint8Array;

/** Index of the lowest set bit of a non-zero 32-bit mask. */
function lowestBit(mask: number): number {
  return 31 - Math.clz32(mask & -mask);
}

/** The trie with a value per member (the allocator keeps each address's users there). */
export class OrdinalMap<T> {
  readonly depth: number;
  private root: TrieNode;
  private count = 0;
  private readonly withValues: boolean;

  constructor(depth: number, withValues = true) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 26) throw new RangeError(`bad trie depth ${depth}`);
    this.depth = depth;
    this.withValues = withValues;
    this.root = new TrieNode(depth === 1, withValues, null, 0);
  }

  /** The leaf that would hold `d`; undefined when that leaf does not exist. */
  private leafOf(d: Digits): TrieNode | undefined {
    let node: TrieNode | undefined = this.root;
    for (let l = this.depth - 1; l > 0; l--) {
      node = node.kids![d[l]!];
      if (node === undefined) return undefined;
    }
    return node;
  }

  /** The member's value; undefined when absent. */
  get(d: Digits): T | undefined {
    const leaf = this.leafOf(d);
    return leaf !== undefined && (leaf.present & (1 << d[0]!)) !== 0 ? (leaf.vals?.[d[0]!] as T) : undefined;
  }

  get size(): number {
    return this.count;
  }

  /** True when every ordinal below 32^depth is present. */
  get saturated(): boolean {
    return this.root.full === -1;
  }

  has(d: Digits): boolean {
    const leaf = this.leafOf(d);
    return leaf !== undefined && (leaf.present & (1 << d[0]!)) !== 0;
  }

  /** Adds the ordinal with its value; false (and no change) if it was already present. */
  set(d: Digits, value: T): boolean {
    if (this.has(d)) return false;
    this.put(d, value);
    return true;
  }

  /**
   * Adds the ordinal, or replaces its value when present; returns the leaf holding it (its index there is
   * d[0]), the handle for valueAt / replaceAt / removeAt.
   */
  put(d: Digits, value: T): TrieNode {
    let node = this.root;
    for (let l = this.depth - 1; l > 0; l--) {
      const i = d[l]!;
      let kid = node.kids![i];
      if (kid === undefined) {
        kid = new TrieNode(l === 1, this.withValues, node, i);
        node.kids![i] = kid;
      }
      node = kid;
    }
    const leaf = node;
    const i = d[0]!;
    if (leaf.vals !== null) leaf.vals[i] = value;
    const bit = 1 << i;
    if ((leaf.present & bit) !== 0) return leaf;
    leaf.present |= bit;
    leaf.full = leaf.present;
    this.count++;
    // Up the tree while something changes: a parent's bit for a child is already set unless the child was
    // empty (present) or has just become full (full).
    let child = leaf;
    for (let parent = child.parent; parent !== null; parent = child.parent) {
      const b = 1 << child.slot;
      const hadPresent = (parent.present & b) !== 0;
      const nowFull = child.full === -1;
      if (hadPresent && !nowFull) break;
      parent.present |= b;
      if (nowFull) parent.full |= b;
      child = parent;
    }
    return leaf;
  }

  /** The value at a handle from put (the member must be present). */
  valueAt(leaf: TrieNode, i: number): T {
    return leaf.vals![i] as T;
  }

  /** Replaces the value of a present member in place. */
  replaceAt(leaf: TrieNode, i: number, value: T): void {
    leaf.vals![i] = value;
  }

  /** Removes the ordinal; false if it was absent. Prunes subtrees that become empty. */
  delete(d: Digits): boolean {
    const leaf = this.leafOf(d);
    if (leaf === undefined || (leaf.present & (1 << d[0]!)) === 0) return false;
    this.removeAt(leaf, d[0]!);
    return true;
  }

  /** Removes a present member by its handle, walking up from the leaf; prunes nodes that become empty. */
  removeAt(leaf: TrieNode, i: number): void {
    const bit = 1 << i;
    leaf.present &= ~bit;
    leaf.full = leaf.present;
    if (leaf.vals !== null) leaf.vals[i] = undefined;
    this.count--;
    let child = leaf;
    for (let parent = child.parent; parent !== null; parent = child.parent) {
      const b = 1 << child.slot;
      const wasFull = (parent.full & b) !== 0;
      const emptied = child.present === 0;
      // Nothing above changes when the parent neither loses a full child nor an entire child.
      if (!wasFull && !emptied) break;
      parent.full &= ~b;
      if (emptied) {
        parent.kids![child.slot] = undefined;
        parent.present &= ~b;
      }
      child = parent;
    }
  }

  /** Writes the digits of the member at a handle into `out`. */
  digitsAt(leaf: TrieNode, i: number, out: Digits): void {
    out[0] = i;
    let node = leaf;
    for (let l = 1; l < this.depth; l++) {
      out[l] = node.slot;
      node = node.parent!;
    }
  }

  /** Writes the lowest ordinal not in the set into `out`; false when the whole trie range is present. */
  lowestAbsent(out: Digits): boolean {
    let node: TrieNode | undefined = this.root;
    if (node.full === -1) return false;
    for (let l = this.depth - 1; l >= 0; l--) {
      if (node === undefined) {
        // An absent subtree is entirely free: its lowest ordinal has all remaining digits zero.
        out[l] = 0;
        continue;
      }
      const i = lowestBit(~node.full);
      out[l] = i;
      node = l > 0 ? node.kids![i] : undefined;
    }
    return true;
  }

  /** Writes the lowest member >= `from` into `out`; false when there is none. `from` and `out` may alias. */
  nextPresent(from: Digits, out: Digits): boolean {
    if (this.count === 0) return false;
    if (from !== out) out.set(from);
    return this.seek(this.root, this.depth - 1, out);
  }

  /** Lowest member, or false when empty. */
  first(out: Digits): boolean {
    if (this.count === 0) return false;
    this.descendMin(this.root, this.depth - 1, out);
    return true;
  }

  // On entry the digits above `l` equal those of the bound, so out[l] is this level's minimum.
  private seek(node: TrieNode, l: number, out: Digits): boolean {
    const start = out[l]!;
    if (l === 0) {
      const m = node.present & (-1 << start);
      if (m === 0) return false;
      out[0] = lowestBit(m);
      return true;
    }
    if ((node.present & (1 << start)) !== 0) {
      if (this.seek(node.kids![start]!, l - 1, out)) return true;
    }
    const m = start === 31 ? 0 : node.present & (-1 << (start + 1));
    if (m === 0) return false;
    const i = lowestBit(m);
    out[l] = i;
    this.descendMin(node.kids![i]!, l - 1, out);
    return true;
  }

  private descendMin(node: TrieNode, l: number, out: Digits): void {
    for (; l > 0; l--) {
      const i = lowestBit(node.present);
      out[l] = i;
      node = node.kids![i]!;
    }
    out[0] = lowestBit(node.present);
  }


  /** For tests: no node is left behind once the set is empty. */
  get isBare(): boolean {
    return this.root.present === 0 && this.root.full === 0 && (this.root.kids?.every((k) => k === undefined) ?? true);
  }
}

/** Membership only: no payload arrays in the leaves. */
export class OrdinalSet extends OrdinalMap<true> {
  constructor(depth: number) {
    super(depth, false);
  }

  add(d: Digits): boolean {
    return this.set(d, true);
  }
}

/** Compares two digit arrays of equal length as numbers. */
export function compareDigits(a: Digits, b: Digits): number {
  for (let l = a.length - 1; l >= 0; l--) {
    const x = a[l]!;
    const y = b[l]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Adds one in place; false on overflow past the top digit. */
export function incrementDigits(d: Digits): boolean {
  for (let l = 0; l < d.length; l++) {
    const x = d[l]!;
    if (x < 31) {
      d[l] = x + 1;
      return true;
    }
    d[l] = 0;
  }
  return false;
}

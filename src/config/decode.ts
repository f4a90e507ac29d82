// Strict YAML decoding with the semantics of MetalLB's `yaml.UnmarshalStrict` (gopkg.in/yaml.v2) into Go
// structs, done by walking the `yaml` package's AST rather than its JS output, because the Go rules depend on
// things toJS() loses:
//   - unknown and duplicate keys are errors, at every level;
//   - YAML 1.1 scalars: yes/no/on/off/y/n are booleans, and a *quoted* "false" is a string (an error in a bool);
//   - a plain scalar decodes into a string field as its source text (`hold-time: 90` is "90", `64512:10` stays
//     "64512:10" rather than a YAML 1.1 sexagesimal number);
//   - null leaves the Go zero value; quoted numbers in integer fields are errors.
// The output is "raw": present keys only, values typed but not yet validated (parse.ts does that).
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Document, type Node, type Scalar } from 'yaml';

export class DecodeError extends Error {}

type Kind = 'string' | 'bool' | 'uint16' | 'uint32' | 'int' | 'stringList' | 'stringMap';
interface ListOf {
  readonly list: StructSpec;
  /** Name of one item in messages, e.g. "peer" gives "peer #2". */
  readonly item: string;
}
type FieldSpec = Kind | ListOf;
export interface StructSpec {
  readonly [key: string]: FieldSpec;
}

export type RawValue = string | boolean | number | string[] | Array<[string, string]> | RawStruct[];
export interface RawStruct {
  /** Keys present and non-null in the YAML, in the spec's key spelling. */
  readonly fields: Map<string, RawValue>;
  readonly where: string;
  readonly line: number;
}

/**
 * Alias dereferences allowed while decoding one document, re-expansions through merge keys included. The same
 * number as the `yaml` package's `maxAliasCount` default (its toJS() is not used here, so its own counter never
 * runs): without a bound, five `<<: [*x, *x, *x, *x, *x]` levels in 400 bytes cost 5^8 expansions (17 s).
 */
export const MAX_ALIAS_COUNT = 100;

interface Ctx {
  readonly doc: Document;
  /** Alias dereferences so far (see MAX_ALIAS_COUNT). */
  aliases: number;
  readonly lines: LineCounter;
  /** Added to line numbers, so errors inside a ConfigMap's data.config point at the manifest's lines. */
  readonly lineOffset: number;
}

function lineOf(ctx: Ctx, node: Node | null | undefined): number {
  const pos = node?.range?.[0];
  return (pos === undefined ? 1 : ctx.lines.linePos(pos).line) + ctx.lineOffset;
}

function fail(ctx: Ctx, node: Node | null | undefined, msg: string): never {
  throw new DecodeError(`line ${lineOf(ctx, node)}: ${msg}`);
}

function deref(ctx: Ctx, node: unknown): Node | null {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    if (++ctx.aliases > MAX_ALIAS_COUNT) {
      fail(ctx, node, `too many YAML aliases: more than ${MAX_ALIAS_COUNT} alias expansions (merge keys count each time they are expanded)`);
    }
    const target = node.resolve(ctx.doc);
    // An alias to an undefined anchor: the yaml package reports it as a document error already; be safe.
    if (target === undefined) fail(ctx, node, `unknown YAML alias *${node.source}`);
    return deref(ctx, target);
  }
  return node as Node;
}

function isNullNode(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

const INT_RE = /^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$/;

/** The YAML tag yaml.v2 would report for this node (for "cannot unmarshal !!x" messages). */
function tagOf(node: Node): string {
  if (isMap(node)) return '!!map';
  if (isSeq(node)) return '!!seq';
  const s = node as Scalar;
  switch (typeof s.value) {
    case 'boolean':
      return '!!bool';
    case 'number':
      if (s.type === 'PLAIN' && INT_RE.test(s.source ?? '')) return '!!int';
      // yaml.v2 has no sexagesimal numbers: "1:20" is a string there.
      if ((s.source ?? '').includes(':')) return '!!str';
      return '!!float';
    case 'bigint':
      return '!!int';
    case 'string':
      return '!!str';
    default:
      return s.value === null ? '!!null' : '!!str';
  }
}

function scalarText(node: Scalar): string {
  if (typeof node.value === 'string') return node.value;
  return node.source ?? String(node.value);
}

function shown(node: Node): string {
  if (isScalar(node)) return JSON.stringify(scalarText(node));
  return isMap(node) ? 'mapping' : 'sequence';
}

function cannot(ctx: Ctx, node: Node, into: string, where: string): never {
  fail(ctx, node, `cannot unmarshal ${tagOf(node)} ${shown(node)} into ${into} (${where})`);
}

function decodeString(ctx: Ctx, node: Node, where: string): string {
  if (!isScalar(node)) cannot(ctx, node, 'string', where);
  return scalarText(node);
}

function decodeInt(ctx: Ctx, node: Node, kind: 'uint16' | 'uint32' | 'int', where: string): number {
  if (!isScalar(node) || tagOf(node) !== '!!int') {
    // Deliberately stricter than yaml.v2, which truncates floats (my-asn: 1.10 would become 1).
    cannot(ctx, node, kind, where);
  }
  const v = Number(node.value);
  const [min, max] = kind === 'uint16' ? [0, 0xffff] : kind === 'uint32' ? [0, 0xffffffff] : [-(2 ** 53), 2 ** 53];
  if (!Number.isSafeInteger(v) || v < min || v > max) cannot(ctx, node, kind, where);
  return v;
}

function decodeBool(ctx: Ctx, node: Node, where: string): boolean {
  if (!isScalar(node) || typeof node.value !== 'boolean') cannot(ctx, node, 'bool', where);
  return node.value;
}

/** Key/value pairs of a mapping, with YAML merge keys (`<<`) expanded the way yaml.v2 does. */
function mapEntries(ctx: Ctx, node: Node, where: string): Array<{ key: string; keyNode: Node; value: Node | null }> {
  if (!isMap(node)) fail(ctx, node, `cannot unmarshal ${tagOf(node)} into ${where}`);
  const explicit: Array<{ key: string; keyNode: Node; value: Node | null }> = [];
  const merged: Array<{ key: string; keyNode: Node; value: Node | null }> = [];
  for (const pair of node.items) {
    const keyNode = deref(ctx, pair.key);
    if (keyNode === null || !isScalar(keyNode)) fail(ctx, keyNode ?? node, `invalid key in ${where}: keys must be scalars`);
    const value = deref(ctx, pair.value);
    if (typeof keyNode.value === 'symbol' || keyNode.source === '<<') {
      const sources = value !== null && isSeq(value) ? value.items.map((i) => deref(ctx, i)) : [value];
      for (const src of sources) {
        if (src === null) continue;
        for (const e of mapEntries(ctx, src, where)) merged.push(e);
      }
      continue;
    }
    explicit.push({ key: scalarText(keyNode), keyNode, value });
  }
  const seen = new Set(explicit.map((e) => e.key));
  for (const e of merged) {
    if (!seen.has(e.key)) {
      seen.add(e.key);
      explicit.push(e);
    }
  }
  return explicit;
}

function decodeStringList(ctx: Ctx, node: Node, where: string): string[] {
  if (!isSeq(node)) cannot(ctx, node, '[]string', where);
  return node.items.map((item) => {
    const n = deref(ctx, item);
    return isNullNode(n) ? '' : decodeString(ctx, n as Node, where);
  });
}

function decodeStringMap(ctx: Ctx, node: Node, where: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const { key, keyNode, value } of mapEntries(ctx, node, where)) {
    if (seen.has(key)) fail(ctx, keyNode, `key ${JSON.stringify(key)} already set in ${where}`);
    seen.add(key);
    out.push([key, isNullNode(value) ? '' : decodeString(ctx, value as Node, `${key} in ${where}`)]);
  }
  return out;
}

function decodeStruct(ctx: Ctx, node: Node | null, spec: StructSpec, where: string): RawStruct {
  const fields = new Map<string, RawValue>();
  const line = lineOf(ctx, node);
  // A null item (a bare "-") decodes to an all-zero struct, as in Go.
  if (isNullNode(node)) return { fields, where, line };
  const seen = new Set<string>();
  for (const { key, keyNode, value } of mapEntries(ctx, node as Node, where)) {
    const fs = spec[key];
    if (fs === undefined) fail(ctx, keyNode, `field ${key} not found in ${where}`);
    if (seen.has(key)) fail(ctx, keyNode, `field ${key} already set in ${where}`);
    seen.add(key);
    if (isNullNode(value)) continue;
    const v = value as Node;
    const fieldWhere = `${key} of ${where}`;
    if (typeof fs === 'object') {
      if (!isSeq(v)) cannot(ctx, v, 'list', fieldWhere);
      fields.set(
        key,
        v.items.map((item, i) => decodeStruct(ctx, deref(ctx, item), fs.list, `${fs.item} #${i + 1}${where === 'config' ? '' : ` of ${where}`}`)),
      );
      continue;
    }
    switch (fs) {
      case 'string':
        fields.set(key, decodeString(ctx, v, fieldWhere));
        break;
      case 'bool':
        fields.set(key, decodeBool(ctx, v, fieldWhere));
        break;
      case 'uint16':
      case 'uint32':
      case 'int':
        fields.set(key, decodeInt(ctx, v, fs, fieldWhere));
        break;
      case 'stringList':
        fields.set(key, decodeStringList(ctx, v, fieldWhere));
        break;
      case 'stringMap':
        fields.set(key, decodeStringMap(ctx, v, where === 'config' ? key : fieldWhere));
        break;
    }
  }
  return { fields, where, line };
}

const MATCH_EXPRESSION: StructSpec = { key: 'string', operator: 'string', values: 'stringList' };
const NODE_SELECTOR: StructSpec = {
  'match-labels': 'stringMap',
  'match-expressions': { list: MATCH_EXPRESSION, item: 'match expression' },
};
const PEER: StructSpec = {
  'my-asn': 'uint32',
  'peer-asn': 'uint32',
  'peer-address': 'string',
  'peer-port': 'uint16',
  'hold-time': 'string',
  'keepalive-time': 'string',
  'router-id': 'string',
  'source-address': 'string',
  'node-selectors': { list: NODE_SELECTOR, item: 'node selector' },
  password: 'string',
  'bfd-profile': 'string',
  'ebgp-multihop': 'bool',
  // ingot extensions (not in MetalLB v0.12):
  'graceful-restart': 'bool',
  'graceful-restart-time': 'string',
  gtsm: 'bool',
};
const BGP_ADVERTISEMENT: StructSpec = {
  'aggregation-length': 'int',
  'aggregation-length-v6': 'int',
  localpref: 'uint32',
  communities: 'stringList',
};
const ADDRESS_POOL: StructSpec = {
  name: 'string',
  protocol: 'string',
  addresses: 'stringList',
  'avoid-buggy-ips': 'bool',
  'auto-assign': 'bool',
  'bgp-advertisements': { list: BGP_ADVERTISEMENT, item: 'bgp advertisement' },
};
const BFD_PROFILE: StructSpec = {
  name: 'string',
  'receive-interval': 'uint32',
  'transmit-interval': 'uint32',
  'detect-multiplier': 'uint32',
  'echo-interval': 'uint32',
  'echo-mode': 'bool',
  'passive-mode': 'bool',
  'minimum-ttl': 'uint32',
};
export const CONFIG_SPEC: StructSpec = {
  peers: { list: PEER, item: 'peer' },
  'bgp-communities': 'stringMap',
  'address-pools': { list: ADDRESS_POOL, item: 'address pool' },
  'bfd-profiles': { list: BFD_PROFILE, item: 'bfd profile' },
};

/** Decodes a parsed document's root against CONFIG_SPEC; throws DecodeError. */
export function decodeConfigDocument(doc: Document, lines: LineCounter, lineOffset = 0): RawStruct {
  const ctx: Ctx = { doc, lines, lineOffset, aliases: 0 };
  const root = deref(ctx, doc.contents);
  if (root !== null && !isNullNode(root) && !isMap(root)) fail(ctx, root, `cannot unmarshal ${tagOf(root)} into config`);
  return decodeStruct(ctx, root, CONFIG_SPEC, 'config');
}

/** Accessors with Go zero-value defaults, for parse.ts. */
export function str(s: RawStruct, key: string): string {
  const v = s.fields.get(key);
  return typeof v === 'string' ? v : '';
}
export function num(s: RawStruct, key: string): number | undefined {
  const v = s.fields.get(key);
  return typeof v === 'number' ? v : undefined;
}
export function bool(s: RawStruct, key: string): boolean | undefined {
  const v = s.fields.get(key);
  return typeof v === 'boolean' ? v : undefined;
}
export function strList(s: RawStruct, key: string): string[] {
  const v = s.fields.get(key);
  return Array.isArray(v) ? (v as string[]) : [];
}
export function strMap(s: RawStruct, key: string): Array<[string, string]> {
  const v = s.fields.get(key);
  return Array.isArray(v) ? (v as Array<[string, string]>) : [];
}
export function structs(s: RawStruct, key: string): RawStruct[] {
  const v = s.fields.get(key);
  return Array.isArray(v) ? (v as RawStruct[]) : [];
}

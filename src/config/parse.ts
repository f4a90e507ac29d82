// parseConfig: text → validated Config, with MetalLB v0.12's rules, error texts and pipeline order
// (spec §1.10): strict decode, BFD profiles, peers (+ BFD reference + duplicates), every community alias,
// pools (parse, duplicate name, overlap). The first error wins. Internally each stage throws ConfigError and
// the single catch in parseConfig turns it into a value, so bad input never escapes as an exception.
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type YAMLMap } from 'yaml';
import { compareLargeCommunities, parseCommunity } from './community.js';
import { bool, DecodeError, decodeConfigDocument, num, str, strList, strMap, structs, type RawStruct } from './decode.js';
import { goQuote, parseGoDuration, truncateToSeconds } from './duration.js';
import { formatIPAddress, parseCIDR, parseIP, summarizeRange } from '../ip/index.js';
import { MAX_NESTING, nestingTooDeep } from './nesting.js';
import { parseNodeSelector } from './selector.js';
import type {
  BfdProfile,
  BgpAdvertisement,
  Config,
  IPPrefix,
  LargeCommunity,
  NodeSelector,
  ParseResult,
  Peer,
  Pool,
  Protocol,
} from './types.js';

class ConfigError extends Error {}

function err(msg: string): never {
  throw new ConfigError(msg);
}

const q = goQuote;

/** MetalLB leaves unset BFD fields to FRR; these are FRR's (and MetalLB v0.13's CRD) defaults. */
export const BFD_DEFAULTS = {
  receiveInterval: 300,
  transmitInterval: 300,
  detectMultiplier: 3,
  echoInterval: 50,
  minimumTtl: 254,
} as const;

export const DEFAULT_HOLD_TIME = 90;
export const DEFAULT_GRACEFUL_RESTART_TIME = 120;
export const DEFAULT_PEER_PORT = 179;

// ---------------------------------------------------------------------------------------------- BFD profiles

function bfdInt(raw: RawStruct, key: string, min: number, max: number, what: string, dflt: number): number {
  const v = num(raw, key);
  if (v === undefined) return dflt;
  if (v < min || v > max) err(`invalid ${what} value: invalid value ${v}, must be in ${min}-${max} range`);
  return v;
}

function parseBfdProfile(raw: RawStruct): BfdProfile {
  const name = str(raw, 'name');
  if (name === '') err('missing bfd profile name');
  return {
    name,
    detectMultiplier: bfdInt(raw, 'detect-multiplier', 2, 255, 'detect multiplier', BFD_DEFAULTS.detectMultiplier),
    receiveInterval: bfdInt(raw, 'receive-interval', 10, 60000, 'receive interval', BFD_DEFAULTS.receiveInterval),
    transmitInterval: bfdInt(raw, 'transmit-interval', 10, 60000, 'transmit interval', BFD_DEFAULTS.transmitInterval),
    minimumTtl: bfdInt(raw, 'minimum-ttl', 1, 254, 'minimum ttl', BFD_DEFAULTS.minimumTtl),
    // MetalLB labels this one "invalid minimum ttl value" (a copy-paste bug); ingot names the right field.
    echoInterval: bfdInt(raw, 'echo-interval', 10, 60000, 'echo interval', BFD_DEFAULTS.echoInterval),
    echoMode: bool(raw, 'echo-mode') ?? false,
    passiveMode: bool(raw, 'passive-mode') ?? false,
  };
}

// ---------------------------------------------------------------------------------------------------- peers

function durationSeconds(text: string, what: string): number {
  const d = parseGoDuration(text);
  if (!d.ok) err(`invalid ${what} ${q(text)}: ${d.error}`);
  return truncateToSeconds(d.nanoseconds);
}

/** An entry that selects everything makes an ORed list select everything: normalize such lists to []. */
function parseNodeSelectors(raws: readonly RawStruct[]): NodeSelector[] {
  const out: NodeSelector[] = [];
  for (const raw of raws) {
    const r = parseNodeSelector({
      matchLabels: strMap(raw, 'match-labels'),
      matchExpressions: structs(raw, 'match-expressions').map((e) => ({
        key: str(e, 'key'),
        operator: str(e, 'operator'),
        values: strList(e, 'values'),
      })),
    });
    if (!r.ok) err(`parsing node selector: ${r.error}`);
    out.push(r.selector);
  }
  const selectsAll = out.some((s) => Object.keys(s.matchLabels).length === 0 && s.matchExpressions.length === 0);
  return selectsAll ? [] : out;
}

/** Linux include/uapi/linux/tcp.h TCP_MD5SIG_MAXKEYLEN: the longest key setsockopt(TCP_MD5SIG) accepts. */
export const TCP_MD5_MAX_KEY_LENGTH = 80;

function parsePeer(raw: RawStruct): Peer {
  const myASN = num(raw, 'my-asn') ?? 0;
  const peerASN = num(raw, 'peer-asn') ?? 0;
  const ebgpMultihop = bool(raw, 'ebgp-multihop') ?? false;
  const gtsm = bool(raw, 'gtsm') ?? false;
  if (myASN === 0) err('missing local ASN');
  if (peerASN === 0) err('missing peer ASN');
  if (ebgpMultihop && myASN === peerASN) err('invalid ebgp-multihop parameter set for an ibgp peer');
  // RFC 5082 §3: GTSM requires TTL 255 on receipt, i.e. a directly connected peer; multihop defeats it.
  if (gtsm && ebgpMultihop) err('invalid gtsm parameter: gtsm cannot be combined with ebgp-multihop');

  const addrText = str(raw, 'peer-address');
  const addr = parseIP(addrText);
  if (addr === null) err(`invalid peer IP ${q(addrText)}`);

  const holdText = str(raw, 'hold-time');
  let holdTime = DEFAULT_HOLD_TIME;
  if (holdText !== '') {
    holdTime = durationSeconds(holdText, 'hold time');
    if (holdTime !== 0 && holdTime < 3) err(`invalid hold time ${q(holdText)}: must be 0 or >=3s`);
    // RFC 4271 §4.2: Hold Time is a 16-bit field. MetalLB does not check and overflows it; ingot refuses.
    if (holdTime > 65535) err(`invalid hold time ${q(holdText)}: must be at most 65535s`);
  }

  const kaText = str(raw, 'keepalive-time');
  let keepaliveTime = Math.floor(holdTime / 3);
  if (kaText !== '') {
    keepaliveTime = durationSeconds(kaText, 'keepalive time');
    // MetalLB only checks "> hold"; a negative interval is meaningless, so ingot rejects it with the same text.
    if (keepaliveTime > holdTime || keepaliveTime < 0) err(`invalid keepaliveTime ${q(kaText)}`);
  }

  const grText = str(raw, 'graceful-restart-time');
  let gracefulRestartTime = DEFAULT_GRACEFUL_RESTART_TIME;
  if (grText !== '') {
    gracefulRestartTime = durationSeconds(grText, 'graceful restart time');
    // RFC 4724 §3: Restart Time is a 12-bit field of seconds.
    if (gracefulRestartTime < 1 || gracefulRestartTime > 4095) {
      err(`invalid graceful restart time ${q(grText)}: must be between 1s and 4095s`);
    }
  }

  const port = num(raw, 'peer-port') ?? 0;
  const peerPort = port === 0 ? DEFAULT_PEER_PORT : port;

  const ridText = str(raw, 'router-id');
  let routerID: string | null = null;
  if (ridText !== '') {
    const rid = parseIP(ridText);
    if (rid === null) err(`invalid router ID ${q(ridText)}`);
    routerID = formatIPAddress(rid);
  }

  const srcText = str(raw, 'source-address');
  let sourceAddress: string | null = null;
  if (srcText !== '') {
    const src = parseIP(srcText);
    if (src === null) err(`invalid source IP ${q(srcText)}`);
    sourceAddress = formatIPAddress(src);
  }

  const nodeSelectors = parseNodeSelectors(structs(raw, 'node-selectors'));
  const password = str(raw, 'password');
  // RFC 2385 keys go to the kernel with setsockopt(TCP_MD5SIG), which refuses more than
  // TCP_MD5SIG_MAXKEYLEN (80) octets. Caught here so `config validate` says so, instead of the speaker
  // failing on that peer's socket. Octets of UTF-8, as the key is handed over; the value itself is a secret
  // and is not printed.
  const passwordBytes = new TextEncoder().encode(password).length;
  if (passwordBytes > TCP_MD5_MAX_KEY_LENGTH) {
    err(`invalid password: ${passwordBytes} bytes, TCP-MD5 keys are at most ${TCP_MD5_MAX_KEY_LENGTH} bytes (Linux TCP_MD5SIG_MAXKEYLEN)`);
  }
  const bfdProfile = str(raw, 'bfd-profile');

  return {
    myASN,
    peerASN,
    peerAddress: formatIPAddress(addr),
    peerPort,
    holdTime,
    keepaliveTime,
    routerID,
    sourceAddress,
    ebgpMultihop,
    password: password === '' ? null : password,
    bfdProfile: bfdProfile === '' ? null : bfdProfile,
    nodeSelectors,
    gracefulRestart: bool(raw, 'graceful-restart') ?? false,
    gracefulRestartTime,
    gtsm,
  };
}

// ---------------------------------------------------------------------------------------------------- pools

/** MetalLB's ParseCIDR: a CIDR (host bits masked) or an `a-b` range turned into its minimal CIDR cover. */
export function parseAddressEntry(entry: string): { ok: true; prefixes: IPPrefix[] } | { ok: false; error: string } {
  const dash = entry.indexOf('-');
  if (dash === -1) {
    const p = parseCIDR(entry);
    return p === null ? { ok: false, error: `invalid CIDR ${q(entry)}` } : { ok: true, prefixes: [p] };
  }
  const startText = entry.slice(0, dash);
  const endText = entry.slice(dash + 1);
  const start = parseIP(startText.trim());
  if (start === null) return { ok: false, error: `invalid IP range ${q(entry)}: invalid start IP ${q(startText)}` };
  const end = parseIP(endText.trim());
  if (end === null) return { ok: false, error: `invalid IP range ${q(entry)}: invalid end IP ${q(endText)}` };
  const s = formatIPAddress(start);
  const e = formatIPAddress(end);
  // MetalLB accepts a mixed-family range and silently yields zero addresses (spec §1.7); ingot says so.
  if (start.family !== end.family) {
    return { ok: false, error: `invalid IP range ${q(entry)}: start IP ${q(s)} and end IP ${q(e)} are of different families` };
  }
  if (start.value > end.value) {
    return { ok: false, error: `invalid IP range ${q(entry)}: start IP ${q(s)} is after the end IP ${q(e)}` };
  }
  return { ok: true, prefixes: summarizeRange(start.family, start.value, end.value) };
}

interface AliasTable {
  get(name: string): string | undefined;
}

function parseBgpAdvertisements(
  raws: readonly RawStruct[],
  entries: ReadonlyArray<{ entry: string; prefixes: IPPrefix[] }>,
  aliases: AliasTable,
): BgpAdvertisement[] {
  if (raws.length === 0) {
    return [{ aggregationLength: 32, aggregationLengthV6: 128, localPref: 0, communities: [], largeCommunities: [] }];
  }
  // Raw deep equality (unset differs from an explicit default), as MetalLB compares the decoded structs.
  const rawKey = (r: RawStruct): string => JSON.stringify([...r.fields.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  for (let i = 0; i < raws.length - 1; i++) {
    for (let j = i + 1; j < raws.length; j++) {
      if (rawKey(raws[i] as RawStruct) === rawKey(raws[j] as RawStruct)) {
        err(`duplicate definition of bgpadvertisements. advertisement ${i + 1} and ${j + 1} are equal`);
      }
    }
  }
  const out: BgpAdvertisement[] = [];
  for (const raw of raws) {
    const rawCommunities = strList(raw, 'communities');
    for (let i = 0; i < rawCommunities.length - 1; i++) {
      for (let j = i + 1; j < rawCommunities.length; j++) {
        if (rawCommunities[i] === rawCommunities[j]) err(`duplicate definition of community ${q(rawCommunities[i] ?? '')}`);
      }
    }
    const aggregationLength = num(raw, 'aggregation-length') ?? 32;
    // MetalLB prints these lengths with Go's %q on an int (a rune literal); ingot prints the number. It also
    // rejects negative lengths here instead of letting them fail (or, for an unused family, pass) later.
    if (aggregationLength > 32 || aggregationLength < 0) err(`invalid aggregation length ${q(String(aggregationLength))} for IPv4`);
    const aggregationLengthV6 = num(raw, 'aggregation-length-v6') ?? 128;
    if (aggregationLengthV6 > 128 || aggregationLengthV6 < 0) {
      err(`invalid aggregation length ${q(String(aggregationLengthV6))} for IPv6`);
    }
    // v0.12 rule, per `addresses` entry: the aggregate may not be longer than the entry's largest block.
    for (const { entry, prefixes } of entries) {
      const first = prefixes[0];
      if (first === undefined) continue;
      const maxLength = first.family === 4 ? aggregationLength : aggregationLengthV6;
      const lowest = Math.min(...prefixes.map((p) => p.length));
      if (maxLength < lowest) {
        // MetalLB prints the IPv4 length even for IPv6 entries; ingot prints the length that was compared.
        err(
          `invalid aggregation length ${maxLength}: prefix ${q(String(lowest))} in this pool is more specific than the aggregation length for addresses ${entry}`,
        );
      }
    }
    const localPref = num(raw, 'localpref') ?? 0;
    const standard = new Set<number>();
    const large = new Map<string, LargeCommunity>();
    for (const c0 of rawCommunities) {
      const c = aliases.get(c0) ?? c0;
      const r = parseCommunity(c);
      if (!r.ok) err(`invalid community ${q(c)} in BGP advertisement: ${r.error}`);
      if (r.value.kind === 'standard') standard.add(r.value.value);
      else large.set(JSON.stringify(r.value.value), r.value.value);
    }
    out.push({
      aggregationLength,
      aggregationLengthV6,
      localPref,
      communities: [...standard].sort((a, b) => a - b),
      largeCommunities: [...large.values()].sort(compareLargeCommunities),
    });
  }
  return out;
}

function parseAddressPool(raw: RawStruct, aliases: AliasTable): Pool {
  const name = str(raw, 'name');
  if (name === '') err('missing pool name');
  const addresses = strList(raw, 'addresses');
  if (addresses.length === 0) err('pool has no prefixes defined');
  const entries: Array<{ entry: string; prefixes: IPPrefix[] }> = [];
  for (const entry of addresses) {
    const r = parseAddressEntry(entry);
    if (!r.ok) err(`invalid CIDR ${q(entry)} in pool ${q(name)}: ${r.error}`);
    entries.push({ entry, prefixes: r.prefixes });
  }
  const protocolText = str(raw, 'protocol');
  const ads = structs(raw, 'bgp-advertisements');
  let protocol: Protocol;
  let bgpAdvertisements: BgpAdvertisement[] = [];
  switch (protocolText) {
    case 'layer2':
      protocol = 'layer2';
      if (ads.length > 0) err('cannot have bgp-advertisements configuration element in a layer2 address pool');
      break;
    case 'bgp':
      protocol = 'bgp';
      try {
        bgpAdvertisements = parseBgpAdvertisements(ads, entries, aliases);
      } catch (e) {
        // MetalLB wraps every advertisement error this way, aggregation errors included; kept for log parity.
        if (e instanceof ConfigError) err(`parsing BGP communities: ${e.message}`);
        throw e;
      }
      break;
    case '':
      err('address pool is missing the protocol field');
    default:
      err(`unknown protocol ${q(protocolText)}`);
  }
  const prefixes = entries.flatMap((e) => e.prefixes);
  return {
    name,
    protocol,
    cidrs: prefixes.map((p) => p.text),
    prefixes,
    autoAssign: bool(raw, 'auto-assign') ?? true,
    avoidBuggyIPs: bool(raw, 'avoid-buggy-ips') ?? false,
    bgpAdvertisements,
    nodeSelectors: [],
  };
}

// ------------------------------------------------------------------------------------------------- pipeline

function buildConfig(root: RawStruct): Config {
  const bfdProfiles: BfdProfile[] = [];
  structs(root, 'bfd-profiles').forEach((raw, i) => {
    let p: BfdProfile;
    try {
      p = parseBfdProfile(raw);
    } catch (e) {
      if (e instanceof ConfigError) err(`parsing bfd profile #${i + 1}: ${e.message}`);
      throw e;
    }
    if (bfdProfiles.some((b) => b.name === p.name)) err(`found duplicate bfd profile name ${p.name}`);
    bfdProfiles.push(p);
  });

  const peers: Peer[] = [];
  const peerKeys: string[] = [];
  structs(root, 'peers').forEach((raw, i) => {
    let p: Peer;
    try {
      p = parsePeer(raw);
    } catch (e) {
      if (e instanceof ConfigError) err(`parsing peer #${i + 1}: ${e.message}`);
      throw e;
    }
    if (p.bfdProfile !== null && !bfdProfiles.some((b) => b.name === p.bfdProfile)) {
      err(`peer #${i + 1} referencing non existing bfd profile ${p.bfdProfile}`);
    }
    // Only a field-for-field identical peer is a duplicate (MetalLB: reflect.DeepEqual).
    const key = JSON.stringify(p);
    if (peerKeys.includes(key)) err(`peer #${i + 1} already exists`);
    peerKeys.push(key);
    peers.push(p);
  });

  // Every alias is checked, used or not. MetalLB walks a Go map (random order); ingot uses file order.
  const aliases = new Map<string, string>();
  for (const [name, value] of strMap(root, 'bgp-communities')) {
    const r = parseCommunity(value);
    if (!r.ok) err(`parsing community ${q(name)}: ${r.error}`);
    aliases.set(name, value);
  }

  const pools: Pool[] = [];
  const accepted: Array<{ prefix: IPPrefix }> = [];
  structs(root, 'address-pools').forEach((raw, i) => {
    let pool: Pool;
    try {
      pool = parseAddressPool(raw, aliases);
    } catch (e) {
      if (e instanceof ConfigError) err(`parsing address pool #${i + 1}: ${e.message}`);
      throw e;
    }
    if (pools.some((p) => p.name === pool.name)) err(`duplicate definition of pool ${q(pool.name)}`);
    // Global, and also within the pool: each block against every block accepted before it.
    for (const prefix of pool.prefixes) {
      for (const a of accepted) {
        if (a.prefix.family === prefix.family && a.prefix.first <= prefix.last && prefix.first <= a.prefix.last) {
          err(`CIDR ${q(prefix.text)} in pool ${q(pool.name)} overlaps with already defined CIDR ${q(a.prefix.text)}`);
        }
      }
      accepted.push({ prefix });
    }
    pools.push(pool);
  });

  return { peers, pools, bfdProfiles };
}

// ------------------------------------------------------------------------------------- documents and manifests

const YAML_OPTIONS = { version: '1.1', uniqueKeys: false, prettyErrors: false, merge: true } as const;

interface Source {
  readonly docs: Document[];
  readonly lines: LineCounter;
  /** Line of the enclosing manifest just before this text starts (0 for a file's own text). */
  readonly lineOffset: number;
}

/** Parses every YAML document; a syntax error becomes "line N: <what>" with N counted in the file. */
function parseDocs(text: string, lineOffset: number): Source {
  // Before the (recursive) parser: see nesting.ts for why a too-deep text must never reach it.
  const deep = nestingTooDeep(text);
  if (deep !== null) err(`could not parse config: line ${deep.line + lineOffset}: nested more than ${MAX_NESTING} levels deep`);
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { ...YAML_OPTIONS, lineCounter: lines });
  const docs = Array.isArray(parsed) ? (parsed as Document[]) : [];
  for (const d of docs) {
    const e = d.errors[0];
    if (e === undefined) continue;
    // The yaml package appends its own "at line L, column C" (relative to `text`); ours is file-relative.
    const what = (e.message.split('\n')[0] ?? e.message).replace(/:$/, '').replace(/ at line \d+, column \d+$/, '');
    err(`could not parse config: line ${lines.linePos(e.pos[0]).line + lineOffset}: ${what}`);
  }
  return { docs: docs.filter((d) => d.contents !== null), lines, lineOffset };
}

function topLevelScalar(doc: Document, key: string): string | undefined {
  return scalarIn(doc.contents, key);
}

function scalarIn(node: unknown, key: string): string | undefined {
  if (!isMap(node)) return undefined;
  const v = node.get(key, true);
  return isScalar(v) && typeof v.value === 'string' ? v.value : undefined;
}

function looksLikeManifest(doc: Document): boolean {
  const root = doc.contents;
  return isMap(root) && (root.has('kind') || root.has('apiVersion'));
}

/**
 * The ConfigMap in a `kind: List` (what `kubectl get configmap -o yaml` prints without a name): the one item
 * that is a ConfigMap with a data.config, or, among several, the one named `config` (MetalLB's name for it).
 */
function listConfigMap(doc: Document): YAMLMap {
  const root = doc.contents;
  const items = isMap(root) ? root.get('items', true) : undefined;
  if (!isSeq(items)) err('could not parse config: the List has no items');
  const cms = items.items.filter((i): i is YAMLMap => {
    if (!isMap(i) || scalarIn(i, 'kind') !== 'ConfigMap') return false;
    const data = i.get('data', true);
    return isMap(data) && isScalar(data.get('config', true));
  });
  const nameOf = (m: YAMLMap): string => scalarIn(m.get('metadata', true), 'name') ?? '';
  if (cms.length === 1) return cms[0]!;
  const named = cms.filter((m) => nameOf(m) === 'config');
  if (named.length === 1) return named[0]!;
  const names = cms.map((m) => q(nameOf(m))).join(', ');
  err(
    cms.length === 0
      ? `could not parse config: the List of ${items.items.length} items has no ConfigMap with a data.config`
      : `could not parse config: the List has ${cms.length} ConfigMaps with a data.config (${names}) and none, or several, named "config"`,
  );
}

/** The embedded config of a ConfigMap (a document, or an item of a List), parsed, with line numbers still
 *  counted in the manifest. */
function configMapSource(node: unknown, outer: Source): Source {
  const kind = scalarIn(node, 'kind');
  if (kind !== 'ConfigMap') err(`could not parse config: manifest of kind ${q(kind ?? '')} is not a ConfigMap`);
  const root = node;
  const data = isMap(root) ? root.get('data', true) : undefined;
  const config = isMap(data) ? data.get('config', true) : undefined;
  if (!isScalar(config) || typeof config.value !== 'string') {
    err('could not parse config: the ConfigMap has no data.config string (MetalLB reads its config from that key)');
  }
  // A block scalar's content starts on the line after its indicator; other styles only get approximate lines.
  const block = config.type === 'BLOCK_LITERAL' || config.type === 'BLOCK_FOLDED';
  const at = outer.lines.linePos(config.range?.[0] ?? 0).line + outer.lineOffset;
  return parseDocs(config.value, block ? at : at - 1);
}

function buildFromSource(src: Source): Config {
  if (src.docs.length === 0) return { peers: [], pools: [], bfdProfiles: [] };
  if (src.docs.length > 1) err('could not parse config: expected one YAML document, found several');
  let root: RawStruct;
  try {
    root = decodeConfigDocument(src.docs[0] as Document, src.lines, src.lineOffset);
  } catch (e) {
    if (e instanceof DecodeError) err(`could not parse config: ${e.message}`);
    throw e;
  }
  return buildConfig(root);
}

function parseAny(text: string): Config {
  const src = parseDocs(text, 0);
  const manifests = src.docs.filter(looksLikeManifest);
  if (manifests.length === 0) return buildFromSource(src);
  if (src.docs.length === 1) {
    const doc = manifests[0] as Document;
    const node = topLevelScalar(doc, 'kind') === 'List' ? listConfigMap(doc) : doc.contents;
    return buildFromSource(configMapSource(node, src));
  }
  // A multi-document manifest file (e.g. Namespace + ConfigMap): use the one ConfigMap in it.
  const cms = manifests.filter((d) => topLevelScalar(d, 'kind') === 'ConfigMap');
  if (cms.length !== 1) {
    err(`could not parse config: expected exactly one ConfigMap among ${src.docs.length} YAML documents, found ${cms.length}`);
  }
  return buildFromSource(configMapSource((cms[0] as Document).contents, src));
}

/**
 * Parses and validates a MetalLB v0.12 config: either the YAML under the ConfigMap's `data.config`, or a whole
 * ConfigMap manifest (detected by a top-level `kind`/`apiVersion`), alone, among other documents, or in a
 * `kind: List`. Never throws on bad input.
 */
export function parseConfig(text: string): ParseResult {
  try {
    return { ok: true, config: parseAny(text) };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, error: e.message };
    // Defensive: an unexpected failure is still reported as a value, never thrown at the caller.
    return { ok: false, error: `could not parse config: ${e instanceof Error ? e.message : String(e)}` };
  }
}

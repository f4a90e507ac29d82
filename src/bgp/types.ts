// Decoded BGP messages: readonly plain objects in a union discriminated on `type`.
// `decodeMessage` produces them and `encodeMessage` consumes them; encode∘decode is the identity on
// valid input (README.md lists the few wire details that are normalised).
//
// Prefixes are never one object per prefix: a PrefixList is a span of bytes in NLRI wire encoding
// (RFC 4271 §4.3), usually a span of the received message itself. nlri.ts reads and builds them.
import type {
  AddPathMode,
  Afi,
  AsPathSegmentType,
  CapabilityCode,
  MessageType,
  NotificationCode,
  Origin,
  RouteRefreshSubtype,
  Safi,
} from './constants.js';
import type { BgpError } from './errors.js';

/** An address family as negotiated by MP-BGP (RFC 4760). */
export interface Family {
  readonly afi: Afi;
  readonly safi: Safi;
}

/**
 * Prefixes of one address family in NLRI wire encoding: per prefix one length octet, then
 * ceil(length/8) address octets. `bytes[start..end)` holds exactly `count` prefixes; decoded lists point
 * into the received message (do not mutate it while the message is in use). Build with `ipv4Prefixes`,
 * `ipv6Prefixes` or `parsePrefixes`; read with `forEachPrefix`, `ipv4PrefixArrays`, `prefixStrings`.
 */
export interface PrefixList {
  readonly afi: Afi;
  readonly count: number;
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly end: number;
}

// ---- capabilities (RFC 5492) ---------------------------------------------------------------------------

export interface MultiProtocolCapability {
  readonly kind: 'multiprotocol';
  readonly code: CapabilityCode.MultiProtocol;
  readonly afi: Afi;
  readonly safi: Safi;
}
export interface RouteRefreshCapability {
  readonly kind: 'route-refresh';
  readonly code: CapabilityCode.RouteRefresh;
}
export interface ExtendedMessageCapability {
  readonly kind: 'extended-message';
  readonly code: CapabilityCode.ExtendedMessage;
}
export interface EnhancedRouteRefreshCapability {
  readonly kind: 'enhanced-route-refresh';
  readonly code: CapabilityCode.EnhancedRouteRefresh;
}
export interface FourOctetAsCapability {
  readonly kind: 'four-octet-as';
  readonly code: CapabilityCode.FourOctetAs;
  readonly asn: number;
}
export interface GracefulRestartFamily {
  readonly afi: Afi;
  readonly safi: Safi;
  /** Flags octet; bit 0x80 (GR_FORWARDING_STATE) is "forwarding state preserved". */
  readonly flags: number;
}
export interface GracefulRestartCapability {
  readonly kind: 'graceful-restart';
  readonly code: CapabilityCode.GracefulRestart;
  /** The 4 flag bits (GracefulRestartFlag: R = 0x8, N = 0x4). */
  readonly flags: number;
  /** Restart Time in seconds, 0–4095. */
  readonly restartTime: number;
  readonly families: readonly GracefulRestartFamily[];
}
export interface AddPathFamily {
  readonly afi: Afi;
  readonly safi: Safi;
  readonly mode: AddPathMode;
}
export interface AddPathCapability {
  readonly kind: 'add-path';
  readonly code: CapabilityCode.AddPath;
  readonly families: readonly AddPathFamily[];
}
export interface FqdnCapability {
  readonly kind: 'fqdn';
  readonly code: CapabilityCode.Fqdn;
  readonly hostname: string;
  readonly domainName: string;
}
/** Any capability not decoded above, or a known one whose value this codec cannot represent exactly. */
export interface UnknownCapability {
  readonly kind: 'unknown';
  readonly code: number;
  readonly value: Uint8Array;
}
export type Capability =
  | MultiProtocolCapability
  | RouteRefreshCapability
  | ExtendedMessageCapability
  | EnhancedRouteRefreshCapability
  | FourOctetAsCapability
  | GracefulRestartCapability
  | AddPathCapability
  | FqdnCapability
  | UnknownCapability;

/** An OPEN optional parameter other than Capabilities (type 2), kept opaque. RFC 4271 §6.2 says to reject
 * these with Unsupported Optional Parameter; the codec keeps them so the session can do that (fsm.ts). */
export interface OptionalParameter {
  readonly type: number;
  readonly value: Uint8Array;
}

// ---- messages ------------------------------------------------------------------------------------------

export interface OpenMessage {
  readonly type: MessageType.Open;
  readonly version: number;
  /** The 2-octet "My Autonomous System" field: AS_TRANS when the real AS needs 4 octets (see `openAsn`). */
  readonly myAs: number;
  readonly holdTime: number;
  /** BGP Identifier as an unsigned 32-bit number. */
  readonly bgpIdentifier: number;
  readonly capabilities: readonly Capability[];
  /** Optional parameters that are not capabilities (normally none; RFC 5492 deprecates the others). */
  readonly parameters: readonly OptionalParameter[];
  /**
   * How `capabilities` and `parameters` were grouped into optional parameters on the wire, so that a decoded
   * OPEN re-encodes byte for byte. Entry n ≥ 0: one Capabilities parameter holding the next n capabilities;
   * entry -1: the next entry of `parameters`. Absent means "all capabilities in one parameter (none if there
   * are no capabilities), then `parameters`", which is what the encoder does by default. FRR, for one, sends
   * one parameter per capability.
   */
  readonly parameterLayout?: readonly number[];
  /** Use the RFC 9072 extended optional-parameters length even if the parameters fit in 255 octets. */
  readonly extendedParameters?: boolean;
}

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  readonly asns: readonly number[];
}
export interface LargeCommunity {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

/**
 * Path attributes, discriminated on `kind`. `flags` is the Attribute Flags octet: the encoder writes the
 * Optional/Transitive/Partial bits as given (`attribute()` in attributes.ts fills in the RFC values) and
 * uses the 2-octet length whenever the ExtendedLength bit is set or the value exceeds 255 octets. Decoded
 * attributes carry ExtendedLength only when the value is ≤ 255 octets (the one case the bit adds information).
 */
export type PathAttribute =
  | { readonly kind: 'origin'; readonly flags: number; readonly origin: Origin }
  | { readonly kind: 'as-path'; readonly flags: number; readonly segments: readonly AsPathSegment[] }
  | { readonly kind: 'next-hop'; readonly flags: number; readonly nextHop: number }
  | { readonly kind: 'med'; readonly flags: number; readonly med: number }
  | { readonly kind: 'local-pref'; readonly flags: number; readonly localPref: number }
  | { readonly kind: 'atomic-aggregate'; readonly flags: number }
  /** AGGREGATOR: `asn` is 2 or 4 octets on the wire according to CodecContext.as4. */
  | { readonly kind: 'aggregator'; readonly flags: number; readonly asn: number; readonly address: number }
  /** COMMUNITIES (RFC 1997): each one a 32-bit number (high 16 bits AS, low 16 bits value). */
  | { readonly kind: 'communities'; readonly flags: number; readonly communities: readonly number[] }
  | {
      readonly kind: 'mp-reach';
      readonly flags: number;
      readonly afi: Afi;
      readonly safi: Safi;
      /** 4 (IPv4), 16 (IPv6 global) or 32 (global + link-local) octets. */
      readonly nextHop: Uint8Array;
      readonly nlri: PrefixList;
    }
  | {
      readonly kind: 'mp-unreach';
      readonly flags: number;
      readonly afi: Afi;
      readonly safi: Safi;
      readonly withdrawn: PrefixList;
    }
  /** EXTENDED_COMMUNITIES (RFC 4360): `value` is 8 octets per community. */
  | { readonly kind: 'extended-communities'; readonly flags: number; readonly value: Uint8Array }
  | { readonly kind: 'as4-path'; readonly flags: number; readonly segments: readonly AsPathSegment[] }
  | { readonly kind: 'as4-aggregator'; readonly flags: number; readonly asn: number; readonly address: number }
  | { readonly kind: 'large-communities'; readonly flags: number; readonly communities: readonly LargeCommunity[] }
  /** Any other attribute (also ORIGINATOR_ID, CLUSTER_LIST), value kept as received. */
  | { readonly kind: 'unknown'; readonly code: number; readonly flags: number; readonly value: Uint8Array };

export type PathAttributeKind = PathAttribute['kind'];
export type PathAttributeOf<K extends PathAttributeKind> = Extract<PathAttribute, { kind: K }>;

export interface UpdateMessage {
  readonly type: MessageType.Update;
  /** IPv4 unicast withdrawn routes (the UPDATE's own field). */
  readonly withdrawn: PrefixList;
  /** Path attributes in wire order. */
  readonly attributes: readonly PathAttribute[];
  /** IPv4 unicast NLRI (the UPDATE's own field). */
  readonly nlri: PrefixList;
  /**
   * Attributes that failed validation with the RFC 7606 `attribute-discard` approach and were left out of
   * `attributes` (absent when there were none). Informational: the UPDATE is otherwise valid.
   */
  readonly discarded?: readonly BgpError[];
}

export interface NotificationMessage {
  readonly type: MessageType.Notification;
  readonly code: NotificationCode;
  readonly subcode: number;
  readonly data: Uint8Array;
}

export interface KeepaliveMessage {
  readonly type: MessageType.Keepalive;
}

export interface RouteRefreshMessage {
  readonly type: MessageType.RouteRefresh;
  readonly afi: Afi;
  readonly safi: Safi;
  /** RFC 7313 subtype (0 = normal request, 1 = BoRR, 2 = EoRR); other values are to be ignored by the caller. */
  readonly subtype: RouteRefreshSubtype;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

// ---- negotiated context ----------------------------------------------------------------------------------

/**
 * What the two OPENs negotiated and the codec must know: built by `negotiateContext` (context.ts), passed to
 * every decode/encode. The codec keeps no session state of its own.
 */
export interface CodecContext {
  /** Both sides sent the 4-octet AS capability: AS_PATH/AGGREGATOR carry 4-octet ASNs (RFC 6793). */
  readonly as4: boolean;
  /** Both sides sent the extended-message capability (RFC 8654). */
  readonly extendedMessage: boolean;
  /** 4096, or 65535 with extended messages; the framer and the packer honour it. */
  readonly maxMessageLength: number;
  /** Families both sides advertised (IPv4 unicast implied when neither sent MP capabilities, RFC 4760 §8). */
  readonly families: readonly Family[];
}

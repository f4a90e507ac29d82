// Wire constants of BGP-4, named after the RFCs that define them. Every code and subcode here is the
// number that goes on the wire; `*Name` tables turn them back into words for logs.
//
// Plain `enum`s (not `const enum`): tsx/esbuild compiles files one at a time and cannot inline
// `const enum`s across modules, and the reverse mapping (`MessageType[4] === 'Keepalive'`) is useful in logs.

/** TCP port (RFC 4271 §8.2.1). */
export const BGP_PORT = 179;
/** BGP version carried in OPEN (RFC 4271 §4.2). */
export const BGP_VERSION = 4;
/** AS_TRANS, put in 2-octet AS fields when the real AS does not fit (RFC 6793 §9). */
export const AS_TRANS = 23456;
/** Fixed header: 16-octet marker, 2-octet length, 1-octet type (RFC 4271 §4.1). */
export const HEADER_LENGTH = 19;
export const MARKER_LENGTH = 16;
/** Largest message without the extended-message capability (RFC 4271 §4.1). */
export const MAX_MESSAGE_LENGTH = 4096;
/** Largest message when both sides advertised the extended-message capability (RFC 8654 §4). */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;
/** Minimum lengths per type (RFC 4271 §4.2–§4.5, RFC 2918 §3). */
export const MIN_OPEN_LENGTH = 29;
export const MIN_UPDATE_LENGTH = 23;
export const MIN_NOTIFICATION_LENGTH = 21;
export const KEEPALIVE_LENGTH = 19;
export const ROUTE_REFRESH_LENGTH = 23;

/** Message type octet (RFC 4271 §4.1, RFC 2918 §3). */
export enum MessageType {
  Open = 1,
  Update = 2,
  Notification = 3,
  Keepalive = 4,
  RouteRefresh = 5,
}

/** NOTIFICATION error codes (RFC 4271 §4.5, RFC 6608, RFC 7313). */
export enum NotificationCode {
  MessageHeaderError = 1,
  OpenMessageError = 2,
  UpdateMessageError = 3,
  HoldTimerExpired = 4,
  FiniteStateMachineError = 5,
  Cease = 6,
  RouteRefreshMessageError = 7,
}

/** Subcodes of Message Header Error (RFC 4271 §6.1). */
export enum MessageHeaderSubcode {
  Unspecific = 0,
  ConnectionNotSynchronized = 1,
  BadMessageLength = 2,
  BadMessageType = 3,
}

/** Subcodes of OPEN Message Error (RFC 4271 §6.2, RFC 5492 §5, RFC 9234). */
export enum OpenSubcode {
  Unspecific = 0,
  UnsupportedVersionNumber = 1,
  BadPeerAs = 2,
  BadBgpIdentifier = 3,
  UnsupportedOptionalParameter = 4,
  // 5 (Authentication Failure) is deprecated by RFC 4271.
  UnacceptableHoldTime = 6,
  UnsupportedCapability = 7,
  RoleMismatch = 11,
}

/** Subcodes of UPDATE Message Error (RFC 4271 §6.3). */
export enum UpdateSubcode {
  Unspecific = 0,
  MalformedAttributeList = 1,
  UnrecognizedWellKnownAttribute = 2,
  MissingWellKnownAttribute = 3,
  AttributeFlagsError = 4,
  AttributeLengthError = 5,
  InvalidOriginAttribute = 6,
  // 7 (AS Routing Loop) is deprecated by RFC 4271.
  InvalidNextHopAttribute = 8,
  OptionalAttributeError = 9,
  InvalidNetworkField = 10,
  MalformedAsPath = 11,
}

/** Subcodes of Finite State Machine Error (RFC 6608 §4). */
export enum FsmSubcode {
  UnspecifiedError = 0,
  UnexpectedMessageInOpenSent = 1,
  UnexpectedMessageInOpenConfirm = 2,
  UnexpectedMessageInEstablished = 3,
}

/** Subcodes of Cease (RFC 4486 §4, RFC 8203/9003 for shutdown communication). */
export enum CeaseSubcode {
  Unspecific = 0,
  MaximumNumberOfPrefixesReached = 1,
  AdministrativeShutdown = 2,
  PeerDeConfigured = 3,
  AdministrativeReset = 4,
  ConnectionRejected = 5,
  OtherConfigurationChange = 6,
  ConnectionCollisionResolution = 7,
  OutOfResources = 8,
  HardReset = 9, // RFC 8538
  BfdDown = 10, // RFC 9384
}

/** Subcodes of ROUTE-REFRESH Message Error (RFC 7313 §5). */
export enum RouteRefreshSubcode {
  Reserved = 0,
  InvalidMessageLength = 1,
}

/** ROUTE-REFRESH message subtype, the former reserved octet (RFC 7313 §3.2). */
export enum RouteRefreshSubtype {
  Normal = 0,
  BeginningOfRouteRefresh = 1,
  EndOfRouteRefresh = 2,
}

/** Path attribute type codes (RFC 4271 §5, RFC 1997, RFC 4360, RFC 4456, RFC 4760, RFC 6793, RFC 8092). */
export enum PathAttributeType {
  Origin = 1,
  AsPath = 2,
  NextHop = 3,
  MultiExitDisc = 4,
  LocalPref = 5,
  AtomicAggregate = 6,
  Aggregator = 7,
  Communities = 8,
  OriginatorId = 9,
  ClusterList = 10,
  MpReachNlri = 14,
  MpUnreachNlri = 15,
  ExtendedCommunities = 16,
  As4Path = 17,
  As4Aggregator = 18,
  LargeCommunities = 32,
}

/** Attribute Flags octet bits (RFC 4271 §4.3). The low four bits are unused: sent as 0, ignored on receipt. */
export enum AttrFlag {
  Optional = 0x80,
  Transitive = 0x40,
  Partial = 0x20,
  ExtendedLength = 0x10,
}

/** ORIGIN values (RFC 4271 §5.1.1). */
export enum Origin {
  Igp = 0,
  Egp = 1,
  Incomplete = 2,
}

/** AS_PATH segment types (RFC 4271 §4.3, RFC 5065 §3 for the confederation ones). */
export enum AsPathSegmentType {
  AsSet = 1,
  AsSequence = 2,
  AsConfedSequence = 3,
  AsConfedSet = 4,
}

/** OPEN optional parameter types (RFC 5492 §4, RFC 9072 §2). */
export enum OptionalParameterType {
  Capabilities = 2,
  /** Marks the RFC 9072 extended optional-parameters length form. */
  ExtendedLength = 255,
}

/** Capability codes (IANA "Capability Codes" registry). */
export enum CapabilityCode {
  MultiProtocol = 1, // RFC 4760
  RouteRefresh = 2, // RFC 2918
  ExtendedNextHop = 5, // RFC 8950 (kept opaque)
  ExtendedMessage = 6, // RFC 8654
  Role = 9, // RFC 9234 (kept opaque)
  GracefulRestart = 64, // RFC 4724
  FourOctetAs = 65, // RFC 6793
  AddPath = 69, // RFC 7911
  EnhancedRouteRefresh = 70, // RFC 7313
  LongLivedGracefulRestart = 71, // RFC 9494 (kept opaque)
  Fqdn = 73, // draft-walton-bgp-hostname-capability
  RouteRefreshCisco = 128, // pre-standard route refresh, still sent by some (kept opaque)
}

/** Address Family Identifiers (IANA). */
export enum Afi {
  Ipv4 = 1,
  Ipv6 = 2,
}

/** Subsequent Address Family Identifiers (IANA). */
export enum Safi {
  Unicast = 1,
  Multicast = 2,
}

/** Graceful Restart capability flag bits (RFC 4724 §3, RFC 8538 §2). */
export enum GracefulRestartFlag {
  /** "R": the sender has restarted (upper nibble of the 16-bit field, as a 4-bit value). */
  RestartState = 0x8,
  /** "N": the sender supports the RFC 8538 notification extension. */
  Notification = 0x4,
}
/** Per-AFI/SAFI flag bit "F": forwarding state was preserved (RFC 4724 §3). */
export const GR_FORWARDING_STATE = 0x80;

/** ADD-PATH Send/Receive field (RFC 7911 §4). */
export enum AddPathMode {
  Receive = 1,
  Send = 2,
  Both = 3,
}

const names = <E extends Record<string, string | number>>(e: E) => (v: number): string =>
  (e as Record<number, string | undefined>)[v] ?? `Unknown(${v})`;
export const notificationCodeName = names(NotificationCode);
export const pathAttributeTypeName = names(PathAttributeType);
export const capabilityCodeName = names(CapabilityCode);

/** Human name of a NOTIFICATION code/subcode pair, e.g. "UpdateMessageError/MalformedAsPath". */
export function notificationName(code: number, subcode: number): string {
  const sub: Record<number, string | undefined> | undefined = (
    {
      [NotificationCode.MessageHeaderError]: MessageHeaderSubcode,
      [NotificationCode.OpenMessageError]: OpenSubcode,
      [NotificationCode.UpdateMessageError]: UpdateSubcode,
      [NotificationCode.FiniteStateMachineError]: FsmSubcode,
      [NotificationCode.Cease]: CeaseSubcode,
      [NotificationCode.RouteRefreshMessageError]: RouteRefreshSubcode,
    } as Record<number, Record<number, string | undefined> | undefined>
  )[code];
  // Hold Timer Expired defines no subcodes (RFC 4271 §6.5): its subcode is 0, "Unspecific", as for any code
  // whose subcode 0 has no name of its own.
  const subName = sub?.[subcode] ?? (subcode === 0 ? 'Unspecific' : `Unknown(${subcode})`);
  return `${notificationCodeName(code)}/${subName}`;
}

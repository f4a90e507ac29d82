// Public surface of the BGP codec (README.md). Import from here; the other files are internal layout.
export * from './constants.js';
export { BgpError, isStronger, type ErrorAction } from './errors.js';
export type * from './types.js';
export { decodeMessage, encodeMessage, encodeMessageInto, notificationData, notificationFor, routeRefresh, KEEPALIVE } from './codec.js';
export { INITIAL_CONTEXT, negotiateContext, advertisedFamilies, makeContext } from './context.js';
export { Framer, type MessageSink } from './framer.js';
export { packAnnouncements, packWithdrawals, type PackedUpdates } from './packer.js';
export { capability, fourOctetAsOf } from './capabilities.js';
export { openAsn, myAsField } from './open.js';
export { attr, attributesForPassOn, attributeCode, REQUIRED_FLAGS, MALFORMED_ACTION } from './attributes.js';
export {
  findAttribute,
  announcedPrefixes,
  withdrawnPrefixes,
  prefixesToWithdraw,
  endOfRib,
  isEndOfRib,
} from './update.js';
export {
  emptyPrefixList,
  ipv4Prefixes,
  ipv6Prefixes,
  parsePrefix,
  parsePrefixes,
  prefixListFromWire,
  forEachPrefix,
  ipv4PrefixArrays,
  prefixToString,
  prefixStrings,
  prefixListEquals,
} from './nlri.js';

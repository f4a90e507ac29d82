// Public surface of src/config: parse and validate a MetalLB v0.12 config, match node selectors, print the
// normalized JSON. Types live in types.ts so consumers can import them without pulling in the parser.
export type * from './types.js';
export { parseConfig, parseAddressEntry, BFD_DEFAULTS, DEFAULT_HOLD_TIME, DEFAULT_GRACEFUL_RESTART_TIME, DEFAULT_PEER_PORT } from './parse.js';
export { toNormalized, toNormalizedJSON } from './normalize.js';
export { selectorMatches, type Labels } from './selector.js';
export { parseGoDuration } from './duration.js';
export { parseCommunity, formatCommunity, formatLargeCommunity } from './community.js';

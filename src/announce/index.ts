export type * from './types.js';
export { EXCLUDE_LABEL, poolOfService, peersForNode, bgpWithdrawReason, announceSummary, type AnnounceSummary, type ServicePoolResult } from './decide.js';
export { buildAdvertisements, poolByName, type Advertisement, type AnnouncedService } from './advertisements.js';

export type * from './types.js';
export { EXCLUDE_LABEL, poolOfService, peersForNode, bgpWithdrawReason, endpointReason, announceSummary, type AnnounceSummary, type ServicePoolResult } from './decide.js';
export { buildAdvertisements, AdvertisementTable, poolByName, type Advertisement, type AnnouncedService } from './advertisements.js';

// Public surface of the allocator.
export { Allocator, type ConvergeResult } from './allocator.js';
export { poolsFromConfig } from './from-config.js';
export { allocationEvent, type AllocationEvent } from './events.js';
export { parseIP, type ParsedIP } from './ip.js';
export { serviceFamily, requestedIPs, requestedPool, sharingKey, backendKey, servicePorts } from './service.js';
export * from './types.js';

export * from './allocate-all.js';
export * from './allocator.js';
export * from './pool-state.js';
export * from './sharing.js';
export * from './incremental.js';

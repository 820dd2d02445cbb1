export * from './addresses.js';
export * from './community.js';
export * from './duration.js';
export * from './schemas.js';
export * from './types.js';

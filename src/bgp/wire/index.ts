export * from './constants.js';
export * from './errors.js';
export * from './prefix.js';
export * from './open.js';
export * from './attributes.js';
export * from './update.js';
export * from './message.js';
export * from './pack.js';

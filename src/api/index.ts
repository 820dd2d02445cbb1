export * from './client.js';
export * from './format.js';
export * from './server.js';
export * from './service.js';
export * from './source.js';

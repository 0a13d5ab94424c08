export * from './api-keys.js';
export * from './client.js';
export * from './migrate.js';
export * from './repositories/identities.js';
export * from './repositories/jobs.js';
export * from './repositories/policies.js';
export * from './repositories/storage.js';
export * from './seed.js';

export * from './storage.mappers.js';
export * from './storage.resolver.js';
export * from './storage.types.js';

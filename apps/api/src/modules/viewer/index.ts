export * from './viewer.mappers.js';
export * from './viewer.resolver.js';
export * from './viewer.types.js';

export * from './audit.resolver.js';
export * from './audit.types.js';

export * from './datasets.resolver.js';
export * from './datasets.types.js';

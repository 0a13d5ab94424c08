export * from './history.resolver.js';
export * from './history.service.js';
export * from './history.types.js';

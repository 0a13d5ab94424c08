export * from './replicas.resolver.js';
export * from './replicas.service.js';

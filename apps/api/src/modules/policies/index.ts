export * from './policies.inputs.js';
export * from './policies.mappers.js';
export * from './policies.resolver.js';
export * from './policies.service.js';
export * from './policies.types.js';

export * from './policies.mappers.js';
export * from './policies.types.js';

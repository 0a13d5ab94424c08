export * from './jobs.inputs.js';
export * from './jobs.mappers.js';
export * from './jobs.resolver.js';
export * from './jobs.service.js';
export * from './jobs.types.js';

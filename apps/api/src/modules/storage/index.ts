export * from './storage.mappers.js';
export * from './storage.resolver.js';
export * from './storage.types.js';
export * from './storage.inputs.js';
export * from './storage.service.js';

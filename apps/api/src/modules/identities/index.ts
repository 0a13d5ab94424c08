export * from './identities.inputs.js';
export * from './identities.resolver.js';
export * from './identities.service.js';
export * from './identities.types.js';

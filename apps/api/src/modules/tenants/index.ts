export * from './tenants.inputs.js';
export * from './tenants.resolver.js';

export * from './restores.resolver.js';
export * from './restores.router.js';
export * from './restores.service.js';
export * from './restores.types.js';

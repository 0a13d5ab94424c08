export * from './backup-manifest.js';
export * from './chunks.inputs.js';
export * from './chunks.resolver.js';
export * from './chunks.router.js';
export * from './chunks.service.js';
export * from './intake-space.js';

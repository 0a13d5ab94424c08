export * from './chunk-store.js';
export * from './chunker.js';
export * from './manifest.js';
export * from './repository.js';
export * from './limited.js';
export * from './first-whole.js';

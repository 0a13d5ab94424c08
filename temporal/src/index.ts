// For processes that start or signal workflows: never the workflow code or the worker.
export * from './client.js';
export * from './shared.js';
export * from './scrub-shared.js';

export * from './progress.resolver.js';

export * from './exports.router.js';

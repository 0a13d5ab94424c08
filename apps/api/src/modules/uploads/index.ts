export * from './uploads.router.js';

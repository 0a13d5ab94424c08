export * from './uploads.router.js';
export * from './upload-expiry.js';

export * from './feed.js';
export * from './hub.js';
export * from './updates.js';

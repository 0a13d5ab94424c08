export * from './feed.js';
export * from './hub.js';
export * from './updates.js';
export { InFlight } from './pull.js';

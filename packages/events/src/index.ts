export * from './channel.js';
export * from './hub.js';
export * from './streams.js';

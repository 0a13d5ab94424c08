export * from './postgres.js';
export * from './processes.js';
export * from './stack.js';
export * from './temporal-server.js';
export * from './test-client.js';
export * from './testing.js';

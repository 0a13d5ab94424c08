export * from './session-cookie.js';
export * from './session-sockets.js';
export * from './sessions.router.js';

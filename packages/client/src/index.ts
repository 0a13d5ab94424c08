export * from './backup.js';
export * from './scan.js';

export { backup, retryReplica } from './backup.js';
export { restore } from './restore.js';

export { backup, retryReplica } from './backup.js';

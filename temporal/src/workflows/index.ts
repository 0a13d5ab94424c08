export { backup, retryReplica } from './backup.js';
export { restore } from './restore.js';
export { repairReplica, scrubScheduler, scrubStorageSystem, verifyReplica } from './scrub.js';

import { type ActivityDeps, createActivityEnv } from './activity-support.js';
import { createBookkeepingActivities } from './bookkeeping-activities.js';
import { createCopyActivities } from './copy-activities.js';
import { createRestoreActivities } from './restore-activities.js';

export { type ActivityDeps, isDatabaseUnreachable } from './activity-support.js';

/**
 * The activities of the backup, retry and restore workflows, by concern: copies (copy-activities.ts, over
 * whole-object-copy.ts and chunked-copy.ts), bookkeeping and restores. Every one is safe to run again after a
 * crash. Their names are what saved workflow histories replay against: renaming one breaks running workflows.
 */
export function createActivities(deps: ActivityDeps) {
  const env = createActivityEnv(deps);
  return {
    ...createBookkeepingActivities(env),
    ...createCopyActivities(env),
    ...createRestoreActivities(env),
  };
}

export type BackupActivities = ReturnType<typeof createActivities>;

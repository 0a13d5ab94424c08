import { type ActivityDeps, createActivities } from './backup-activities.js';
import { createActivityEnv } from './activity-support.js';
import { createScrubActivities } from './scrub-activities.js';

export { type ActivityDeps, type BackupActivities, createActivities } from './backup-activities.js';
export { createScrubActivities, type ScrubActivities } from './scrub-activities.js';

/** Everything a worker process registers: the backup and restore activities, and the scrub's. */
export function createWorkerActivities(deps: ActivityDeps) {
  return { ...createActivities(deps), ...createScrubActivities(createActivityEnv(deps)) };
}

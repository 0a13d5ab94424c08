export { type ActivityDeps, type BackupActivities, createActivities } from './backup-activities.js';

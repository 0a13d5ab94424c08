// Deterministic workflow code: no Node builtins, no I/O, no clocks but the workflow's own.
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { BackupActivities } from '../activities/backup-activities.js';
import type { BackupWorkflowResult, RestoreWorkflowInput } from '../shared.js';

/** Reading copies: heartbeats while hashing; transient failures retry with backoff, business refusals do not. */
const reading = proxyActivities<BackupActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** Recording the outcome: a short write, retried until the database is back. */
const bookkeeping = proxyActivities<BackupActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Workflow `restore`: find a verified copy of the version and record it as the one to serve. */
export async function restore(input: RestoreWorkflowInput): Promise<BackupWorkflowResult> {
  try {
    return await reading.runRestore(input);
  } catch (error) {
    const reason =
      error instanceof ActivityFailure && error.cause
        ? error.cause.message
        : error instanceof Error
          ? error.message
          : String(error);
    await bookkeeping.failRestore({ ...input, reason: `the restore failed: ${reason}` });
    return { status: 'FAILED' };
  }
}

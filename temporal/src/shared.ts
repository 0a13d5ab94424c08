// Names shared by the workflow, the worker and the clients that start or signal workflows.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const BACKUP_WORKFLOW = 'backup';

export interface BackupWorkflowInput {
  tenantId: string;
  jobId: string;
}

/** Where secondary copies run: a queue beside the main one, with worker slots of its own. */
export const dueQueueOf = (taskQueue: string): string => `${taskQueue}-due`;

/**
 * Where a new job's start and its primary copy wait their turn: a queue beside the main one with a few worker slots
 * of its own, so that a burst of new jobs is admitted a few at a time while the workflow tasks and the due copies of
 * the jobs already running keep the CPU they need.
 */
export const intakeQueueOf = (taskQueue: string): string => `${taskQueue}-intake`;

export const RETRY_REPLICA_WORKFLOW = 'retryReplica';

export interface RetryReplicaInput extends BackupWorkflowInput {
  replicaId: string;
}

export const RESTORE_WORKFLOW = 'restore';

export interface RestoreWorkflowInput {
  tenantId: string;
  restoreJobId: string;
}

export interface BackupWorkflowResult {
  status: string;
}

/** What the workflow is doing now, for operators and the API. */
export interface LivePlan {
  phase: 'starting' | 'copying' | 'waiting' | 'finished';
  /** The order of the copy in progress or waited for. */
  currentOrder: number;
  secondaryCount: number;
  delaySeconds: number;
  /** When the current wait ends (ISO), while waiting. */
  waitingUntil: string | null;
  skipDelays: boolean;
  /** Each copy records the next replica WAITING and the delay runs from its completedAt (newer runs). */
  handOver: boolean;
  /** Secondaries are dispatched a little ahead and wait for their planned time in the copy activity (newer runs). */
  dispatchAhead: boolean;
}

/** What a copy activity reports to the workflow. */
export interface CopyResult {
  /** False when there was no replica left to write at that order. */
  hasReplica: boolean;
  /** When the copy was verified (ISO); the next secondary is due `delaySeconds` later. */
  completedAt?: string | null;
  /** With hand-over: whether a later replica is still to be written (now WAITING). */
  nextPending?: boolean;
}

/** Ends the current and every later delay of the job. */
export const replicateNowSignal = defineSignal('replicateNow');
export const livePlanQuery = defineQuery<LivePlan>('livePlan');

export { restoreWorkflowIdFor, retryWorkflowIdFor, workflowIdFor } from '@echelon/domain';

/**
 * How often a copy records its progress (a COPYING event with the bytes so far), per replica: at most two ticks a
 * second, so that a thousand subscribers of fifty busy jobs get progress without a flood; the final state (VERIFYING,
 * COMPLETED or FAILED) is always recorded.
 */
export const PROGRESS_INTERVAL_MS = 500;

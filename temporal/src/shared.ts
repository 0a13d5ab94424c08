// Names shared by the workflow, the worker and the clients that start or signal workflows.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const BACKUP_WORKFLOW = 'backup';

export interface BackupWorkflowInput {
  tenantId: string;
  jobId: string;
}

export const RETRY_REPLICA_WORKFLOW = 'retryReplica';

export interface RetryReplicaInput extends BackupWorkflowInput {
  replicaId: string;
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
}

/** Ends the current and every later delay of the job. */
export const replicateNowSignal = defineSignal('replicateNow');
export const livePlanQuery = defineQuery<LivePlan>('livePlan');

export { retryWorkflowIdFor, workflowIdFor } from '@echelon/domain';

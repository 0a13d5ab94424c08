import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import {
  BACKUP_WORKFLOW,
  type BackupWorkflowInput,
  RESTORE_WORKFLOW,
  RETRY_REPLICA_WORKFLOW,
  type RestoreWorkflowInput,
  type RetryReplicaInput,
  restoreWorkflowIdFor,
  replicateNowSignal,
  workflowIdFor,
} from './shared.js';
import {
  type ReplicaCheckResult,
  SCRUB_SCHEDULER_WORKFLOW,
  SCRUB_SCHEDULER_WORKFLOW_ID,
  VERIFY_REPLICA_WORKFLOW,
  type VerifyReplicaInput,
  verifyWorkflowIdFor,
} from './scrub-shared.js';

export interface BackupClient {
  start(input: BackupWorkflowInput): Promise<void>;
  /** Starts the retry workflow `workflowId` (idempotent for the same id). */
  retry(workflowId: string, input: RetryReplicaInput): Promise<void>;
  /** Starts the restore workflow of a restore job; starting it twice is a no-op. */
  startRestore(input: RestoreWorkflowInput): Promise<void>;
  /** Ends the waits of the running workflow `workflowId`. */
  replicateNow(workflowId: string): Promise<void>;
  /**
   * Checks one committed copy now (verifyReplica) and answers with the state the check left it in; a check of the
   * same replica already running is joined. A repair found necessary runs on after the answer.
   */
  verifyReplica(input: VerifyReplicaInput): Promise<ReplicaCheckResult>;
  /** Starts the scrub scheduler unless it runs already. */
  ensureScrubScheduler(): Promise<void>;
  /** Requests cancellation; false when no such workflow runs. */
  cancel(workflowId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Starts and signals backup workflows; starting a job twice is a no-op. */
export async function createBackupClient(options: {
  address: string;
  namespace: string;
  taskQueue: string;
}): Promise<BackupClient> {
  const connection = await Connection.connect({ address: options.address });
  const client = new Client({ connection, namespace: options.namespace });
  /**
   * Starts `type` under `workflowId` once: a second start joins the running workflow, and a finished one is never
   * run again under its id.
   */
  const startOnce = async (type: string, workflowId: string, input: object): Promise<void> => {
    try {
      await client.workflow.start(type, {
        taskQueue: options.taskQueue,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  };
  return {
    start: (input) => startOnce(BACKUP_WORKFLOW, workflowIdFor(input.tenantId, input.jobId), input),
    retry: (workflowId, input) => startOnce(RETRY_REPLICA_WORKFLOW, workflowId, input),
    startRestore: (input) =>
      startOnce(RESTORE_WORKFLOW, restoreWorkflowIdFor(input.tenantId, input.restoreJobId), input),
    async verifyReplica(input) {
      const handle = await client.workflow.start(VERIFY_REPLICA_WORKFLOW, {
        taskQueue: options.taskQueue,
        workflowId: verifyWorkflowIdFor(input.tenantId, input.replicaId),
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
      return (await handle.result()) as ReplicaCheckResult;
    },
    async ensureScrubScheduler() {
      await client.workflow.start(SCRUB_SCHEDULER_WORKFLOW, {
        taskQueue: options.taskQueue,
        workflowId: SCRUB_SCHEDULER_WORKFLOW_ID,
        args: [],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
    },
    async replicateNow(workflowId) {
      await client.workflow.getHandle(workflowId).signal(replicateNowSignal);
    },
    async cancel(workflowId) {
      try {
        await client.workflow.getHandle(workflowId).cancel();
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },
    close: () => connection.close(),
  };
}

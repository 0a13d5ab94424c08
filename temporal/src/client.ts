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

export interface BackupClient {
  start(input: BackupWorkflowInput): Promise<void>;
  /** Starts the retry workflow `workflowId` (idempotent for the same id). */
  retry(workflowId: string, input: RetryReplicaInput): Promise<void>;
  /** Starts the restore workflow of a restore job; starting it twice is a no-op. */
  startRestore(input: RestoreWorkflowInput): Promise<void>;
  /** Ends the waits of the running workflow `workflowId`. */
  replicateNow(workflowId: string): Promise<void>;
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
  return {
    async start(input) {
      try {
        await client.workflow.start(BACKUP_WORKFLOW, {
          taskQueue: options.taskQueue,
          workflowId: workflowIdFor(input.tenantId, input.jobId),
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          // A finished job is never run again under its id.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    },
    async retry(workflowId, input) {
      try {
        await client.workflow.start(RETRY_REPLICA_WORKFLOW, {
          taskQueue: options.taskQueue,
          workflowId,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          // A finished job is never run again under its id.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    },
    async startRestore(input) {
      try {
        await client.workflow.start(RESTORE_WORKFLOW, {
          taskQueue: options.taskQueue,
          workflowId: restoreWorkflowIdFor(input.tenantId, input.restoreJobId),
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
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

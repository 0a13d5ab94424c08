import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { BACKUP_WORKFLOW, type BackupWorkflowInput, replicateNowSignal, workflowIdFor } from './shared.js';

export interface BackupClient {
  start(input: BackupWorkflowInput): Promise<void>;
  replicateNow(input: BackupWorkflowInput): Promise<void>;
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
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    },
    async replicateNow(input) {
      await client.workflow.getHandle(workflowIdFor(input.tenantId, input.jobId)).signal(replicateNowSignal);
    },
    close: () => connection.close(),
  };
}

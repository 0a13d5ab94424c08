'use client';

import { Button } from '@mantine/core';
import { useState } from 'react';
import type { CancelBackupMutation, ReplicateNowMutation, RetryReplicaMutation } from '@/lib/gql/graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { CANCEL_BACKUP_MUTATION, REPLICATE_NOW_MUTATION, RETRY_REPLICA_MUTATION } from '@/lib/operations';
import type { BackupJobStatus, ReplicaStatus } from '@/lib/view-types';
import { useSession } from './session-gate';
import { useSubmission } from './use-submission';

/**
 * Runs one mutation at a time and keeps its error, naming the one in flight. The page itself learns the outcome
 * from the live subscriptions, so nothing is refetched here.
 */
function useAction() {
  const session = useSession();
  const submission = useSubmission();
  const [name, setName] = useState<string | null>(null);
  const run = (
    action: string,
    mutation: TypedDocumentNode<CancelBackupMutation | ReplicateNowMutation | RetryReplicaMutation, { id: string }>,
    id: string,
  ) => {
    setName(action);
    submission.run(() => session.request(mutation, { id }));
  };
  return { pending: submission.pending ? name : null, error: submission.error, run };
}

const isActive = (status: BackupJobStatus) => status === 'PENDING' || status === 'RUNNING';

/** Cancel a job in progress, or end its remaining delays. */
export function JobActions({
  jobId,
  status,
  replicaStatuses,
}: {
  jobId: string;
  status: BackupJobStatus;
  replicaStatuses: readonly ReplicaStatus[];
}) {
  const { pending, error, run } = useAction();
  const session = useSession();
  const canExpedite = session.can('job:expedite');
  const canCancel = session.can('job:cancel');
  if (!isActive(status) || (!canExpedite && !canCancel)) return null;
  const hasDelays = replicaStatuses.some((replica) => replica === 'WAITING' || replica === 'PLANNED');
  return (
    <div className="job-actions">
      {hasDelays && canExpedite ? (
        <Button disabled={pending !== null} onClick={() => run('replicateNow', REPLICATE_NOW_MUTATION, jobId)}>
          {pending === 'replicateNow' ? 'Skipping delays…' : 'Replicate now'}
        </Button>
      ) : null}
      {canCancel ? (
        <Button color="red" disabled={pending !== null} onClick={() => run('cancel', CANCEL_BACKUP_MUTATION, jobId)}>
          {pending === 'cancel' ? 'Cancelling…' : 'Cancel job'}
        </Button>
      ) : null}
      {error ? (
        <p className="error-text small" role="alert" data-testid="job-action-error">
          {error.message}
        </p>
      ) : null}
    </div>
  );
}

/** Runs a FAILED replica again once its storage is fixed (only while its job is not running). */
export function RetryReplicaButton({ replicaId }: { replicaId: string }) {
  const { pending, error, run } = useAction();
  return (
    <span className="retry-action">
      <Button
        size="xs"
        disabled={pending !== null}
        onClick={() => run('retry', RETRY_REPLICA_MUTATION, replicaId)}
        data-testid="replica-retry"
      >
        {pending ? 'Retrying…' : 'Retry'}
      </Button>
      {error ? (
        <span className="error-text small" role="alert" data-testid="replica-retry-error">
          {error.message}
        </span>
      ) : null}
    </span>
  );
}

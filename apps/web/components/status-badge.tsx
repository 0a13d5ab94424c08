import type { BackupJobStatus, ReplicaStatus } from '@/lib/view-types';

type StatusBadgeProps = {
  status: BackupJobStatus | ReplicaStatus;
  testId?: string;
};

/** The status enum value itself, coloured by meaning (the CSS keys on `data-status`). */
export function StatusBadge({ status, testId }: StatusBadgeProps) {
  return (
    <span className="badge" data-status={status} data-testid={testId}>
      {status}
    </span>
  );
}

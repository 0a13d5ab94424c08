import { shortenChecksum } from '@/lib/format';
import type { JobDetailReplica } from '@/lib/view-types';
import { DateTime } from './date-time';
import { RetryReplicaButton } from './job-actions';
import { ProgressBar } from './progress-bar';
import { StatusBadge } from './status-badge';

export function ReplicaTable({ replicas, canRetry }: { replicas: readonly JobDetailReplica[]; canRetry: boolean }) {
  if (replicas.length === 0) {
    return <p className="muted">No replicas planned for this job.</p>;
  }
  const ordered = [...replicas].sort((a, b) => a.order - b.order);
  return (
    <div className="table-scroll">
      <table className="data-table data-table--dense" data-testid="replica-table">
        <caption className="visually-hidden">Replicas in write order, primary first</caption>
        <thead>
          <tr>
            <th scope="col" className="numeric">
              Order
            </th>
            <th scope="col">Role</th>
            <th scope="col">Storage system</th>
            <th scope="col">Space</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Scheduled</th>
            <th scope="col">Started</th>
            <th scope="col">Completed</th>
            <th scope="col">Checksum</th>
          </tr>
        </thead>
        <tbody>
          {ordered.map((replica) => (
            <ReplicaRow key={replica.id} replica={replica} canRetry={canRetry} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ReplicaRow({ replica, canRetry }: { replica: JobDetailReplica; canRetry: boolean }) {
  return (
    <tr
      data-testid="replica-row"
      data-replica-id={replica.id}
      data-order={replica.order}
      data-status={replica.status}
      data-role={replica.role}
    >
      <th scope="row" className="numeric" data-testid="replica-order">
        {replica.order}
      </th>
      <td>
        <span className="role" data-role={replica.role}>
          {replica.role}
        </span>
      </td>
      <td data-testid="replica-storage">{replica.storageSystem.name}</td>
      <td data-testid="replica-space">{replica.space?.name ?? <span className="muted">—</span>}</td>
      <td>
        <div className="status-cell">
          <StatusBadge status={replica.status} testId="replica-status" />
          {replica.attempts > 1 ? <span className="muted small">attempt {replica.attempts}</span> : null}
          {replica.lastError ? (
            <span className="error-text small" data-testid="replica-error">
              {replica.lastError}
            </span>
          ) : null}
          {canRetry && replica.status === 'FAILED' ? <RetryReplicaButton replicaId={replica.id} /> : null}
        </div>
      </td>
      <td className="cell-progress" data-testid="replica-progress">
        <ProgressBar
          bytesCopied={replica.bytesCopied}
          bytesTotal={replica.bytesTotal}
          isComplete={replica.status === 'COMPLETED'}
          label={`Replica ${replica.order} progress`}
        />
      </td>
      <td>
        <DateTime value={replica.scheduledAt} testId="replica-scheduled-at" />
      </td>
      <td>
        <DateTime value={replica.startedAt} testId="replica-started-at" />
      </td>
      <td>
        <DateTime value={replica.completedAt} testId="replica-completed-at" />
      </td>
      <td>
        {replica.checksum ? (
          <code className="checksum" title={replica.checksum} data-testid="replica-checksum">
            {shortenChecksum(replica.checksum)}
          </code>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}

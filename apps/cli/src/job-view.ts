import type { CliJobFragment } from './generated/graphql.js';
import { formatBytes, formatTime, table } from './output.js';
import { replicaLabel } from './progress-display.js';

export const verifiedCopies = (job: CliJobFragment): number =>
  job.replicas.filter((replica) => replica.status === 'COMPLETED').length;

/** A job as a few lines and a table of its copies: what `status`, `watch` and `backup` print at the end. */
export function describeJob(job: CliJobFragment): string {
  const head = [
    `job ${job.id}: ${job.datasetKey} v${job.version} ${job.status}${job.statusReason ? ` (${job.statusReason})` : ''}`,
    `template ${job.scheme.template.name} v${job.scheme.templateVersion}: ${verifiedCopies(job)} of ${job.scheme.copies} copies verified (at least ${job.scheme.template.minCopies} required)`,
    `requested ${formatTime(job.createdAt)} by ${job.identity.externalId}${job.completedAt ? `, ended ${formatTime(job.completedAt)}` : ''}`,
  ];
  const rows = [
    ['COPY', 'STATUS', 'BYTES', 'CHECKSUM', 'DETAIL'],
    ...[...job.replicas]
      .sort((a, b) => a.order - b.order)
      .map((replica) => [
        replicaLabel(replica, job.scheme.copies),
        replica.status,
        `${formatBytes(replica.bytesCopied)}/${formatBytes(replica.bytesTotal)}`,
        replica.checksum ? replica.checksum.slice(0, 12) : '-',
        replica.lastError ??
          (replica.scheduledAt && replica.status === 'WAITING' ? `at ${formatTime(replica.scheduledAt)}` : ''),
      ]),
  ];
  return `${head.join('\n')}\n\n${table(rows)}`;
}

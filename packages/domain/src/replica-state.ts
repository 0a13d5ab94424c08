import { DomainError } from './errors.js';

export const REPLICA_STATUSES = [
  'PLANNED',
  'WAITING',
  'COPYING',
  'VERIFYING',
  'COMPLETED',
  'FAILED',
  'SKIPPED',
  'CANCELLED',
  'DEGRADED',
] as const;
export type ReplicaStatus = (typeof REPLICA_STATUSES)[number];

export const BACKUP_JOB_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'] as const;
export type BackupJobStatus = (typeof BACKUP_JOB_STATUSES)[number];

/**
 * Allowed replica transitions; FAILED → COPYING happens only through retryReplica.
 *
 * DEGRADED is a verified copy that a scrub or verifyReplica later found damaged (a chunk missing or corrupt, or its
 * manifest unreadable). It is entered only from COMPLETED and left only to COMPLETED, once the repair put every bad
 * chunk back. It never goes to COPYING or FAILED: a repair adds chunks beside a committed manifest and never makes
 * the copy unreadable or in flight, and a replica whose chunks are lost everywhere stays DEGRADED (its lastError
 * names them) instead of entering the retry path, which could not help. Repeating DEGRADED (more damage found) is a
 * repeated state, as the repository allows for every state but COPYING.
 */
const REPLICA_TRANSITIONS: Record<ReplicaStatus, readonly ReplicaStatus[]> = {
  PLANNED: ['WAITING', 'COPYING', 'SKIPPED', 'CANCELLED'],
  WAITING: ['COPYING', 'FAILED', 'CANCELLED', 'SKIPPED'],
  COPYING: ['COPYING', 'VERIFYING', 'FAILED', 'CANCELLED'],
  VERIFYING: ['COMPLETED', 'COPYING', 'FAILED', 'CANCELLED'],
  COMPLETED: ['DEGRADED'],
  FAILED: ['COPYING'],
  SKIPPED: [],
  CANCELLED: [],
  DEGRADED: ['COMPLETED'],
};

const JOB_TRANSITIONS: Record<BackupJobStatus, readonly BackupJobStatus[]> = {
  PENDING: ['RUNNING', 'FAILED', 'CANCELLED'],
  RUNNING: ['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'],
  COMPLETED: [],
  PARTIAL: ['RUNNING'],
  FAILED: ['RUNNING'],
  CANCELLED: [],
};

export const canTransitionReplica = (from: ReplicaStatus, to: ReplicaStatus): boolean =>
  REPLICA_TRANSITIONS[from].includes(to);

export const canTransitionJob = (from: BackupJobStatus, to: BackupJobStatus): boolean =>
  JOB_TRANSITIONS[from].includes(to);

/** Throws CONFLICT when a replica may not move from `from` to `to`. */
export function assertReplicaTransition(from: ReplicaStatus, to: ReplicaStatus): void {
  if (!canTransitionReplica(from, to)) {
    throw new DomainError('CONFLICT', `a replica cannot go from ${from} to ${to}`, { from, to });
  }
}

export function assertJobTransition(from: BackupJobStatus, to: BackupJobStatus): void {
  if (!canTransitionJob(from, to)) {
    throw new DomainError('CONFLICT', `a backup job cannot go from ${from} to ${to}`, { from, to });
  }
}

/** No copy is in flight: the replica's attempt has ended (a DEGRADED copy was written and awaits repair). */
export const isTerminalReplicaStatus = (status: ReplicaStatus): boolean =>
  status === 'COMPLETED' ||
  status === 'FAILED' ||
  status === 'SKIPPED' ||
  status === 'CANCELLED' ||
  status === 'DEGRADED';

/** A verified copy: it counts towards the policy's copies. A DEGRADED copy does not until it is repaired. */
export const isVerifiedReplicaStatus = (status: ReplicaStatus): boolean => status === 'COMPLETED';

/**
 * A copy a restore may read chunk by chunk: a verified one, or a DEGRADED one whose good chunks still serve (a
 * restore reads its bad ones from another copy).
 */
export const isReadableReplicaStatus = (status: ReplicaStatus): boolean =>
  status === 'COMPLETED' || status === 'DEGRADED';

/**
 * The job's outcome once no replica is in flight: FAILED when the primary did not complete, PARTIAL when a
 * secondary failed, COMPLETED otherwise (skipped candidates are recorded, not failures). A primary found DEGRADED
 * after it completed was written: the job did not fail for it (its verified copies are counted by `jobOutcome`).
 */
export function finalJobStatus(replicas: readonly { order: number; status: ReplicaStatus }[]): BackupJobStatus {
  const primary = replicas.find((replica) => replica.order === 0);
  if (primary === undefined || primary.status === 'CANCELLED') return primary ? 'CANCELLED' : 'FAILED';
  if (!isReadableReplicaStatus(primary.status)) return 'FAILED';
  if (replicas.some((replica) => replica.status === 'CANCELLED')) return 'CANCELLED';
  if (replicas.some((replica) => replica.status === 'FAILED')) return 'PARTIAL';
  return 'COMPLETED';
}

export interface JobOutcome {
  status: BackupJobStatus;
  /** Why the job did not complete, in words; null when it did. */
  reason: string | null;
}

/**
 * The job's outcome with the template's minimum of verified copies: fewer verified copies than `minCopies`
 * fails the job, whatever else happened, and the reason says how many were achieved.
 */
export function jobOutcome(
  replicas: readonly { order: number; status: ReplicaStatus; lastError?: string | null }[],
  minCopies: number,
): JobOutcome {
  const status = finalJobStatus(replicas);
  const verified = replicas.filter((replica) => isVerifiedReplicaStatus(replica.status)).length;
  if (status === 'CANCELLED') return { status, reason: 'cancelled on request' };
  if (status === 'FAILED') {
    const primary = replicas.find((replica) => replica.order === 0);
    return { status, reason: `the primary copy failed${primary?.lastError ? `: ${primary.lastError}` : ''}` };
  }
  if (verified < minCopies) {
    return {
      status: 'FAILED',
      reason: `only ${verified} verified ${verified === 1 ? 'copy' : 'copies'}; the policy requires at least ${minCopies}`,
    };
  }
  if (status === 'PARTIAL') {
    const failed = replicas.filter((replica) => replica.status === 'FAILED').map((replica) => `#${replica.order}`);
    return { status, reason: `secondary ${failed.join(', ')} failed; retry it once its storage is fixed` };
  }
  return { status, reason: null };
}

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
] as const;
export type ReplicaStatus = (typeof REPLICA_STATUSES)[number];

export const BACKUP_JOB_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'] as const;
export type BackupJobStatus = (typeof BACKUP_JOB_STATUSES)[number];

/** Allowed replica transitions; FAILED → COPYING happens only through retryReplica. */
const REPLICA_TRANSITIONS: Record<ReplicaStatus, readonly ReplicaStatus[]> = {
  PLANNED: ['WAITING', 'COPYING', 'SKIPPED', 'CANCELLED'],
  WAITING: ['COPYING', 'FAILED', 'CANCELLED', 'SKIPPED'],
  COPYING: ['COPYING', 'VERIFYING', 'FAILED', 'CANCELLED'],
  VERIFYING: ['COMPLETED', 'COPYING', 'FAILED', 'CANCELLED'],
  COMPLETED: [],
  FAILED: ['COPYING'],
  SKIPPED: [],
  CANCELLED: [],
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

export const isTerminalReplicaStatus = (status: ReplicaStatus): boolean =>
  status === 'COMPLETED' || status === 'FAILED' || status === 'SKIPPED' || status === 'CANCELLED';

/**
 * The job's outcome once no replica is in flight: FAILED when the primary did not complete, PARTIAL when a
 * secondary failed, COMPLETED otherwise (skipped candidates are recorded, not failures).
 */
export function finalJobStatus(replicas: readonly { order: number; status: ReplicaStatus }[]): BackupJobStatus {
  const primary = replicas.find((replica) => replica.order === 0);
  if (primary === undefined || primary.status === 'CANCELLED') return primary ? 'CANCELLED' : 'FAILED';
  if (primary.status !== 'COMPLETED') return 'FAILED';
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
  const verified = replicas.filter((replica) => replica.status === 'COMPLETED').length;
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

import { DomainError } from './errors.js';

/** A replica a restore could read from. */
export interface RestoreCandidate {
  replicaId: string;
  role: 'PRIMARY' | 'SECONDARY';
  order: number;
  /** Whether its storage system passed its last connection check. */
  storageHealthy: boolean;
  /** When the copy was verified. */
  completedAt: Date;
}

/**
 * The order a restore tries replicas in, healthiest first: replicas on a healthy storage system before the
 * others; then the most recently verified copy; then by order (the primary first). Only COMPLETED replicas with a
 * checksum are candidates; the caller passes those. Every candidate is kept: an unhealthy system may still answer.
 */
export function orderRestoreCandidates<T extends RestoreCandidate>(candidates: readonly T[]): T[] {
  return [...candidates].sort(
    (a, b) =>
      Number(b.storageHealthy) - Number(a.storageHealthy) ||
      b.completedAt.getTime() - a.completedAt.getTime() ||
      a.order - b.order ||
      a.replicaId.localeCompare(b.replicaId),
  );
}

export const restoreWorkflowIdFor = (tenantId: string, restoreJobId: string): string =>
  `restore:${tenantId}:${restoreJobId}`;

/** A version number named by a caller: a positive integer. */
export function validateVersionNumber(version: number): number {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new DomainError('BAD_USER_INPUT', `version must be a positive whole number, not ${version}`, {
      field: 'version',
    });
  }
  return version;
}

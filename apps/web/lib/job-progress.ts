import type { JobListItem } from './view-types';

export interface JobProgress {
  /** Replicas in write order, primary first. */
  replicas: JobListItem['replicas'];
  completedCopies: number;
  /** Bytes over the replicas that will be written (skipped ones do not count). */
  bytesCopied: number;
  bytesTotal: number;
  isComplete: boolean;
  /** One line per replica, e.g. "#1 SECONDARY on large-ceph: COPYING". */
  replicaSummary: string;
}

/** A job's copies at a glance: how many are done and how many of their bytes are written. */
export function jobProgress(job: JobListItem): JobProgress {
  const replicas = [...job.replicas].sort((a, b) => a.order - b.order);
  const counted = replicas.filter((replica) => replica.status !== 'SKIPPED');
  return {
    replicas,
    completedCopies: replicas.filter((replica) => replica.status === 'COMPLETED').length,
    bytesCopied: counted.reduce((sum, replica) => sum + replica.bytesCopied, 0),
    bytesTotal: counted.reduce((sum, replica) => sum + replica.bytesTotal, 0),
    isComplete: counted.length > 0 && counted.every((replica) => replica.status === 'COMPLETED'),
    replicaSummary: replicas
      .map((replica) => `#${replica.order} ${replica.role} on ${replica.storageSystem.name}: ${replica.status}`)
      .join('\n'),
  };
}

export const jobHref = (jobId: string): string => `/jobs/${encodeURIComponent(jobId)}`;

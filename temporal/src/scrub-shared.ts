// Names and payloads shared by the scrub workflows, their activities, the worker and the API (verifyReplica).
// Payloads carry ids and counts only, never chunk lists.

export const SCRUB_SCHEDULER_WORKFLOW = 'scrubScheduler';
/** One scheduler per deployment: it starts a pass of every storage system once per interval. */
export const SCRUB_SCHEDULER_WORKFLOW_ID = 'scrub-scheduler';
export const SCRUB_STORAGE_SYSTEM_WORKFLOW = 'scrubStorageSystem';
export const VERIFY_REPLICA_WORKFLOW = 'verifyReplica';
export const REPAIR_REPLICA_WORKFLOW = 'repairReplica';

/** The pass of one tenant's storage system; at most one runs at a time. */
export const scrubWorkflowIdFor = (tenantId: string, storageSystemId: string): string =>
  `scrub:${tenantId}:${storageSystemId}`;
/** The on-demand check of one replica: a second verifyReplica while one runs joins it. */
export const verifyWorkflowIdFor = (tenantId: string, replicaId: string): string => `verify:${tenantId}:${replicaId}`;
export const repairWorkflowIdFor = (tenantId: string, replicaId: string): string => `repair:${tenantId}:${replicaId}`;

export interface ScrubSystemInput {
  tenantId: string;
  storageSystemId: string;
}

/** Where a pass's chunk scan stands: the space being read (spaces in id order) and the last chunk read there. */
export interface ScrubCursor {
  spaceId: string;
  afterHash: string | null;
}

export interface ScrubChunksResult {
  /** True once every space of the system was read to its end. */
  isDone: boolean;
  cursor: ScrubCursor | null;
  chunks: number;
  bytes: number;
  badChunks: number;
  /** Wall time this slice spent, for the pass's achieved rate. */
  elapsedMs: number;
}

/** What one pass of a storage system did (the workflow's result). */
export interface ScrubPassResult {
  storageSystemId: string;
  chunks: number;
  bytes: number;
  badChunks: number;
  /** Wall time of the chunk scan (its slices together): bytes / elapsedMs is the rate it achieved. */
  elapsedMs: number;
  manifests: number;
  degraded: number;
  repaired: number;
  unrepaired: number;
}

/** Who asked for a check, for the audit entries it may write. */
export interface ScrubActor {
  identityId: string | null;
  label: string;
}

export interface VerifyReplicaInput {
  tenantId: string;
  replicaId: string;
  actor: ScrubActor;
}

/** A replica's state as a check or a repair left it. */
export interface ReplicaCheckResult {
  status: string;
  lastError: string | null;
  /** Chunks (or the manifest) found bad by this check. */
  problems: number;
}

// Deterministic workflow code: no Node builtins, no I/O, no clocks but the workflow's own.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  continueAsNew,
  ParentClosePolicy,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { ScrubActivities } from '../activities/scrub-activities.js';
import {
  type ReplicaCheckResult,
  repairWorkflowIdFor,
  type ScrubCursor,
  type ScrubPassResult,
  type ScrubSystemInput,
  scrubWorkflowIdFor,
  type VerifyReplicaInput,
} from '../scrub-shared.js';

/** Listing the targets: a short read, retried until the database is back. */
const listing = proxyActivities<ScrubActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Reading storage: a slice heartbeats its cursor after every chunk, so a retry resumes there. */
const scanning = proxyActivities<ScrubActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/** Repairs copy chunks between spaces; idempotent, so a retry after a crash redoes only what is still missing. */
const repairing = proxyActivities<ScrubActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/** Scheduler ticks per run before it continues as new, so its history stays small. */
const TICKS_PER_RUN = 50;
/** Scan slices per run of a pass before it continues as new with its cursor. */
const SLICES_PER_RUN = 200;

const alreadyRunning = (error: unknown) => error instanceof WorkflowExecutionAlreadyStartedError;

/**
 * Workflow `scrubScheduler` (one per deployment): once per interval, a pass of every storage system of every
 * tenant starts, unless that system's previous pass is still running. The interval is the worker's
 * ECHELON_SCRUB_INTERVAL_SECONDS, read by the activity each tick; 0 ends the scheduler.
 */
export async function scrubScheduler(): Promise<void> {
  for (let tick = 0; tick < TICKS_PER_RUN; tick++) {
    const { targets, intervalSeconds } = await listing.listScrubTargets();
    if (intervalSeconds <= 0) return;
    for (const target of targets) {
      try {
        await startChild(scrubStorageSystem, {
          workflowId: scrubWorkflowIdFor(target.tenantId, target.storageSystemId),
          args: [target],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        });
      } catch (error) {
        if (!alreadyRunning(error)) throw error;
      }
    }
    await sleep(intervalSeconds * 1000);
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await continueAsNew<typeof scrubScheduler>();
}

/** A pass continued as new: where its scan stands and what it counted so far. */
interface PassCarry {
  cursor: ScrubCursor | null;
  pass: ScrubPassResult;
}

/**
 * Workflow `scrubStorageSystem` (`scrub:<tenantId>:<storageSystemId>`): one pass of one tenant's storage system.
 * The chunk scan in slices (each resumable from its heartbeat), then every committed manifest there, then the repair
 * of every copy there that is DEGRADED. Returns what it did, with the scan's bytes and wall time.
 */
export async function scrubStorageSystem(input: ScrubSystemInput & { carry?: PassCarry }): Promise<ScrubPassResult> {
  const target: ScrubSystemInput = { tenantId: input.tenantId, storageSystemId: input.storageSystemId };
  const pass: ScrubPassResult = input.carry?.pass ?? {
    storageSystemId: input.storageSystemId,
    chunks: 0,
    bytes: 0,
    badChunks: 0,
    elapsedMs: 0,
    manifests: 0,
    degraded: 0,
    repaired: 0,
    unrepaired: 0,
  };
  let cursor = input.carry?.cursor ?? null;
  for (let slice = 0; ; slice++) {
    if (slice >= SLICES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof scrubStorageSystem>({ ...target, carry: { cursor, pass } });
    }
    const scanned = await scanning.scrubChunks({ ...target, cursor });
    pass.chunks += scanned.chunks;
    pass.bytes += scanned.bytes;
    pass.badChunks += scanned.badChunks;
    pass.elapsedMs += scanned.elapsedMs;
    if (scanned.isDone) break;
    cursor = scanned.cursor;
  }
  const manifests = await scanning.scrubManifests(target);
  pass.manifests = manifests.manifests;
  pass.degraded = manifests.degraded;
  const repairs = await repairing.repairDegraded(target);
  pass.repaired = repairs.repaired;
  pass.unrepaired = repairs.unrepaired;
  return pass;
}

/**
 * Workflow `verifyReplica` (`verify:<tenantId>:<replicaId>`): the on-demand check of one copy. Returns the state
 * the check left it in; when it found damage, the repair starts as a workflow of its own and runs on after this one.
 */
export async function verifyReplica(input: VerifyReplicaInput): Promise<ReplicaCheckResult> {
  const checked = await scanning.checkReplica(input);
  if (checked.status === 'DEGRADED') {
    try {
      await startChild(repairReplica, {
        workflowId: repairWorkflowIdFor(input.tenantId, input.replicaId),
        args: [input],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
    } catch (error) {
      if (!alreadyRunning(error)) throw error;
    }
  }
  return checked;
}

/** Workflow `repairReplica` (`repair:<tenantId>:<replicaId>`): puts a DEGRADED copy's bad chunks back. */
export async function repairReplica(input: VerifyReplicaInput): Promise<ReplicaCheckResult> {
  return repairing.repairReplica(input);
}

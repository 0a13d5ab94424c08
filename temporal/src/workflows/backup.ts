// Deterministic workflow code: no Node builtins, no I/O, no clocks but the workflow's own.
import {
  ActivityCancellationType,
  ActivityFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { BackupActivities } from '../activities/backup-activities.js';
import {
  type BackupWorkflowInput,
  type BackupWorkflowResult,
  type LivePlan,
  livePlanQuery,
  type RetryReplicaInput,
  replicateNowSignal,
} from '../shared.js';

/**
 * Copies: heartbeats carry bytes; transient failures retry with backoff, business refusals do not. A cancelled
 * job waits for the copy to clean up its partial data before the job is marked CANCELLED.
 */
const copies = proxyActivities<BackupActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
  },
});

/** Bookkeeping: short database writes, retried until the database is back. */
const bookkeeping = proxyActivities<BackupActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** The activity's own message (an ApplicationFailure's, usually), not the wrapper's. */
const describe = (error: unknown): string => {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
};

function livePlan(): LivePlan {
  const plan: LivePlan = {
    phase: 'starting',
    currentOrder: 0,
    secondaryCount: 0,
    delaySeconds: 0,
    waitingUntil: null,
    skipDelays: false,
  };
  setHandler(replicateNowSignal, () => {
    plan.skipDelays = true;
  });
  setHandler(livePlanQuery, () => plan);
  return plan;
}

/**
 * The secondaries from `fromOrder` on: each waits `delaySeconds` after the previous copy finished (a durable
 * timer that `replicateNow` ends), then the best remaining candidate is dispatched from fresh capacity figures.
 */
async function writeSecondaries(input: BackupWorkflowInput, plan: LivePlan, fromOrder: number): Promise<void> {
  for (let order = fromOrder; order <= plan.secondaryCount; order++) {
    plan.currentOrder = order;
    const waiting = await bookkeeping.markWaiting({ ...input, order, delaySeconds: plan.delaySeconds });
    if (!waiting.hasReplica) break;
    if (plan.delaySeconds > 0 && !plan.skipDelays) {
      plan.phase = 'waiting';
      plan.waitingUntil = new Date(Date.now() + plan.delaySeconds * 1000).toISOString();
      try {
        await condition(() => plan.skipDelays, plan.delaySeconds * 1000);
      } finally {
        plan.waitingUntil = null;
      }
    }
    plan.phase = 'copying';
    try {
      const copied = await copies.copySecondary({ ...input, order });
      if (!copied.hasReplica) break;
    } catch (error) {
      if (isCancellation(error)) throw error;
      await bookkeeping.failReplica({ ...input, order, error: describe(error) });
    }
  }
}

/** Runs `work`; on cancellation, records the job as CANCELLED (outside the cancelled scope) and rethrows. */
async function cancellable(
  input: BackupWorkflowInput,
  plan: LivePlan,
  work: () => Promise<void>,
): Promise<BackupWorkflowResult> {
  try {
    await work();
  } catch (error) {
    if (!isCancellation(error)) throw error;
    plan.phase = 'finished';
    await CancellationScope.nonCancellable(() => bookkeeping.cancelJob(input));
    throw error;
  }
  plan.phase = 'finished';
  return bookkeeping.finishJob(input);
}

/**
 * One backup job: the primary first, then each secondary `delaySeconds` after the previous copy finished,
 * the next secondary chosen at dispatch from fresh capacity figures.
 */
export async function backup(input: BackupWorkflowInput): Promise<BackupWorkflowResult> {
  const plan = livePlan();
  return cancellable(input, plan, async () => {
    const started = await bookkeeping.startJob(input);
    plan.secondaryCount = started.secondaryCount;
    plan.delaySeconds = started.delaySeconds;
    plan.phase = 'copying';
    try {
      await copies.copyPrimary(input);
    } catch (error) {
      if (isCancellation(error)) throw error;
      // Without a primary there is nothing to copy from: the job fails, its secondaries stay PLANNED.
      await bookkeeping.failReplica({ ...input, order: 0, error: describe(error) });
      return;
    }
    await writeSecondaries(input, plan, 1);
  });
}

/**
 * Re-runs one FAILED replica once its storage is fixed. A failed primary is written again and the job's
 * secondaries follow as in `backup`; a failed secondary is copied again from the primary.
 */
export async function retryReplica(input: RetryReplicaInput): Promise<BackupWorkflowResult> {
  const plan = livePlan();
  const job = { tenantId: input.tenantId, jobId: input.jobId };
  return cancellable(job, plan, async () => {
    const retry = await bookkeeping.startRetry(input);
    plan.secondaryCount = retry.secondaryCount;
    plan.delaySeconds = retry.delaySeconds;
    plan.currentOrder = retry.order;
    plan.phase = 'copying';
    if (retry.order === 0) {
      try {
        await copies.copyPrimary(job);
      } catch (error) {
        if (isCancellation(error)) throw error;
        await bookkeeping.failReplica({ ...job, order: 0, error: describe(error) });
        return;
      }
      await writeSecondaries(job, plan, 1);
      return;
    }
    try {
      await copies.copySecondary({ ...job, order: retry.order });
    } catch (error) {
      if (isCancellation(error)) throw error;
      await bookkeeping.failReplica({ ...job, order: retry.order, error: describe(error) });
    }
  });
}

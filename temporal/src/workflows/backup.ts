// Deterministic workflow code: no Node builtins, no I/O, no clocks but the workflow's own.
import {
  ActivityCancellationType,
  ActivityFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { BackupActivities } from '../activities/backup-activities.js';
import {
  type BackupWorkflowInput,
  type BackupWorkflowResult,
  type CopyResult,
  dueQueueOf,
  intakeQueueOf,
  type LivePlan,
  livePlanQuery,
  type RetryReplicaInput,
  replicateNowSignal,
} from '../shared.js';

/**
 * Copies: heartbeats carry bytes; transient failures retry with backoff, business refusals do not. A cancelled
 * job waits for the copy to clean up its partial data before the job is marked CANCELLED.
 */
const COPY_OPTIONS = {
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
  },
} as const;

/**
 * Task-queue priorities (1 runs first, 3 is the default). New jobs' starts and primaries now have a queue of their
 * own (the intake queue) and secondaries another (the due queue), which is what keeps a burst of new jobs from
 * crowding the jobs already running; the priorities still order each queue's tasks, and the main queue's tasks
 * that runs scheduled before the intake queue existed.
 */
const DUE_NOW = { priorityKey: 1 };
const NEW_WORK = { priorityKey: 4 };

/**
 * A new job's start and primary copy run on the intake queue (see createBackupWorkers), a few at a time per worker:
 * under a burst of new jobs the rest wait in Temporal, not in the worker. Workflows started before this change
 * scheduled them on the main queue; the activity's queue is not part of the replayed commands, so they replay.
 */
const primaryCopies = (): BackupActivities =>
  proxyActivities<BackupActivities>({
    ...COPY_OPTIONS,
    priority: NEW_WORK,
    taskQueue: intakeQueueOf(workflowInfo().taskQueue),
  });

/** Secondary copies run on the due queue (see createBackupWorkers): worker slots of their own. */
const secondaryCopies = (): BackupActivities =>
  proxyActivities<BackupActivities>({
    ...COPY_OPTIONS,
    priority: DUE_NOW,
    taskQueue: dueQueueOf(workflowInfo().taskQueue),
  });

/** Bookkeeping: short database writes, retried until the database is back. */
const BOOKKEEPING_OPTIONS = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
} as const;
const bookkeeping = proxyActivities<BackupActivities>(BOOKKEEPING_OPTIONS);
const starting = (): BackupActivities =>
  proxyActivities<BackupActivities>({
    ...BOOKKEEPING_OPTIONS,
    priority: NEW_WORK,
    taskQueue: intakeQueueOf(workflowInfo().taskQueue),
  });

/**
 * Newer runs finish a job (and prepare a retry) as local activities: a few statements each, run by the worker
 * inside the workflow task that needs them and recorded in the history as a marker, instead of a trip through the
 * server's task queue and one more workflow task each. A job's start stays a task-queue activity at NEW_WORK
 * priority: under a burst it is what holds new jobs back while due secondaries go first. A local activity that
 * keeps failing backs off with timers past `localRetryThreshold`.
 */
const LOCAL_BOOKKEEPING = 'local-bookkeeping';
const localBookkeeping = proxyLocalActivities<BackupActivities>({
  ...BOOKKEEPING_OPTIONS,
  localRetryThreshold: '10 seconds',
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
    handOver: false,
    dispatchAhead: false,
  };
  setHandler(replicateNowSignal, () => {
    plan.skipDelays = true;
  });
  setHandler(livePlanQuery, () => plan);
  return plan;
}

/**
 * Workflows started before this patch announce each wait with a markWaiting activity and time it from then; newer
 * ones take the previous copy's completedAt (the copy activity records the next replica WAITING itself), so a
 * secondary is due exactly `delaySeconds` after the previous copy finished, and one activity and one workflow
 * task fewer stand between the two copies.
 */
const DELAY_FROM_COMPLETION = 'delay-from-previous-completion';

/**
 * Newer runs dispatch a secondary this long (at most half the delay) before it is due: the workflow task, the
 * activity's queue and its
 * preparation (choosing the system from fresh capacity, reserving space) happen inside the delay, and the copy
 * activity itself waits until the planned time before it starts moving bytes. The copy never starts early; under a
 * burst of jobs it starts on time instead of after that queueing. A replicateNow that arrives within this window
 * takes effect at the planned time.
 */
const DISPATCH_AHEAD = 'dispatch-ahead';
const DISPATCH_AHEAD_MS = 3000;

/**
 * The secondaries from `fromOrder` on: each is due `delaySeconds` after the previous copy finished (a durable
 * timer that `replicateNow` ends), then the best remaining candidate is dispatched from fresh capacity figures.
 * `previous` is the copy before `fromOrder` when it handed over (see DELAY_FROM_COMPLETION).
 */
async function writeSecondaries(
  input: BackupWorkflowInput,
  plan: LivePlan,
  fromOrder: number,
  previous: CopyResult | undefined,
): Promise<void> {
  let handedOver = previous;
  for (let order = fromOrder; order <= plan.secondaryCount; order++) {
    plan.currentOrder = order;
    let dueAt: number;
    if (handedOver?.completedAt) {
      if (!handedOver.nextPending) break;
      dueAt = Date.parse(handedOver.completedAt) + plan.delaySeconds * 1000;
    } else {
      // No hand-over (an older run, or the previous copy failed): announce the wait now and time it from now.
      const waiting = await bookkeeping.markWaiting({ ...input, order, delaySeconds: plan.delaySeconds });
      if (!waiting.hasReplica) break;
      dueAt = Date.now() + plan.delaySeconds * 1000;
    }
    // At most half the delay: the larger part of every delay stays a durable timer on the server.
    const aheadMs = plan.dispatchAhead ? Math.min(DISPATCH_AHEAD_MS, (plan.delaySeconds * 1000) / 2) : 0;
    const remainingMs = dueAt - Date.now();
    if (plan.delaySeconds > 0 && !plan.skipDelays && remainingMs > 0) {
      plan.phase = 'waiting';
      plan.waitingUntil = new Date(dueAt).toISOString();
      try {
        if (remainingMs > aheadMs) await condition(() => plan.skipDelays, remainingMs - aheadMs);
      } finally {
        plan.waitingUntil = null;
      }
    }
    // The copy waits for its planned time itself (dispatched ahead), unless replicateNow said not to wait.
    const notBefore = plan.dispatchAhead && !plan.skipDelays && remainingMs > 0 ? new Date(dueAt).toISOString() : null;
    plan.phase = 'copying';
    handedOver = undefined;
    try {
      const copied = await secondaryCopies().copySecondary({ ...input, order, handOver: plan.handOver, notBefore });
      if (!copied.hasReplica) break;
      if (plan.handOver) handedOver = copied;
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
  books: BackupActivities,
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
  return books.finishJob(input);
}

/**
 * One backup job: the primary first, then each secondary `delaySeconds` after the previous copy finished,
 * the next secondary chosen at dispatch from fresh capacity figures.
 */
export async function backup(input: BackupWorkflowInput): Promise<BackupWorkflowResult> {
  const plan = livePlan();
  plan.handOver = patched(DELAY_FROM_COMPLETION);
  plan.dispatchAhead = plan.handOver && patched(DISPATCH_AHEAD);
  const local = plan.dispatchAhead && patched(LOCAL_BOOKKEEPING);
  return cancellable(input, plan, local ? localBookkeeping : bookkeeping, async () => {
    const started = await starting().startJob(input);
    plan.secondaryCount = started.secondaryCount;
    plan.delaySeconds = started.delaySeconds;
    plan.phase = 'copying';
    let primary: CopyResult | undefined;
    try {
      primary = await primaryCopies().copyPrimary({ ...input, handOver: plan.handOver });
    } catch (error) {
      if (isCancellation(error)) throw error;
      // Without a primary there is nothing to copy from: the job fails, its secondaries stay PLANNED.
      await bookkeeping.failReplica({ ...input, order: 0, error: describe(error) });
      return;
    }
    await writeSecondaries(input, plan, 1, plan.handOver ? primary : undefined);
  });
}

/**
 * Re-runs one FAILED replica once its storage is fixed. A failed primary is written again and the job's
 * secondaries follow as in `backup`; a failed secondary is copied again from the primary.
 */
export async function retryReplica(input: RetryReplicaInput): Promise<BackupWorkflowResult> {
  const plan = livePlan();
  plan.handOver = patched(DELAY_FROM_COMPLETION);
  plan.dispatchAhead = plan.handOver && patched(DISPATCH_AHEAD);
  const local = plan.dispatchAhead && patched(LOCAL_BOOKKEEPING);
  const books = local ? localBookkeeping : bookkeeping;
  const job = { tenantId: input.tenantId, jobId: input.jobId };
  return cancellable(job, plan, books, async () => {
    const retry = await books.startRetry(input);
    plan.secondaryCount = retry.secondaryCount;
    plan.delaySeconds = retry.delaySeconds;
    plan.currentOrder = retry.order;
    plan.phase = 'copying';
    if (retry.order === 0) {
      let primary: CopyResult | undefined;
      try {
        primary = await primaryCopies().copyPrimary({ ...job, handOver: plan.handOver });
      } catch (error) {
        if (isCancellation(error)) throw error;
        await bookkeeping.failReplica({ ...job, order: 0, error: describe(error) });
        return;
      }
      await writeSecondaries(job, plan, 1, plan.handOver ? primary : undefined);
      return;
    }
    try {
      await secondaryCopies().copySecondary({ ...job, order: retry.order });
    } catch (error) {
      if (isCancellation(error)) throw error;
      await bookkeeping.failReplica({ ...job, order: retry.order, error: describe(error) });
    }
  });
}

// Deterministic workflow code: no Node builtins, no I/O, no clocks but the workflow's own.
import { ActivityFailure, ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { BackupActivities } from '../activities/backup-activities.js';
import {
  type BackupWorkflowInput,
  type BackupWorkflowResult,
  type LivePlan,
  livePlanQuery,
  replicateNowSignal,
} from '../shared.js';

/** Copies: heartbeats carry bytes; transient failures retry with backoff, business refusals do not. */
const copies = proxyActivities<BackupActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
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

const describe = (error: unknown): string => {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) return error.cause.message;
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
};

/**
 * One backup job: the primary first, then each secondary `delaySeconds` after the previous copy finished,
 * the next secondary chosen at dispatch from fresh capacity figures.
 */
export async function backup(input: BackupWorkflowInput): Promise<BackupWorkflowResult> {
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

  const started = await bookkeeping.startJob(input);
  plan.secondaryCount = started.secondaryCount;
  plan.delaySeconds = started.delaySeconds;

  plan.phase = 'copying';
  try {
    await copies.copyPrimary(input);
  } catch (error) {
    await bookkeeping.failReplica({ ...input, order: 0, error: describe(error) });
    plan.phase = 'finished';
    return bookkeeping.finishJob(input);
  }

  for (let order = 1; order <= started.secondaryCount; order++) {
    plan.currentOrder = order;
    const waiting = await bookkeeping.markWaiting({ ...input, order, delaySeconds: started.delaySeconds });
    if (!waiting.hasReplica) break;
    if (started.delaySeconds > 0 && !plan.skipDelays) {
      plan.phase = 'waiting';
      plan.waitingUntil = new Date(Date.now() + started.delaySeconds * 1000).toISOString();
      // A durable timer: it survives restarts of the worker and of the server.
      await condition(() => plan.skipDelays, started.delaySeconds * 1000);
      plan.waitingUntil = null;
    }
    plan.phase = 'copying';
    try {
      const copied = await copies.copySecondary({ ...input, order });
      if (!copied.hasReplica) break;
    } catch (error) {
      await bookkeeping.failReplica({ ...input, order, error: describe(error) });
    }
  }
  plan.phase = 'finished';
  return bookkeeping.finishJob(input);
}

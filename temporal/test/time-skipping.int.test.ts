import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BACKUP_WORKFLOW,
  type BackupWorkflowInput,
  dueQueueOf,
  intakeQueueOf,
  type LivePlan,
  livePlanQuery,
  RESTORE_WORKFLOW,
  RETRY_REPLICA_WORKFLOW,
  type RestoreWorkflowInput,
  replicateNowSignal,
  restoreWorkflowIdFor,
  retryWorkflowIdFor,
  workflowIdFor,
} from '../src/shared.js';
import type { backup, retryReplica } from '../src/workflows/backup.js';
import type { restore } from '../src/workflows/restore.js';
import { createFakeBackup, type FakeBackup, type FakeBackupOptions } from './support/fake-activities.js';
import { keepHistory, WORKFLOWS_PATH } from './support/histories.js';
import { resolveTimeSkippingServer } from './support/time-skipping-server.js';

const MINUTE_MS = 60_000;
const HOUR_S = 3600;
const DAY_S = 24 * HOUR_S;

/** Every run below covers hours or days of workflow time; on the skipping clock it takes seconds of wall time. */
const WALL_BUDGET_MS = 30_000;

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundle;
let taskQueues = 0;

/** Starts the server and bundles the workflows once; every test awaits it, so a missing server fails each test. */
async function startEnvironment(): Promise<{ env: TestWorkflowEnvironment; workflowBundle: WorkflowBundle }> {
  try {
    // Failing fake activities are the point of several tests: only errors are worth printing.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // Installed already by an earlier suite in this process: its logger stays.
  }
  const server = resolveTimeSkippingServer();
  // One bundle for every worker below: webpack runs once, not once per test.
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
  const started = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: server } },
  });
  return { env: started, workflowBundle: bundle };
}

let environment: ReturnType<typeof startEnvironment> | undefined;

// A failing beforeAll would only mark these tests skipped; a failing beforeEach fails every one of them.
beforeEach(async () => {
  environment ??= startEnvironment();
  ({ env, workflowBundle } = await environment);
});

afterAll(async () => {
  const started = await environment?.catch(() => undefined);
  await started?.env.teardown();
});

interface Scenario {
  fake: FakeBackup;
  input: BackupWorkflowInput;
}

const scenario = (name: string, options: Omit<FakeBackupOptions, 'clock'>): Scenario => ({
  fake: createFakeBackup({ ...options, clock: () => env.currentTimeMs() }),
  // Each scenario is its own tenant and job, so workflow ids never collide within the environment.
  input: { tenantId: `tenant-${name}`, jobId: `job-${name}` },
});

/** Runs a real worker with the scenario's fake activities while `work` drives the workflow through the client. */
async function withWorker<T>(fake: FakeBackup, work: (taskQueue: string) => Promise<T>): Promise<T> {
  taskQueues += 1;
  const taskQueue = `time-skipping-${taskQueues}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: fake.activities,
  });
  // Starts and primaries go to the intake queue, secondary copies to the due queue, as in the product worker
  // (createBackupWorkers).
  const sideWorker = (queue: string) =>
    Worker.create({ connection: env.nativeConnection, taskQueue: queue, activities: fake.activities });
  const [intakeWorker, dueWorker] = await Promise.all([
    sideWorker(intakeQueueOf(taskQueue)),
    sideWorker(dueQueueOf(taskQueue)),
  ]);
  return dueWorker.runUntil(intakeWorker.runUntil(worker.runUntil(work(taskQueue))));
}

const startBackup = (taskQueue: string, input: BackupWorkflowInput) =>
  env.client.workflow.start<typeof backup>(BACKUP_WORKFLOW, {
    taskQueue,
    workflowId: workflowIdFor(input.tenantId, input.jobId),
    args: [input],
  });

/**
 * Waits, in wall time, until the workflow waits before secondary `order`. Time skipping is locked while the test
 * does not await a result, so the timer cannot fire meanwhile.
 */
async function waitingBefore(handle: WorkflowHandle, order: number): Promise<LivePlan> {
  const deadline = Date.now() + 30_000;
  let plan: LivePlan | undefined;
  while (Date.now() < deadline) {
    plan = await handle.query(livePlanQuery).catch(() => undefined);
    if (plan?.phase === 'waiting' && plan.currentOrder === order) return plan;
    await delay(50);
  }
  throw new Error(`the workflow did not start waiting before secondary ${order}; last plan: ${JSON.stringify(plan)}`);
}

/**
 * Workflow time between the end of the copy before `order` (any attempt) and the start of copy `order`'s first
 * attempt: when it was dispatched, or, dispatched ahead, the planned time it waits for before moving bytes.
 */
function gapBeforeCopy(fake: FakeBackup, order: number): number {
  const previous = fake.copies(order - 1).at(-1);
  const next = fake.copies(order)[0];
  if (previous === undefined || next === undefined) {
    throw new Error(`copies ${order - 1} and ${order} did not both run: ${fake.sequence().join(', ')}`);
  }
  return Math.max(next.startedAtMs, next.notBeforeMs ?? Number.NEGATIVE_INFINITY) - previous.finishedAtMs;
}

/** How long before its planned time copy `order` was dispatched (0 when it was not dispatched ahead). */
function dispatchedAheadBy(fake: FakeBackup, order: number): number {
  const next = fake.copies(order)[0];
  return next?.notBeforeMs === undefined ? 0 : next.notBeforeMs - next.startedAtMs;
}

/** Each copy hands over to the next (recording it WAITING), so no markWaiting runs between copies that succeed. */
const FULL_RUN = ['startJob', 'copyPrimary', 'copySecondary(1)', 'copySecondary(2)', 'finishJob'];

describe('backup workflow on the time-skipping test server', () => {
  it.each([
    { label: '6 hours', delaySeconds: 6 * HOUR_S, history: 'backup-two-secondaries-6h' },
    { label: '3 days', delaySeconds: 3 * DAY_S, history: 'backup-two-secondaries-3d' },
  ] as const)(
    'copies the primary, then each secondary $label after the previous copy',
    async ({ delaySeconds, history }) => {
      const { fake, input } = scenario(history, { secondaryCount: 2, delaySeconds });
      const wallStart = Date.now();
      const result = await withWorker(fake, async (taskQueue) => {
        const handle = await startBackup(taskQueue, input);
        const finished = await handle.result();
        await keepHistory(history, handle);
        return finished;
      });

      expect(result).toEqual({ status: 'COMPLETED' });
      expect(fake.sequence()).toEqual(FULL_RUN);
      for (const order of [1, 2]) {
        // Planned exactly delaySeconds after the previous copy ended (one delay per secondary, not two), and
        // dispatched a few seconds ahead of that so the copy can start on time.
        expect(gapBeforeCopy(fake, order)).toBe(delaySeconds * 1000);
        expect(dispatchedAheadBy(fake, order)).toBeGreaterThan(0);
        expect(dispatchedAheadBy(fake, order)).toBeLessThanOrEqual(3000);
      }
      expect(Date.now() - wallStart).toBeLessThan(WALL_BUDGET_MS);
      // The skipped clock is the server's (and so the workflow's); the activities' own Date.now() stays wall time.
      const [first, second] = fake.copies(1).concat(fake.copies(2));
      expect(second!.wallStartedAtMs - first!.wallStartedAtMs).toBeLessThan(WALL_BUDGET_MS);
    },
  );

  it('stops before a secondary that the previous copy reports gone, without waiting for it', async () => {
    const { fake, input } = scenario('no-second-replica', {
      secondaryCount: 2,
      delaySeconds: 3 * DAY_S,
      hasReplica: (order) => order < 2,
    });
    const result = await withWorker(fake, async (taskQueue) => (await startBackup(taskQueue, input)).result());

    expect(result).toEqual({ status: 'COMPLETED' });
    expect(fake.sequence()).toEqual(['startJob', 'copyPrimary', 'copySecondary(1)', 'finishJob']);
    const lastCopy = fake.copies(1)[0]!;
    const finish = fake.calls.at(-1)!;
    expect(finish.startedAtMs - lastCopy.finishedAtMs).toBeLessThan(MINUTE_MS);
  });

  it('reports the wait in the livePlan query: phase waiting until the delay ends', async () => {
    const delaySeconds = 3 * DAY_S;
    const { fake, input } = scenario('live-plan', { secondaryCount: 2, delaySeconds });
    await withWorker(fake, async (taskQueue) => {
      const handle = await startBackup(taskQueue, input);

      const first = await waitingBefore(handle, 1);
      expect(first).toMatchObject({ phase: 'waiting', currentOrder: 1, secondaryCount: 2, delaySeconds });
      expect(first.skipDelays).toBe(false);
      const primaryEnd = fake.copies(0)[0]!.finishedAtMs;
      const firstEnd = Date.parse(first.waitingUntil ?? '');
      expect(firstEnd - primaryEnd).toBeGreaterThanOrEqual(delaySeconds * 1000 - MINUTE_MS);
      expect(firstEnd - primaryEnd).toBeLessThanOrEqual(delaySeconds * 1000 + MINUTE_MS);
      expect(fake.sequence()).toEqual(['startJob', 'copyPrimary']);

      // Skip exactly past the first delay: the first secondary is copied and the second wait begins.
      await env.sleep(delaySeconds * 1000 + MINUTE_MS);
      const second = await waitingBefore(handle, 2);
      const secondEnd = Date.parse(second.waitingUntil ?? '');
      expect(secondEnd - fake.copies(1)[0]!.finishedAtMs).toBeGreaterThanOrEqual(delaySeconds * 1000 - MINUTE_MS);

      await handle.result();
      const finished = await handle.query(livePlanQuery);
      expect(finished).toMatchObject({ phase: 'finished', currentOrder: 2, waitingUntil: null });
    });
    expect(fake.sequence()).toEqual(FULL_RUN);
  });

  it('replicateNow during a 3-day wait starts the next copy at once, and every later one', async () => {
    const delaySeconds = 3 * DAY_S;
    const { fake, input } = scenario('replicate-now', { secondaryCount: 2, delaySeconds });
    const history = await withWorker(fake, async (taskQueue) => {
      const handle = await startBackup(taskQueue, input);
      await waitingBefore(handle, 1);
      await handle.signal(replicateNowSignal);
      await handle.result();
      await keepHistory('backup-replicate-now', handle);
      const plan = await handle.query(livePlanQuery);
      expect(plan.skipDelays).toBe(true);
      return handle.fetchHistory();
    });

    expect(fake.sequence()).toEqual(FULL_RUN);
    expect(gapBeforeCopy(fake, 1)).toBeLessThan(MINUTE_MS);
    expect(gapBeforeCopy(fake, 2)).toBeLessThan(MINUTE_MS);
    // The one timer (before secondary 1) was cancelled by the signal; none was started for secondary 2.
    const events = history.events ?? [];
    expect(events.filter((event) => event.timerStartedEventAttributes)).toHaveLength(1);
    expect(events.filter((event) => event.timerCanceledEventAttributes)).toHaveLength(1);
    expect(events.filter((event) => event.timerFiredEventAttributes)).toHaveLength(0);
  });

  it('replicateNow during the primary copy means no secondary waits at all', async () => {
    let releasePrimary = () => {};
    const primaryReleased = new Promise<void>((resolve) => {
      releasePrimary = resolve;
    });
    let primaryStarted = () => {};
    const primaryRunning = new Promise<void>((resolve) => {
      primaryStarted = resolve;
    });
    const { fake, input } = scenario('replicate-now-early', {
      secondaryCount: 2,
      delaySeconds: 3 * DAY_S,
      beforeCopy: async (order) => {
        if (order !== 0) return;
        primaryStarted();
        await primaryReleased;
      },
    });
    await withWorker(fake, async (taskQueue) => {
      const handle = await startBackup(taskQueue, input);
      await primaryRunning;
      await handle.signal(replicateNowSignal);
      releasePrimary();
      await handle.result();
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((event) => event.timerStartedEventAttributes)).toHaveLength(0);
    });
    expect(fake.sequence()).toEqual(FULL_RUN);
    expect(gapBeforeCopy(fake, 1)).toBeLessThan(MINUTE_MS);
    expect(gapBeforeCopy(fake, 2)).toBeLessThan(MINUTE_MS);
  });

  it('cancelling during a wait records the job as cancelled and copies nothing more', async () => {
    const { fake, input } = scenario('cancel-during-wait', { secondaryCount: 2, delaySeconds: 3 * DAY_S });
    const failure = await withWorker(fake, async (taskQueue) => {
      const handle = await startBackup(taskQueue, input);
      await waitingBefore(handle, 1);
      await handle.cancel();
      const error = await handle.result().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      await keepHistory('backup-cancelled-during-wait', handle);
      const plan = await handle.query(livePlanQuery);
      expect(plan.phase).toBe('finished');
      return error;
    });

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(fake.sequence()).toEqual(['startJob', 'copyPrimary', 'cancelJob']);
  });

  it('a primary copy refused for good fails replica 0 and finishes the job without any secondary', async () => {
    const { fake, input } = scenario('primary-fails', {
      secondaryCount: 2,
      delaySeconds: 6 * HOUR_S,
      copyFailure: (order) =>
        order === 0 ? ApplicationFailure.nonRetryable('the staged upload is gone', 'NOT_FOUND') : undefined,
    });
    const result = await withWorker(fake, async (taskQueue) => {
      const handle = await startBackup(taskQueue, input);
      const finished = await handle.result();
      await keepHistory('backup-primary-fails', handle);
      return finished;
    });

    expect(result).toEqual({ status: 'COMPLETED' });
    expect(fake.sequence()).toEqual(['startJob', 'copyPrimary', 'failReplica(0)', 'finishJob']);
    expect(fake.copies(0)).toHaveLength(1);
    expect(fake.calls[2]?.error).toBe('the staged upload is gone');
  });

  it('a secondary refused for good is failed and the next secondary still follows after the delay', async () => {
    const delaySeconds = 6 * HOUR_S;
    const { fake, input } = scenario('secondary-fails', {
      secondaryCount: 2,
      delaySeconds,
      copyFailure: (order) =>
        order === 1 ? ApplicationFailure.nonRetryable('bucket policy denies writes', 'STORAGE_UNAVAILABLE') : undefined,
    });
    await withWorker(fake, async (taskQueue) => {
      const handle = await startBackup(taskQueue, input);
      await handle.result();
      await keepHistory('backup-secondary-fails', handle);
    });

    // After a failed copy there is no hand-over: markWaiting announces the next wait, timed from the failure.
    expect(fake.sequence()).toEqual([
      'startJob',
      'copyPrimary',
      'copySecondary(1)',
      'failReplica(1)',
      'markWaiting(2)',
      'copySecondary(2)',
      'finishJob',
    ]);
    expect(fake.copies(1)).toHaveLength(1);
    expect(fake.calls.find((call) => call.activity === 'failReplica')?.error).toBe('bucket policy denies writes');
    expect(gapBeforeCopy(fake, 2)).toBeGreaterThanOrEqual(delaySeconds * 1000);
  });

  it('a transient secondary failure is retried with backoff; after 5 attempts the replica is failed', async () => {
    const { fake, input } = scenario('secondary-retried', {
      secondaryCount: 2,
      delaySeconds: 6 * HOUR_S,
      // Secondary 1 never recovers; secondary 2 recovers on its third attempt.
      copyFailure: (order, attempt) =>
        order === 1 || (order === 2 && attempt < 3) ? new Error(`connection reset (attempt ${attempt})`) : undefined,
    });
    const wallStart = Date.now();
    await withWorker(fake, async (taskQueue) => {
      const handle = await startBackup(taskQueue, input);
      await handle.result();
      await keepHistory('backup-secondary-retried', handle);
    });

    expect(fake.copies(1).map((call) => call.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(fake.copies(2).map((call) => call.attempt)).toEqual([1, 2, 3]);
    expect(fake.sequence().filter((name) => !name.startsWith('copySecondary'))).toEqual([
      'startJob',
      'copyPrimary',
      'failReplica(1)',
      'markWaiting(2)',
      'finishJob',
    ]);
    expect(fake.calls.find((call) => call.activity === 'failReplica')?.error).toBe('connection reset (attempt 5)');
    expect(Date.now() - wallStart).toBeLessThan(WALL_BUDGET_MS);
  });
});

describe('retryReplica workflow on the time-skipping test server', () => {
  const startRetryWorkflow = (taskQueue: string, input: BackupWorkflowInput, replicaId: string) =>
    env.client.workflow.start<typeof retryReplica>(RETRY_REPLICA_WORKFLOW, {
      taskQueue,
      workflowId: retryWorkflowIdFor(input.tenantId, replicaId, 1),
      args: [{ ...input, replicaId }],
    });

  it('a failed primary is written again and every secondary follows with its delay', async () => {
    const delaySeconds = 3 * DAY_S;
    const { fake, input } = scenario('retry-primary', { secondaryCount: 2, delaySeconds, retryOrder: 0 });
    const result = await withWorker(fake, async (taskQueue) => {
      const handle = await startRetryWorkflow(taskQueue, input, 'replica-primary');
      const finished = await handle.result();
      await keepHistory('retry-replica-primary', handle);
      return finished;
    });

    expect(result).toEqual({ status: 'COMPLETED' });
    expect(fake.sequence()).toEqual(['startRetry', ...FULL_RUN.slice(1)]);
    expect(gapBeforeCopy(fake, 1)).toBeGreaterThanOrEqual(delaySeconds * 1000);
    expect(gapBeforeCopy(fake, 2)).toBeGreaterThanOrEqual(delaySeconds * 1000);
  });

  it('a failed secondary is copied again alone, without a delay', async () => {
    const { fake, input } = scenario('retry-secondary', { secondaryCount: 2, delaySeconds: 3 * DAY_S, retryOrder: 2 });
    const result = await withWorker(fake, async (taskQueue) => {
      const handle = await startRetryWorkflow(taskQueue, input, 'replica-second');
      const finished = await handle.result();
      await keepHistory('retry-replica-secondary', handle);
      return finished;
    });

    expect(result).toEqual({ status: 'COMPLETED' });
    expect(fake.sequence()).toEqual(['startRetry', 'copySecondary(2)', 'finishJob']);
    const [retry, copy] = fake.calls;
    expect(copy!.startedAtMs - retry!.finishedAtMs).toBeLessThan(MINUTE_MS);
  });
});

describe('workflow restore (time-skipping)', () => {
  const runRestore = (fake: FakeBackup, name: string) =>
    withWorker(fake, async (taskQueue) => {
      const input: RestoreWorkflowInput = { tenantId: `tenant-${name}`, restoreJobId: `restore-${name}` };
      const handle = await env.client.workflow.start<typeof restore>(RESTORE_WORKFLOW, {
        taskQueue,
        workflowId: restoreWorkflowIdFor(input.tenantId, input.restoreJobId),
        args: [input],
      });
      return { handle, result: await handle.result() };
    });

  it('reads the copies once and is done', async () => {
    const { fake } = scenario('restore-ok', { secondaryCount: 0, delaySeconds: 0 });
    const { handle, result } = await runRestore(fake, 'ok');
    await keepHistory('restore-completed', handle);
    expect(result).toEqual({ status: 'COMPLETED' });
    expect(fake.sequence()).toEqual(['runRestore']);
  });

  it('retries reading with backoff, then records the restore FAILED with the last reason', async () => {
    const { fake } = scenario('restore-down', {
      secondaryCount: 0,
      delaySeconds: 0,
      restoreFailure: (attempt) => new Error(`storage unreachable (attempt ${attempt})`),
    });
    const { handle, result } = await runRestore(fake, 'down');
    await keepHistory('restore-reading-fails', handle);
    expect(result).toEqual({ status: 'FAILED' });
    expect(fake.sequence()).toEqual([...Array(5).fill('runRestore'), 'failRestore']);
    expect(fake.calls.at(-1)?.error).toBe('the restore failed: storage unreachable (attempt 5)');
    // Backoff 1, 2, 4, 8 s between the five attempts, on the workflow's clock.
    const starts = fake.calls.slice(0, 5).map((call) => call.startedAtMs);
    const gaps = starts.slice(1).map((start, i) => start - (starts[i] as number));
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(1000 * 2 ** i);
    });
  });

  it('gives up at once on a refusal that retrying cannot fix', async () => {
    const { fake } = scenario('restore-refused', {
      secondaryCount: 0,
      delaySeconds: 0,
      restoreFailure: () => ApplicationFailure.nonRetryable('restore job does not exist', 'NOT_FOUND'),
    });
    const { result } = await runRestore(fake, 'refused');
    expect(result).toEqual({ status: 'FAILED' });
    expect(fake.sequence()).toEqual(['runRestore', 'failRestore']);
    expect(fake.calls.at(-1)?.error).toBe('the restore failed: restore job does not exist');
  });
});

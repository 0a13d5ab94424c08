import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { BackupActivities } from './activities/index.js';
import { dueQueueOf, intakeQueueOf } from './shared.js';

export interface BackupWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** The workflow code, bundled: see bundleWorkflowsInChild (bundling in this process keeps webpack's memory). */
  workflowBundle: { code: string };
  activities: BackupActivities;
  /** Activities the main queue runs at once (bookkeeping, restores): beyond it, work waits in Temporal by priority. */
  activitySlots: number;
  /** New jobs' starts and primary copies the intake queue runs at once: beyond it, new jobs wait in Temporal. */
  intakeSlots: number;
  /** Overrides for the main queue's worker (benchmarks). */
  tuning?: Partial<WorkerOptions>;
}

/** Secondary copies that are due, or about to be: each mostly waits for its planned time or streams bytes. */
const DUE_SLOTS = 100;

/**
 * The three workers of a worker process, on one connection: the main task queue (workflows, bookkeeping,
 * restores); its intake queue, where new jobs' starts and primary copies run a few at a time; and its due queue,
 * where secondary copies run with slots of their own, so a copy whose planned time has come never waits for a slot
 * behind a burst of new jobs. Few intake slots are what keep a burst from crowding the jobs already running: with
 * new jobs sharing the main queue's 20 slots the benchmark's p99 lateness was 0.65–1.1 s; with the intake queue's
 * 5 it was 15–347 ms in six runs at the same throughput (docs/benchmarks.md).
 */
export async function createBackupWorkers(options: BackupWorkerOptions): Promise<Worker[]> {
  const shared = {
    connection: options.connection,
    namespace: options.namespace,
    activities: options.activities,
    shutdownGraceTime: '5 seconds',
    // Heartbeats reach the server at least every second, so a cancelled copy stops promptly.
    maxHeartbeatThrottleInterval: '1 second',
  } as const;
  const main = await Worker.create({
    ...shared,
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle,
    maxConcurrentActivityTaskExecutions: options.activitySlots,
    // After a worker dies, its sticky queue holds the next workflow task this long before any worker takes it. 3 s
    // (session 1) recovered faster from a crash but, under a burst, sent dozens of tasks that merely waited their
    // turn to the congested normal queue (p99 lateness up to 7–100 s, docs/benchmarks.md): 10 s, the SDK's default.
    stickyQueueScheduleToStartTimeout: '10 seconds',
    ...options.tuning,
  });
  const intake = await Worker.create({
    ...shared,
    taskQueue: intakeQueueOf(options.taskQueue),
    maxConcurrentActivityTaskExecutions: options.intakeSlots,
  });
  const due = await Worker.create({
    ...shared,
    taskQueue: dueQueueOf(options.taskQueue),
    maxConcurrentActivityTaskExecutions: DUE_SLOTS,
  });
  return [main, intake, due];
}

/** Runs the workers until SIGINT/SIGTERM (or one of them fails), then lets the others finish too. */
export async function runUntilSignalled(workers: readonly Worker[], name: string): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${name}: ${signal} received, shutting down`);
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    });
  }
  const runs = workers.map((worker) => worker.run());
  try {
    await Promise.race(runs);
  } finally {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.allSettled(runs);
  }
  await Promise.all(runs);
}

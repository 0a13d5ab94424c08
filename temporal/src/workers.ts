import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { BackupActivities } from './activities/index.js';
import { dueQueueOf } from './shared.js';

export interface BackupWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  workflowsPath: string;
  activities: BackupActivities;
  /** Activities the main queue runs at once (primaries, bookkeeping): beyond it, work waits in Temporal by priority. */
  activitySlots: number;
  /** Overrides for the main queue's worker (benchmarks). */
  tuning?: Partial<WorkerOptions>;
}

/** Secondary copies that are due, or about to be: each mostly waits for its planned time or streams bytes. */
const DUE_SLOTS = 100;

/**
 * The two workers of a worker process, on one connection: the main task queue (workflows, primaries, bookkeeping)
 * and its due queue, where secondary copies run with slots of their own, so a copy whose planned time has come
 * never waits for a slot behind a burst of new jobs.
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
    workflowsPath: options.workflowsPath,
    maxConcurrentActivityTaskExecutions: options.activitySlots,
    // After a worker dies, its sticky queue holds the next workflow task this long before any worker takes it. 3 s
    // (session 1) recovered faster from a crash but, under a burst, sent dozens of tasks that merely waited their
    // turn to the congested normal queue (p99 lateness up to 7–100 s, docs/benchmarks.md): 10 s, the SDK's default.
    stickyQueueScheduleToStartTimeout: '10 seconds',
    ...options.tuning,
  });
  const due = await Worker.create({
    ...shared,
    taskQueue: dueQueueOf(options.taskQueue),
    maxConcurrentActivityTaskExecutions: DUE_SLOTS,
  });
  return [main, due];
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

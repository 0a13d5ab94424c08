// An experiment-only twin of temporal/src/worker.ts: the same workflows and activities, with the worker's
// concurrency settings and the database pool taken from BENCH_WORKER_* variables, so that the orchestration
// benchmark can measure a setting before anyone changes the product worker
// (`npm run bench:orchestration -- --tuned-worker --stack-env BENCH_WORKER_DB_POOL=30`).
// Unset variables keep the SDK's (and createDb's) defaults, so with none set this behaves like the real worker.
//   BENCH_WORKER_DB_POOL               the worker's PostgreSQL pool (createDb's max; default 10)
//   BENCH_WORKER_MAX_ACTIVITIES        maxConcurrentActivityTaskExecutions (SDK default 100)
//   BENCH_WORKER_MAX_WORKFLOW_TASKS    maxConcurrentWorkflowTaskExecutions (SDK default 40)
//   BENCH_WORKER_WORKFLOW_TASK_POLLS   maxConcurrentWorkflowTaskPolls (SDK default 10: 8 sticky, 2 normal)
//   BENCH_WORKER_ACTIVITY_TASK_POLLS   maxConcurrentActivityTaskPolls (SDK default 10)
//   BENCH_WORKER_WORKFLOW_THREADS      workflowThreadPoolSize (SDK default 1)
//   BENCH_WORKER_STICKY_TIMEOUT_MS     stickyQueueScheduleToStartTimeout (the product worker's and the SDK's 10 s)
//   BENCH_WORKER_WORKFLOWS_PATH        workflows module relative to the repository root (an experimental variant)
//   BENCH_WORKER_CPU_PROFILE           write a V8 CPU profile of the worker's main thread (activities, Prisma, the
//                                      SDK's bridge) to this file when the worker stops (open it in Chrome DevTools)
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { loadConfig, REPO_ROOT, required } from '@echelon/config';
import { createDb } from '@echelon/db';
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../temporal/src/activities/index.js';
import { bundleWorkflowsInChild } from '../temporal/src/workflow-bundle.js';
import { createBackupWorkers, runUntilSignalled } from '../temporal/src/workers.js';

/** BENCH_WORKER_<name>, unset when empty. Not turbo inputs: the benchmark is not a turbo task. */
const text = (name: string): string | undefined => process.env[`BENCH_WORKER_${name}`] || undefined;

const setting = (name: string): number | undefined => {
  const raw = text(name);
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`BENCH_WORKER_${name} must be an integer, not ${raw}`);
  return value;
};

/** Starts the CPU profiler when BENCH_WORKER_CPU_PROFILE names a file; the returned function writes the profile. */
async function startProfile(): Promise<() => Promise<void>> {
  const file = text('CPU_PROFILE');
  if (file === undefined) return async () => undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    console.log(`tuned worker: CPU profile written to ${file}`);
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const writeProfile = await startProfile();
  Runtime.install({ logger: new DefaultLogger(config.logLevel === 'debug' ? 'DEBUG' : 'WARN') });
  const dbPool = setting('DB_POOL');
  const workflows = text('WORKFLOWS_PATH') ?? 'temporal/src/workflows/index.ts';
  const db = createDb(required(config.databaseUrl, 'DATABASE_URL'), dbPool === undefined ? {} : { max: dbPool });
  const connection = await NativeConnection.connect({ address: required(config.temporalAddress, 'TEMPORAL_ADDRESS') });
  const tuning: Partial<WorkerOptions> = {};
  const activities = setting('MAX_ACTIVITIES');
  const workflowTasks = setting('MAX_WORKFLOW_TASKS');
  const workflowPolls = setting('WORKFLOW_TASK_POLLS');
  const activityPolls = setting('ACTIVITY_TASK_POLLS');
  const threads = setting('WORKFLOW_THREADS');
  if (activities !== undefined) tuning.maxConcurrentActivityTaskExecutions = activities;
  if (workflowTasks !== undefined) tuning.maxConcurrentWorkflowTaskExecutions = workflowTasks;
  if (workflowPolls !== undefined) tuning.maxConcurrentWorkflowTaskPolls = workflowPolls;
  if (activityPolls !== undefined) tuning.maxConcurrentActivityTaskPolls = activityPolls;
  if (threads !== undefined) tuning.workflowThreadPoolSize = threads;
  tuning.stickyQueueScheduleToStartTimeout = setting('STICKY_TIMEOUT_MS') ?? 10_000;
  const workers = await createBackupWorkers({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    // An experimental variant of the workflows can be swapped in (a path relative to the repository root).
    workflowBundle: await bundleWorkflowsInChild(path.join(REPO_ROOT, workflows)),
    activities: createActivities({ db, copyRateLimit: config.copyRateLimit, secretKey: config.secretKey }),
    activitySlots: config.workerActivitySlots,
    intakeSlots: config.workerIntakeSlots,
    tuning,
  });
  console.log(
    `worker polling task queue ${config.taskQueue} (bench tuned worker: ${JSON.stringify({ dbPool, workflows, ...tuning })})`,
  );
  try {
    await runUntilSignalled(workers, 'tuned worker');
  } finally {
    await writeProfile();
    await connection.close();
    await db.$disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('tuned worker failed:', error);
    process.exit(1);
  },
);

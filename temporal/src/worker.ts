import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, required } from '@echelon/config';
import { warnIfRowSecurityBypassed, createDb } from '@echelon/db';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createWorkerActivities } from './activities/index.js';
import { createBackupClient } from './client.js';
import { dueQueueOf, intakeQueueOf } from './shared.js';
import { bundleWorkflowsInChild } from './workflow-bundle.js';
import { createBackupWorkers, runUntilSignalled } from './workers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

// A stray error in one activity's callback must not end every copy this process runs: it is logged and the
// process goes on (the launcher restarts a process that dies; Temporal retries what it was doing).
process.on('uncaughtException', (error) => console.error('worker: uncaught exception (the process goes on):', error));
process.on('unhandledRejection', (reason) =>
  console.error('worker: unhandled rejection (the process goes on):', reason),
);

/** The worker process: runs backup workflows and their activities until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger(config.logLevel === 'debug' ? 'DEBUG' : 'WARN') });
  const db = createDb(required(config.databaseUrl, 'DATABASE_URL'), { applicationName: 'echelon-worker' });
  await warnIfRowSecurityBypassed(db, 'worker');
  const connection = await NativeConnection.connect({ address: required(config.temporalAddress, 'TEMPORAL_ADDRESS') });
  const workers = await createBackupWorkers({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowBundle: await bundleWorkflowsInChild(path.join(here, 'workflows', 'index.ts')),
    activities: createWorkerActivities({
      db,
      copyRateLimit: config.copyRateLimit,
      secretKey: config.secretKey,
      s3PrivateEndpoints: config.s3PrivateEndpoints,
      scrubBytesPerSecond: config.scrubBytesPerSecond,
      scrubIntervalSeconds: config.scrubIntervalSeconds,
    }),
    activitySlots: config.workerActivitySlots,
    intakeSlots: config.workerIntakeSlots,
  });
  console.log(
    `worker polling task queues ${config.taskQueue}, ${intakeQueueOf(config.taskQueue)} and ${dueQueueOf(config.taskQueue)} on ${config.temporalAddress}`,
  );
  if (config.scrubIntervalSeconds > 0) {
    // The scheduler is a workflow: it keeps its timer in Temporal, so starting it from every worker is a no-op
    // once one runs. A failure here must not keep the worker from its copies: the next worker start tries again.
    try {
      const scheduler = await createBackupClient({
        address: required(config.temporalAddress, 'TEMPORAL_ADDRESS'),
        namespace: config.temporalNamespace,
        taskQueue: config.taskQueue,
      });
      await scheduler.ensureScrubScheduler().finally(() => scheduler.close());
    } catch (error) {
      console.error('worker: the scrub scheduler could not be started (the next worker start tries again):', error);
    }
  }
  try {
    await runUntilSignalled(workers, 'worker');
  } finally {
    await connection.close();
    await db.$disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('worker failed:', error);
    process.exit(1);
  },
);

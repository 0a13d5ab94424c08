import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, required } from '@echelon/config';
import { createDb } from '@echelon/db';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from './activities/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The worker process: runs backup workflows and their activities until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger(config.logLevel === 'debug' ? 'DEBUG' : 'WARN') });
  const db = createDb(required(config.databaseUrl, 'DATABASE_URL'));
  const connection = await NativeConnection.connect({ address: required(config.temporalAddress, 'TEMPORAL_ADDRESS') });
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowsPath: path.join(here, 'workflows', 'index.ts'),
    activities: createActivities({ db, copyRateLimit: config.copyRateLimit, secretKey: config.secretKey }),
    shutdownGraceTime: '5 seconds',
    maxConcurrentActivityTaskExecutions: config.workerActivitySlots,
    // Heartbeats reach the server at least every second, so a cancelled copy stops promptly.
    maxHeartbeatThrottleInterval: '1 second',
    // After a worker dies, its sticky queue holds the next workflow task this long before any worker takes it.
    stickyQueueScheduleToStartTimeout: '3 seconds',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`worker: ${signal} received, shutting down`);
      worker.shutdown();
    });
  }
  console.log(`worker polling task queue ${config.taskQueue} on ${config.temporalAddress}`);
  try {
    await worker.run();
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

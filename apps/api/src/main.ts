import { loadConfig, required } from '@echelon/config';
import {
  createDb,
  forgetAllApiKeys,
  forgetApiKey,
  pendingRestores,
  tenantDb,
  warnIfRowSecurityBypassed,
} from '@echelon/db';
import { EventHub, JobFeeds, JobUpdateFeeds } from '@echelon/events';
import { createBackupClient } from '@echelon/temporal';
import { createWorkflowStarter } from './modules/jobs/workflow-starter.js';
import { startUploadExpiry } from './modules/uploads/index.js';
import { createApiServer } from './server.js';

/**
 * A request handler's stray error must not end the process for every tenant: it is logged and the process
 * goes on (each request's own failure is answered where it happens; the launcher restarts a process that dies).
 */
process.on('uncaughtException', (error) => console.error('api: uncaught exception (the process goes on):', error));
process.on('unhandledRejection', (reason) => console.error('api: unhandled rejection (the process goes on):', reason));

/** The API process: GraphQL (HTTP + graphql-ws) and tus uploads on one port. */
async function main(): Promise<void> {
  const config = loadConfig();
  const databaseUrl = required(config.databaseUrl, 'DATABASE_URL');
  const db = createDb(databaseUrl, { applicationName: 'echelon-api' });
  await warnIfRowSecurityBypassed(db, 'api');
  const hub = new EventHub(databaseUrl, (message) => console.warn(message));
  // Signed-in keys are kept for a few seconds: a revocation in any API process forgets them here at once, and a
  // lost LISTEN connection (notices may have been missed) forgets them all.
  hub.onKeyRevoked(({ apiKeyId }) => forgetApiKey(apiKeyId));
  hub.onReconnect(() => forgetAllApiKeys());
  await hub.start();
  // Subscription reads have their own small pool: a burst of subscribers never starves requests.
  const liveDb = createDb(databaseUrl, { max: 4, applicationName: 'echelon-api' });
  const warn = (message: string) => console.warn(message);
  const feeds = new JobFeeds((tenantId) => tenantDb(liveDb, tenantId), hub, warn);
  const jobUpdates = new JobUpdateFeeds((tenantId) => tenantDb(liveDb, tenantId), hub, 150, warn);
  const backups = await createBackupClient({
    address: required(config.temporalAddress, 'TEMPORAL_ADDRESS'),
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
  });
  // New jobs' workflows start off the request's path; a job whose start was lost (this or another API process
  // died, Temporal was down) is found by the starter's sweep, now and every few seconds. Starting is idempotent.
  const starter = createWorkflowStarter({ db, backups, log: (message) => console.warn(message) });
  await starter.sweep();
  for (const restore of await pendingRestores(db)) {
    await backups.startRestore({ tenantId: restore.tenant_id, restoreJobId: restore.id });
  }

  const server = await createApiServer({ config, db, hub, feeds, jobUpdates, backups, starter });
  const uploadExpiry = startUploadExpiry({
    db,
    stagingDir: config.stagingDir,
    expirySeconds: config.uploadExpirySeconds,
    log: (message) => console.log(message),
  });
  server.httpServer.listen(config.apiPort, config.bindHost, () => {
    console.log(`api listening on http://${config.bindHost}:${config.apiPort}/graphql`);
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`api: ${signal} received, shutting down`);
    uploadExpiry.stop();
    await server.close();
    await starter.stop();
    feeds.stop();
    jobUpdates.stop();
    await hub.stop();
    await liveDb.$disconnect();
    await backups.close();
    await db.$disconnect();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('api failed to start:', error);
  process.exit(1);
});

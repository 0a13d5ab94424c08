import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type EchelonConfig, loadConfig, REPO_ROOT } from '@echelon/config';
import { createDb, type DemoCredentials, ensureAppRole, ensureDemoTenant, migrate } from '@echelon/db';
import { startEmbeddedPostgres } from './postgres.js';
import {
  assertPortFree,
  httpOk,
  type LogSink,
  type ServiceProcess,
  startProcess,
  startTsProcess,
  waitFor,
} from './processes.js';
import { startTemporalDevServer } from './temporal-server.js';

async function openLogFile(file: string): Promise<{ write: LogSink; close: () => Promise<void> }> {
  await mkdir(path.dirname(file), { recursive: true });
  const stream = createWriteStream(file, { flags: 'a' });
  return {
    write: (line) => stream.write(`${new Date().toISOString()} ${line}\n`),
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}

export const MIGRATIONS_DIR = path.join(REPO_ROOT, 'prisma', 'migrations');

export interface StackOptions {
  /** Overrides of the environment (tests pass their own ports and data directory). */
  env?: Record<string, string | undefined>;
  worker?: boolean;
  api?: boolean;
  /** 'dev' runs `next dev`, 'prod' runs `next start` on a finished `next build`. */
  web?: false | 'dev' | 'prod';
  seedDemo?: boolean;
  log?: LogSink;
}

export interface RunningStack {
  config: EchelonConfig;
  /** The owner's URL: migrations, seeding and tests' checks; row-level security does not apply to it. */
  databaseUrl: string;
  /** What the API and the worker connect with: the application's role, under row-level security. */
  appDatabaseUrl: string;
  temporalAddress: string;
  apiUrl: string;
  webUrl: string | undefined;
  temporalUiUrl: string | undefined;
  demo: DemoCredentials | undefined;
  /** The environment handed to every child: what a process needs to join this stack. */
  childEnv: NodeJS.ProcessEnv;
  processes: Map<string, ServiceProcess>;
  /** Starts (or restarts) one of the app processes with this stack's environment. */
  startService(name: 'worker' | 'api'): Promise<ServiceProcess>;
  /**
   * Stops the embedded PostgreSQL (fast shutdown: every session is cut) and starts it again on the same data
   * directory and port, as a database restart in production would; `whileDown` runs in between, so a test can
   * hold the outage until something it watches has happened. Only for a stack that started PostgreSQL.
   */
  restartPostgres(options?: { whileDown?: () => Promise<void> }): Promise<void>;
  stop(): Promise<void>;
}

/** Every line a child prints that matches, as a promise: used to know when the worker polls. */
function lineWatcher(log: LogSink) {
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const sink: LogSink = (line) => {
    log(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const waitForLine = (pattern: RegExp) => new Promise<void>((resolve) => waiters.push({ pattern, resolve }));
  return { sink, waitForLine };
}

/**
 * Brings up Echelon on this machine: embedded PostgreSQL and the Temporal dev server unless DATABASE_URL /
 * TEMPORAL_ADDRESS point elsewhere, migrations, the demo tenant, then the worker, the API and the web UI.
 * `npm start` and the integration and browser tests all use this one function.
 */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const baseLog = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { sink: log, waitForLine } = lineWatcher(baseLog);
  const config = loadConfig({ ...process.env, ...options.env });
  const stops: (() => Promise<void>)[] = [];
  const processes = new Map<string, ServiceProcess>();
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error) => log(`[stack] stop failed: ${String(error)}`));
    stops.length = 0;
  };
  let restartPostgres = (_options: { whileDown?: () => Promise<void> }): Promise<void> =>
    Promise.reject(new Error('this stack did not start PostgreSQL (DATABASE_URL is set), so it cannot restart it'));
  try {
    let databaseUrl = config.databaseUrl;
    if (databaseUrl === undefined) {
      // PostgreSQL's own chatter goes to a file; failures still surface as errors here.
      const pgLog = await openLogFile(path.join(config.dataDir, 'logs', 'postgres.log'));
      stops.push(pgLog.close);
      const pgOptions = { dataDir: path.join(config.dataDir, 'pg'), port: config.pgPort, log: pgLog.write };
      let pg = await startEmbeddedPostgres(pgOptions);
      // Stops whichever server runs at the end, the first or one started by restartPostgres.
      stops.push(() => pg.stop());
      databaseUrl = pg.databaseUrl;
      restartPostgres = async ({ whileDown }) => {
        await pg.stop();
        try {
          await whileDown?.();
        } finally {
          pg = await startEmbeddedPostgres(pgOptions);
        }
      };
    }
    const { applied } = await migrate(databaseUrl, MIGRATIONS_DIR);
    if (applied.length > 0) log(`[db] applied migrations: ${applied.join(', ')}`);
    // The API and the worker connect as the application's role, under row-level security.
    const appDatabaseUrl = config.appDatabaseUrl ?? (await ensureAppRole(databaseUrl));

    let temporalAddress = config.temporalAddress;
    let temporalUiUrl: string | undefined;
    if (temporalAddress === undefined) {
      const temporal = await startTemporalDevServer({
        dbFile: path.join(config.dataDir, 'temporal.db'),
        port: config.temporalPort,
        uiPort: config.temporalUiPort,
        namespace: config.temporalNamespace,
        ...(config.temporalCli ? { cli: config.temporalCli } : {}),
        log,
      });
      stops.push(temporal.stop);
      temporalAddress = temporal.address;
      temporalUiUrl = temporal.uiUrl;
    }

    let demo: DemoCredentials | undefined;
    if (options.seedDemo) {
      const db = createDb(databaseUrl, { max: 2 });
      try {
        const seeded = await ensureDemoTenant(db, {
          storageRoot: path.join(config.dataDir, 'storage'),
          credentialsFile: path.join(config.dataDir, 'demo-credentials.json'),
        });
        if (seeded.created) log('[db] seeded the demo tenant');
        demo = seeded.credentials;
      } finally {
        await db.$disconnect();
      }
    }

    const apiUrl = `http://localhost:${config.apiPort}`;
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      ECHELON_DATA_DIR: config.dataDir,
      DATABASE_URL: appDatabaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: config.temporalNamespace,
      TEMPORAL_TASK_QUEUE: config.taskQueue,
      ECHELON_API_PORT: String(config.apiPort),
      ECHELON_STAGING_DIR: config.stagingDir,
      ECHELON_PUBLIC_API_URL: config.publicApiUrl ?? apiUrl,
    };

    const startService = async (name: 'worker' | 'api'): Promise<ServiceProcess> => {
      const previous = processes.get(name);
      if (previous !== undefined && previous.child.exitCode === null && previous.child.signalCode === null) {
        throw new Error(`${name} is already running`);
      }
      if (name === 'worker') {
        const ready = waitForLine(/\[worker\].*worker polling/);
        const worker = startTsProcess('worker', 'temporal/src/worker.ts', { env: childEnv, log });
        processes.set('worker', worker);
        await Promise.race([
          ready,
          worker.exited.then(() => Promise.reject(new Error('the worker exited before it polled'))),
        ]);
        return worker;
      }
      await assertPortFree(config.apiPort, 'the API', 'ECHELON_API_PORT');
      const api = startTsProcess('api', 'apps/api/src/main.ts', { env: childEnv, log });
      processes.set('api', api);
      await waitFor('the API', httpOk(`http://127.0.0.1:${config.apiPort}/health`), {
        timeoutMs: 90_000,
        exited: api.exited,
      });
      return api;
    };
    const stopService = (name: string) => async () => {
      await processes.get(name)?.stop();
    };

    if (options.worker !== false) {
      await startService('worker');
      stops.push(stopService('worker'));
    }
    if (options.api !== false) {
      await startService('api');
      stops.push(stopService('api'));
    }
    let webUrl: string | undefined;
    if (options.web) {
      await assertPortFree(config.webPort, 'the web UI', 'ECHELON_WEB_PORT');
      const nextBin = path.join(REPO_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
      const web = startProcess(
        'web',
        process.execPath,
        [nextBin, options.web === 'dev' ? 'dev' : 'start', '--port', String(config.webPort)],
        { env: { ...childEnv, PORT: String(config.webPort) }, cwd: path.join(REPO_ROOT, 'apps', 'web'), log },
      );
      processes.set('web', web);
      stops.push(stopService('web'));
      webUrl = `http://localhost:${config.webPort}`;
      await waitFor('the web UI', httpOk(`http://127.0.0.1:${config.webPort}/login`), {
        timeoutMs: 180_000,
        exited: web.exited,
      });
    }
    return {
      config,
      databaseUrl,
      appDatabaseUrl,
      temporalAddress,
      apiUrl,
      webUrl,
      temporalUiUrl,
      demo,
      childEnv,
      processes,
      startService,
      restartPostgres: (restart = {}) => restartPostgres(restart),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

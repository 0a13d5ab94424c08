import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type EchelonConfig, loadConfig, REPO_ROOT } from '@echelon/config';
import { createDb, type DemoCredentials, ensureAppRole, ensureDemoTenant, migrate } from '@echelon/db';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from './postgres.js';
import {
  assertPortFree,
  httpOk,
  type LogSink,
  PLATFORM_SECRETS,
  type ServiceProcess,
  startProcess,
  startTsProcess,
  waitFor,
} from './processes.js';
import { startTemporalDevServer, type TemporalServerHandle } from './temporal-server.js';

async function openLogFile(file: string): Promise<{ write: LogSink; close: () => Promise<void> }> {
  await mkdir(path.dirname(file), { recursive: true });
  const stream = createWriteStream(file, { flags: 'a' });
  return {
    write: (line) => stream.write(`${new Date().toISOString()} ${line}\n`),
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}

export const MIGRATIONS_DIR = path.join(REPO_ROOT, 'prisma', 'migrations');

/** The processes of the platform itself, which the launcher starts last and stops first. */
export type AppService = 'api' | 'worker' | 'web';

/** Every child of the launcher, in the order it stops them: each one before what it uses. */
export const STOP_ORDER = ['web', 'api', 'worker', 'temporal', 'postgres'] as const;
export type StackChild = (typeof STOP_ORDER)[number];

/** What one child gets to stop before its process group is killed. */
const STOP_TIMEOUT_MS = 10_000;

/** Supervision: a crashed child is started again after 1 s, then 2, 4 … up to 30 s while it keeps crashing. */
export const RESTART_FIRST_DELAY_MS = 1_000;
export const RESTART_MAX_DELAY_MS = 30_000;
/** A child that ran this long was healthy: its next crash starts the delays from the first one again. */
export const RESTART_RESET_AFTER_MS = 60_000;

export interface StackOptions {
  /** Overrides of the environment (tests pass their own ports and data directory). */
  env?: Record<string, string | undefined>;
  worker?: boolean;
  api?: boolean;
  /** 'dev' runs `next dev`, 'prod' runs `next start` on a finished `next build`. */
  web?: false | 'dev' | 'prod';
  seedDemo?: boolean;
  log?: LogSink;
  /**
   * Restart any child that dies without being asked to (`npm start`). Off for tests, which kill and start
   * processes themselves.
   */
  supervise?: boolean;
  /** Aborting it stops the stack, also while it is still starting (a Ctrl-C then): startStack then rejects. */
  signal?: AbortSignal;
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
  /**
   * The API's environment: what a process needs to join this stack. The worker's and the web UI's are narrower
   * (`serviceEnv`).
   */
  childEnv: NodeJS.ProcessEnv;
  /** The app processes by name (`api`, `worker`, `web`). */
  processes: Map<string, ServiceProcess>;
  /** Starts (or restarts) one of the app processes with this stack's environment. */
  startService(name: 'worker' | 'api'): Promise<ServiceProcess>;
  /**
   * Stops the embedded PostgreSQL (fast shutdown: every session is cut) and starts it again on the same data
   * directory and port, as a database restart in production would; `whileDown` runs in between, so a test can
   * hold the outage until something it watches has happened. Only for a stack that started PostgreSQL.
   */
  restartPostgres(options?: { whileDown?: () => Promise<void> }): Promise<void>;
  /** Stops every child in STOP_ORDER, each within 10 s, and logs each one; calling it again waits for the same. */
  stop(): Promise<void>;
}

/** The secrets each app process uses; DATABASE_URL is the application role's URL by then. */
const SECRETS_USED: Record<AppService, readonly (typeof PLATFORM_SECRETS)[number][]> = {
  // Sign-in and the first platform administrator, storage credentials, its data.
  api: ['DATABASE_URL', 'ECHELON_SECRET_KEY', 'ECHELON_BOOTSTRAP_TOKEN'],
  // Storage credentials for copies, its data.
  worker: ['DATABASE_URL', 'ECHELON_SECRET_KEY'],
  // Only GraphQL, through the public API URL.
  web: [],
};

/**
 * The environment of one app process: the stack's shared settings, only the secrets that process uses, and its
 * NODE_ENV. The API and the worker run with `production` (no stack traces to clients, introspection off by
 * default) unless the launcher itself runs under NODE_ENV `development` (`NODE_ENV=development npm start`) or
 * `test` (the test suites); the web UI's follows its mode, since `next dev` needs `development`.
 */
export function serviceEnv(
  service: AppService,
  stackEnv: NodeJS.ProcessEnv,
  webMode: 'dev' | 'prod',
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...stackEnv };
  for (const secret of PLATFORM_SECRETS) if (!SECRETS_USED[service].includes(secret)) delete env[secret];
  const launcherNodeEnv = stackEnv.NODE_ENV;
  const appNodeEnv = launcherNodeEnv === 'development' || launcherNodeEnv === 'test' ? launcherNodeEnv : 'production';
  env.NODE_ENV = service === 'web' ? (webMode === 'dev' ? 'development' : 'production') : appNodeEnv;
  return env;
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';
const isLoopback = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '::1';
const inUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** Where the launcher reaches a server bound to `bindHost`: that address, or loopback for all interfaces. */
export const probeHost = (bindHost: string): string => (isWildcard(bindHost) ? '127.0.0.1' : bindHost);

/** The host in the URLs the banner prints: `localhost` on this machine, otherwise the address served. */
const urlHost = (bindHost: string): string =>
  isWildcard(bindHost) || isLoopback(bindHost) ? 'localhost' : inUrl(bindHost);

/** Every line a child prints that matches, as a promise: used to know when the worker polls. */
function lineWatcher(log: LogSink) {
  const waiters = new Set<{ pattern: RegExp; resolve: () => void }>();
  const sink: LogSink = (line) => {
    log(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  const waitForLine = (pattern: RegExp) => {
    let waiter: { pattern: RegExp; resolve: () => void } | undefined;
    const seen = new Promise<void>((resolve) => {
      waiter = { pattern, resolve };
      waiters.add(waiter);
    });
    return { seen, cancel: () => waiter && waiters.delete(waiter) };
  };
  return { sink, waitForLine };
}

const formatSeconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];

/** Waits `ms`, or less once `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Restarts the children that die without having been asked to, with a delay that doubles while they keep dying.
 * A child that was stopped on purpose (`stop`, a test's restart), or replaced meanwhile, is left alone.
 */
function createSupervisor(log: LogSink, stopping: AbortSignal) {
  const delays = new Map<StackChild, { restarts: number; delayMs: number }>();
  return {
    /**
     * Watches a child that is up. `current` names the child running under that name now; `restart` starts it
     * again and watches the new one, or throws.
     */
    watch(
      name: StackChild,
      child: ServiceProcess,
      current: () => ServiceProcess | undefined,
      restart: () => Promise<unknown>,
    ): void {
      const upAt = Date.now();
      void child.exited.then(async () => {
        if (stopping.aborted || child.stopRequested || current() !== child) return;
        let backoff = delays.get(name);
        if (backoff === undefined || Date.now() - upAt >= RESTART_RESET_AFTER_MS) {
          backoff = { restarts: 0, delayMs: RESTART_FIRST_DELAY_MS };
          delays.set(name, backoff);
        }
        let what = `exited (${child.exitDescription() ?? 'unknown status'})`;
        for (;;) {
          backoff.restarts += 1;
          log(`[stack] ${name} ${what}; restarting in ${formatSeconds(backoff.delayMs)} (restart ${backoff.restarts})`);
          await pause(backoff.delayMs, stopping);
          backoff.delayMs = Math.min(backoff.delayMs * 2, RESTART_MAX_DELAY_MS);
          const now = current();
          if (stopping.aborted || (now !== child && now !== undefined && now.exitDescription() === undefined)) return;
          try {
            await restart();
            log(`[stack] ${name} restarted`);
            return;
          } catch (error) {
            if (stopping.aborted) return;
            what = `did not start again (${errorText(error)})`;
          }
        }
      });
    },
  };
}

/**
 * Brings up Echelon on this machine: embedded PostgreSQL and the Temporal dev server unless DATABASE_URL /
 * TEMPORAL_ADDRESS point elsewhere, migrations, the demo tenant, then the worker, the API and the web UI.
 * `npm start` and the integration and browser tests all use this one function.
 */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const baseLog = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { sink: log, waitForLine } = lineWatcher(baseLog);
  const stackEnv: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  const config = loadConfig(stackEnv);
  const stopping = new AbortController();
  const supervisor = options.supervise === true ? createSupervisor(log, stopping.signal) : undefined;
  const processes = new Map<string, ServiceProcess>();
  // How to stop each child that was started, whichever process of it runs by then.
  const childStops = new Map<StackChild, () => Promise<void>>();
  const closeLogs: (() => Promise<void>)[] = [];
  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopped ??= (async () => {
      stopping.abort();
      for (const name of STOP_ORDER) {
        const stop = childStops.get(name);
        if (stop === undefined) continue;
        const since = Date.now();
        try {
          await stop();
          log(`[stack] ${name} stopped (${formatSeconds(Date.now() - since)})`);
        } catch (error) {
          log(`[stack] stopping ${name} failed: ${errorText(error)}`);
        }
      }
      for (const close of closeLogs) await close().catch(() => {});
    })();
    return stopped;
  };
  options.signal?.addEventListener('abort', () => void stopAll(), { once: true });
  if (options.signal?.aborted) void stopAll();
  const checkNotStopping = () => {
    if (stopping.signal.aborted) throw new Error('the stack is stopping');
  };

  let restartPostgres = (_options: { whileDown?: () => Promise<void> }): Promise<void> =>
    Promise.reject(new Error('this stack did not start PostgreSQL (DATABASE_URL is set), so it cannot restart it'));
  try {
    let databaseUrl = config.databaseUrl;
    if (databaseUrl === undefined) {
      // PostgreSQL's own chatter goes to a file; failures still surface as errors here.
      const pgLog = await openLogFile(path.join(config.dataDir, 'logs', 'postgres.log'));
      closeLogs.push(pgLog.close);
      let postmaster: ServiceProcess | undefined;
      childStops.set('postgres', async () => postmaster?.stop(STOP_TIMEOUT_MS));
      let pg: EmbeddedPostgresHandle | undefined;
      const startPostgres = async (): Promise<EmbeddedPostgresHandle> => {
        const started = await startEmbeddedPostgres({
          dataDir: path.join(config.dataDir, 'pg'),
          port: config.pgPort,
          log: pgLog.write,
          signal: stopping.signal,
          onSpawn: (spawned) => {
            postmaster = spawned;
          },
        });
        pg = started;
        supervisor?.watch('postgres', started.process, () => postmaster, startPostgres);
        return started;
      };
      databaseUrl = (await startPostgres()).databaseUrl;
      restartPostgres = async ({ whileDown }) => {
        await pg?.stop();
        try {
          await whileDown?.();
        } finally {
          await startPostgres();
        }
      };
    }
    checkNotStopping();
    const { applied } = await migrate(databaseUrl, MIGRATIONS_DIR);
    if (applied.length > 0) log(`[db] applied migrations: ${applied.join(', ')}`);
    // The API and the worker connect as the application's role, under row-level security.
    const appDatabaseUrl = config.appDatabaseUrl ?? (await ensureAppRole(databaseUrl));

    let temporalAddress = config.temporalAddress;
    let temporalUiUrl: string | undefined;
    if (temporalAddress === undefined) {
      checkNotStopping();
      let server: ServiceProcess | undefined;
      let handle: TemporalServerHandle | undefined;
      childStops.set('temporal', async () => (server !== undefined ? server.stop(STOP_TIMEOUT_MS) : handle?.stop()));
      const startTemporal = async (): Promise<TemporalServerHandle> => {
        const started = await startTemporalDevServer({
          dbFile: path.join(config.dataDir, 'temporal.db'),
          port: config.temporalPort,
          uiPort: config.temporalUiPort,
          namespace: config.temporalNamespace,
          ...(config.temporalCli ? { cli: config.temporalCli } : {}),
          log,
          signal: stopping.signal,
          onSpawn: (spawned) => {
            server = spawned;
          },
        });
        handle = started;
        if (started.process !== undefined) supervisor?.watch('temporal', started.process, () => server, startTemporal);
        return started;
      };
      const temporal = await startTemporal();
      temporalAddress = temporal.address;
      temporalUiUrl = temporal.uiUrl;
    }

    let demo: DemoCredentials | undefined;
    if (options.seedDemo) {
      checkNotStopping();
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

    const servedAt = probeHost(config.bindHost);
    const apiUrl = `http://${urlHost(config.bindHost)}:${config.apiPort}`;
    const sharedEnv: NodeJS.ProcessEnv = {
      ...stackEnv,
      ECHELON_DATA_DIR: config.dataDir,
      DATABASE_URL: appDatabaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: config.temporalNamespace,
      TEMPORAL_TASK_QUEUE: config.taskQueue,
      ECHELON_API_PORT: String(config.apiPort),
      ECHELON_BIND_HOST: config.bindHost,
      ECHELON_STAGING_DIR: config.stagingDir,
      ECHELON_PUBLIC_API_URL: config.publicApiUrl ?? apiUrl,
    };
    const webMode = options.web === 'prod' ? 'prod' : 'dev';
    const envOf = (service: AppService) => serviceEnv(service, sharedEnv, webMode);

    /** Starts one app process and resolves once it serves; a process that does not get there is stopped. */
    const startApp = async (name: AppService): Promise<ServiceProcess> => {
      const previous = processes.get(name);
      if (previous !== undefined && previous.exitDescription() === undefined) {
        throw new Error(`${name} is already running`);
      }
      let started: ServiceProcess;
      let ready: Promise<void>;
      if (name === 'worker') {
        checkNotStopping();
        const polling = waitForLine(/\[worker\].*worker polling/);
        started = startTsProcess('worker', 'temporal/src/worker.ts', { env: envOf('worker'), log });
        const worker = started;
        ready = Promise.race([
          polling.seen,
          worker.exited.then(() => Promise.reject(new Error('the worker exited before it polled'))),
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error('the worker did not poll within 120 s')), 120_000).unref(),
          ),
        ]).finally(polling.cancel);
      } else if (name === 'api') {
        await assertPortFree(config.apiPort, 'the API', 'ECHELON_API_PORT', servedAt);
        checkNotStopping();
        started = startTsProcess('api', 'apps/api/src/main.ts', { env: envOf('api'), log });
        ready = waitFor('the API', httpOk(`http://${inUrl(servedAt)}:${config.apiPort}/health`), {
          timeoutMs: 90_000,
          exited: started.exited,
        });
      } else {
        await assertPortFree(config.webPort, 'the web UI', 'ECHELON_WEB_PORT', servedAt);
        checkNotStopping();
        const nextBin = path.join(REPO_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
        const nextArgs = [webMode === 'dev' ? 'dev' : 'start', '--port', String(config.webPort)];
        started = startProcess('web', process.execPath, [nextBin, ...nextArgs, '--hostname', config.bindHost], {
          env: { ...envOf('web'), PORT: String(config.webPort) },
          cwd: path.join(REPO_ROOT, 'apps', 'web'),
          log,
        });
        ready = waitFor('the web UI', httpOk(`http://${inUrl(servedAt)}:${config.webPort}/login`), {
          timeoutMs: 180_000,
          exited: started.exited,
        });
      }
      processes.set(name, started);
      childStops.set(name, async () => processes.get(name)?.stop(STOP_TIMEOUT_MS));
      try {
        await ready;
      } catch (error) {
        await started.stop();
        throw error;
      }
      supervisor?.watch(
        name,
        started,
        () => processes.get(name),
        () => startApp(name),
      );
      return started;
    };

    if (options.worker !== false) await startApp('worker');
    if (options.api !== false) await startApp('api');
    let webUrl: string | undefined;
    if (options.web) {
      await startApp('web');
      webUrl = `http://${urlHost(config.bindHost)}:${config.webPort}`;
    }
    checkNotStopping();
    return {
      config,
      databaseUrl,
      appDatabaseUrl,
      temporalAddress,
      apiUrl,
      webUrl,
      temporalUiUrl,
      demo,
      childEnv: envOf('api'),
      processes,
      startService: (name) => startApp(name),
      restartPostgres: (restart = {}) => restartPostgres(restart),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

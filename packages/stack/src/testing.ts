import { rm } from 'node:fs/promises';
import { createDb, type Db } from '@echelon/db';
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './processes.js';
import { type RunningStack, type StackOptions, startStack } from './stack.js';

/** A temp directory the postgres system user can enter. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

export interface TestStack {
  stack: RunningStack;
  db: Db;
  dataDir: string;
  apiUrl: string;
  webUrl: string | undefined;
  stop(): Promise<void>;
}

/**
 * The real stack on free ports in a fresh directory: embedded PostgreSQL, the Temporal CLI dev server, the
 * worker and the API as child processes. Nothing is faked; if the Temporal CLI cannot be found this throws.
 */
export async function startTestStack(
  options: { web?: StackOptions['web']; env?: Record<string, string> } = {},
): Promise<TestStack> {
  const dataDir = await tempDir('echelon-it-');
  const lines: string[] = [];
  const stack = await startStack({
    env: {
      ECHELON_DATA_DIR: dataDir,
      ECHELON_API_PORT: String(await freePort()),
      ECHELON_PG_PORT: String(await freePort()),
      ECHELON_TEMPORAL_PORT: String(await freePort()),
      ECHELON_TEMPORAL_UI_PORT: String(await freePort()),
      ECHELON_WEB_PORT: String(await freePort()),
      DATABASE_URL: undefined,
      TEMPORAL_ADDRESS: undefined,
      ...options.env,
    },
    web: options.web ?? false,
    log: (line) => {
      lines.push(line);
      if (process.env.ECHELON_TEST_VERBOSE) console.log(line);
    },
  }).catch(async (error: unknown) => {
    console.error(lines.slice(-60).join('\n'));
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  const db = createDb(stack.databaseUrl, { max: 4 });
  return {
    stack,
    db,
    dataDir,
    apiUrl: `http://127.0.0.1:${stack.config.apiPort}`,
    webUrl: stack.webUrl,
    async stop() {
      await db.$disconnect();
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

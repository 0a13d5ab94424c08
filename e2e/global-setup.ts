import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '@echelon/config';
import { startTestStack } from '@echelon/stack';
import { E2E_ENV } from './support/e2e-env.js';
import { CHROMIUM_EXECUTABLE } from './support/chromium.js';

const WEB_DIR = path.join(REPO_ROOT, 'apps', 'web');
const BUILD_ID = path.join(WEB_DIR, '.next', 'BUILD_ID');
const WEB_SOURCE_DIRS = ['app', 'components', 'lib'].map((dir) => path.join(WEB_DIR, dir));

/** A browser suite that silently skips proves nothing: no browser is a failure, said plainly. */
async function assertChromium(): Promise<void> {
  try {
    await access(CHROMIUM_EXECUTABLE, constants.X_OK);
  } catch {
    throw new Error(
      `E2E SETUP FAILED: no executable Chromium at "${CHROMIUM_EXECUTABLE}". ` +
        'Install it (Debian: `apt-get install chromium`) or set CHROMIUM_PATH to a Chromium/Chrome binary. ' +
        'The browser suite never skips for a missing browser.',
    );
  }
}

/** `next start` serves only a finished build; without one the UI would never come up and setup would time out. */
async function assertWebBuild(): Promise<void> {
  const built = await stat(BUILD_ID).catch(() => undefined);
  if (built === undefined) {
    throw new Error(
      `E2E SETUP FAILED: ${path.relative(REPO_ROOT, BUILD_ID)} is missing, so \`next start\` has nothing to serve. ` +
        'Build the web UI first: `npm run build --workspace @echelon/web` (or `npx turbo run build --filter @echelon/web`).',
    );
  }
  const newer = await newestSourceChange();
  if (newer !== undefined && newer.mtimeMs > built.mtimeMs) {
    // Not fatal (mtimes lie after a checkout), but a stale build makes a failing spec very confusing.
    console.warn(
      `[e2e] warning: ${path.relative(REPO_ROOT, newer.file)} changed after the last web build; ` +
        'the suite tests the old build. Rebuild with `npm run build --workspace @echelon/web`.',
    );
  }
}

async function newestSourceChange(): Promise<{ file: string; mtimeMs: number } | undefined> {
  let newest: { file: string; mtimeMs: number } | undefined;
  for (const dir of WEB_SOURCE_DIRS) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      const { mtimeMs } = await stat(file);
      if (newest === undefined || mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
    }
  }
  return newest;
}

/**
 * Starts the whole stack once for the run (embedded PostgreSQL, Temporal dev server, worker, API, `next start`)
 * and hands its addresses to the specs through the environment. Each spec seeds its own tenant.
 * Playwright calls the returned function as the global teardown.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  await assertChromium();
  await assertWebBuild();

  const startedAt = Date.now();
  const testStack = await startTestStack({ web: 'prod' });
  if (testStack.webUrl === undefined) {
    await testStack.stop();
    throw new Error('E2E SETUP FAILED: the stack started without the web UI although web: "prod" was asked for.');
  }
  console.log(
    `[e2e] stack up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: web ${testStack.webUrl}, api ${testStack.apiUrl}`,
  );

  process.env[E2E_ENV.apiUrl] = testStack.apiUrl;
  process.env[E2E_ENV.webUrl] = testStack.webUrl;
  process.env[E2E_ENV.databaseUrl] = testStack.stack.databaseUrl;
  process.env[E2E_ENV.dataDir] = testStack.dataDir;

  return async () => {
    const stoppingAt = Date.now();
    await testStack.stop();
    console.log(`[e2e] stack stopped in ${((Date.now() - stoppingAt) / 1000).toFixed(1)} s`);
  };
}

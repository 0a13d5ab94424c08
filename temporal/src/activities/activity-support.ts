import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type Db,
  getWorkJob,
  listStorageSystems,
  type Replica,
  type StorageSystem,
  type StorageSystemWithSpaces,
  storageConnectionOf,
  tenantDb,
  type WorkJob,
} from '@echelon/db';
import { loadConfig } from '@echelon/config';
import { DomainError, isDomainError } from '@echelon/domain';
import {
  adapterFor,
  ChecksumMismatchError,
  type ChunkRepository,
  chunkRepositoryFor,
  unusableStorageError,
} from '@echelon/storage';
import { type BackupWorkflowInput, PROGRESS_INTERVAL_MS } from '../shared.js';

export interface ActivityDeps {
  db: Db;
  /** Progress events at most this often per replica; the final state is always recorded. */
  progressIntervalMs?: number;
  /** Bytes per second per copy; 0 or undefined: unlimited. */
  copyRateLimit?: number;
  /** Opens stored storage credentials (S3); defaults to ECHELON_SECRET_KEY from this process's config. */
  secretKey?: Buffer;
  /** S3 endpoints that may reach internal addresses (ECHELON_S3_PRIVATE_ENDPOINTS); default: none. */
  s3PrivateEndpoints?: readonly string[];
  /** Bytes per second a scrub reads from one storage system (ECHELON_SCRUB_BYTES_PER_SECOND); undefined: unlimited. */
  scrubBytesPerSecond?: number;
  /** Seconds between scrub passes of a storage system (ECHELON_SCRUB_INTERVAL_SECONDS); 0 or undefined: off. */
  scrubIntervalSeconds?: number;
}

/** Business refusals end the retries at once; everything else is retried by the workflow's policy. */
const NON_RETRYABLE: ReadonlySet<string> = new Set([
  'NOT_FOUND',
  'INSUFFICIENT_CAPACITY',
  'BAD_USER_INPUT',
  'CONFLICT',
  // Misconfigured or refusing storage: an operator fixes it, then calls retryReplica.
  'STORAGE_UNAVAILABLE',
]);

const DATABASE_UNREACHABLE = new Set([
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  'ECONNREFUSED',
  'ECONNRESET',
  '57P01',
  '57P03',
]);
const DATABASE_UNREACHABLE_TEXT =
  /can't reach database server|connection terminated|connection refused|terminating connection|the database system is (starting up|shutting down)|server closed the connection/i;

/** True when the database could not be reached at all (as opposed to refusing a statement). */
export function isDatabaseUnreachable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && DATABASE_UNREACHABLE.has(code)) return true;
    if (DATABASE_UNREACHABLE_TEXT.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * What a workflow (and through it a user) sees of a failure: business refusals end the retries at once with
 * their message; infrastructure errors get a plain sentence instead of a stack of driver internals.
 */
function toFailure(error: unknown): unknown {
  if (isDomainError(error) && NON_RETRYABLE.has(error.code)) {
    return ApplicationFailure.nonRetryable(error.message, error.code);
  }
  if (error instanceof ChecksumMismatchError) return ApplicationFailure.retryable(error.message, 'CHECKSUM_MISMATCH');
  if (isDatabaseUnreachable(error))
    return ApplicationFailure.retryable('the database was unreachable', 'DATABASE_UNREACHABLE');
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^P\d{4}$/.test(code)) {
    // The driver's words stay in the worker's log, for the operator; the workflow gets the plain sentence.
    console.error(`the database refused an operation (${code}):`, error instanceof Error ? error.message : error);
    return ApplicationFailure.retryable(`the database refused the operation (${code})`, 'DATABASE_ERROR');
  }
  return error;
}

/** How long an activity waits for an unreachable database before it gives up and lets Temporal retry it. */
const DATABASE_PATIENCE_MS = 10 * 60 * 1000;

/**
 * Runs an activity's work. While the database is unreachable (a restart, a failover) the work is repeated —
 * heartbeating, so the activity stays alive — instead of spending the copy's retry budget; every activity is
 * idempotent, so running it again is safe.
 */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + DATABASE_PATIENCE_MS;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnreachable(error) || Date.now() > giveUpAt) throw toFailure(error);
      const context = Context.current();
      // A local activity (job start and finish) has no heartbeat: the worker keeps its workflow task alive.
      if (!context.info.isLocal) context.heartbeat({ waitingForDatabase: true });
      await context.sleep(1000);
    }
  }
}

/** The repository operations that write to the storage. */
const CHUNK_WRITES: ReadonlySet<PropertyKey> = new Set(['put', 'flush', 'commitManifest']);

/**
 * A repository whose writes report storage that refuses them (a mount gone bad, no permission) as
 * STORAGE_UNAVAILABLE naming the system and space, never a path on the worker's host: the message reaches the
 * tenant as the replica's error, and no retry helps until an operator fixes the storage.
 */
function withPlainWriteErrors(repository: ChunkRepository, where: string): ChunkRepository {
  return new Proxy(repository, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || !CHUNK_WRITES.has(property)) return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...params: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (error) {
          throw unusableStorageError(error, where);
        }
      };
    },
  });
}

/** What every group of activities shares: the database as a tenant, storage access, the job being worked on. */
export interface ActivityEnv {
  deps: ActivityDeps;
  progressIntervalMs: number;
  /** The database as the job's tenant (row-level security); every input names its tenant. */
  as(tenantId: string): Db;
  loadJob(input: BackupWorkflowInput): Promise<WorkJob>;
  replicaAt(job: WorkJob, order: number): Replica | undefined;
  /** The adapter of a system, its credentials decrypted only in memory and only for this use. */
  adapterOf(system: StorageSystem): ReturnType<typeof adapterFor>;
  /** A tenant's chunks and manifests in one space of a system (credentials as for `adapterOf`). */
  repositoryOf(system: StorageSystem, spaceName: string, tenantId: string): ChunkRepository;
  /** A storage system of the tenant, from `systems` when the caller already read them. */
  systemOf(
    tenantId: string,
    storageSystemId: string,
    systems?: StorageSystemWithSpaces[],
  ): Promise<StorageSystemWithSpaces>;
}

export function createActivityEnv(deps: ActivityDeps): ActivityEnv {
  const as = (tenantId: string) => tenantDb(deps.db, tenantId);
  let secretKey = deps.secretKey;
  const connectionOf = (system: StorageSystem) => {
    if (system.secretConfig !== null) secretKey ??= loadConfig().secretKey;
    return storageConnectionOf(system, secretKey);
  };
  // Every connection is held to the platform's address rules again, whatever the endpoint resolved to before.
  const s3 = () => ({ privateEndpoints: deps.s3PrivateEndpoints ?? [] });
  return {
    deps,
    progressIntervalMs: deps.progressIntervalMs ?? PROGRESS_INTERVAL_MS,
    as,
    async loadJob(input) {
      const job = await getWorkJob(as(input.tenantId), input.tenantId, input.jobId);
      if (job === null) throw new DomainError('NOT_FOUND', `backup job ${input.jobId} does not exist`);
      return job;
    },
    replicaAt: (job, order) => job.replicas.find((replica) => replica.order === order),
    adapterOf: (system) => adapterFor(connectionOf(system), { s3: s3() }),
    repositoryOf: (system, spaceName, tenantId) =>
      withPlainWriteErrors(
        chunkRepositoryFor(connectionOf(system), spaceName, tenantId, { s3: s3() }),
        `${system.name}/${spaceName}`,
      ),
    async systemOf(tenantId, storageSystemId, systems) {
      const system = (systems ?? (await listStorageSystems(as(tenantId), tenantId))).find(
        (candidate) => candidate.id === storageSystemId,
      );
      if (system === undefined) throw new DomainError('NOT_FOUND', `storage system ${storageSystemId} does not exist`);
      return system;
    },
  };
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  cancelJob,
  type Db,
  finishJob,
  startRetry,
  getWorkJob,
  listReplicas,
  listStorageSystems,
  type StorageSystem,
  storageConnectionOf,
  recordProgress,
  releaseSpace,
  type Replica,
  reserveSpace,
  setJobStatus,
  toCapacity,
  transitionReplica,
  assignDispatchOrder,
  type StorageSystemWithSpaces,
  tenantDb,
  getRestoreJob,
  restoreSources,
  updateRestoreJob,
  type WorkJob,
} from '@echelon/db';
import { loadConfig } from '@echelon/config';
import {
  DomainError,
  isDomainError,
  orderRestoreCandidates,
  orderSecondaries,
  type ResolvedScheme,
} from '@echelon/domain';
import { adapterFor, ChecksumMismatchError, objectKeyFor } from '@echelon/storage';
import { type Readable, Transform } from 'node:stream';
import {
  type BackupWorkflowInput,
  type BackupWorkflowResult,
  type CopyResult,
  PROGRESS_INTERVAL_MS,
  type RestoreWorkflowInput,
  type RetryReplicaInput,
} from '../shared.js';

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
}

/** Paces a stream to `bytesPerSecond`, so a copy does not saturate the link or the disk. */
function rateLimited(bytesPerSecond: number): Transform {
  const started = Date.now();
  let passed = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      passed += chunk.length;
      const due = started + (passed / bytesPerSecond) * 1000;
      setTimeout(() => callback(null, chunk), Math.max(0, due - Date.now()));
    },
  });
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
async function guarded<T>(work: () => Promise<T>): Promise<T> {
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

/** The activities of the backup workflow; every one is safe to run again after a crash. */
export function createActivities(deps: ActivityDeps) {
  /** The database as the job's tenant (row-level security); every input names its tenant. */
  const as = (tenantId: string) => tenantDb(deps.db, tenantId);
  const progressIntervalMs = deps.progressIntervalMs ?? PROGRESS_INTERVAL_MS;

  const loadJob = async (input: BackupWorkflowInput): Promise<WorkJob> => {
    const job = await getWorkJob(as(input.tenantId), input.tenantId, input.jobId);
    if (job === null) throw new DomainError('NOT_FOUND', `backup job ${input.jobId} does not exist`);
    return job;
  };

  const replicaAt = (job: WorkJob, order: number): Replica | undefined =>
    job.replicas.find((replica) => replica.order === order);

  let secretKey = deps.secretKey;
  /** The adapter of a system, its credentials decrypted only in memory and only for this use. */
  const adapterOf = (system: StorageSystem) => {
    if (system.secretConfig !== null) secretKey ??= loadConfig().secretKey;
    // Every connection is held to the platform's address rules again, whatever the endpoint resolved to before.
    return adapterFor(storageConnectionOf(system, secretKey), {
      s3: { privateEndpoints: deps.s3PrivateEndpoints ?? [] },
    });
  };

  /** A storage system of the tenant, from `systems` when the caller already read them. */
  const systemOf = async (tenantId: string, storageSystemId: string, systems?: StorageSystemWithSpaces[]) => {
    const system = (systems ?? (await listStorageSystems(as(tenantId), tenantId))).find(
      (candidate) => candidate.id === storageSystemId,
    );
    if (system === undefined) throw new DomainError('NOT_FOUND', `storage system ${storageSystemId} does not exist`);
    return system;
  };

  /**
   * Streams `source` into the replica's space: COPYING with throttled progress events and heartbeats,
   * VERIFYING while the landed bytes are re-read, COMPLETED with the checksum. An object already committed by
   * an earlier attempt that crashed before recording it is verified and accepted instead of copied again.
   */
  const copyInto = async (
    job: WorkJob,
    replica: Replica,
    openSource: () => Promise<Readable>,
    /** notBefore: a copy dispatched ahead starts moving bytes then; systems: the tenant's, if already read. */
    { notBefore = null, systems }: { notBefore?: Date | null; systems?: StorageSystemWithSpaces[] } = {},
  ) => {
    if (replica.status === 'COMPLETED') return;
    const tenantId = job.tenantId;
    const version = job.datasetVersion;
    const reserved = await reserveSpace(as(tenantId), tenantId, replica.id);
    const system = await systemOf(tenantId, reserved.storageSystemId, systems);
    const space = system.spaces.find((candidate) => candidate.id === reserved.spaceId);
    if (space === undefined) throw new DomainError('NOT_FOUND', `backup space ${reserved.spaceId} does not exist`);
    const adapter = adapterOf(system);
    const key = objectKeyFor({ tenantId, datasetId: version.datasetId, version: version.number });
    const expected = { sha256: version.sha256, bytes: Number(version.sizeBytes) };
    const context = Context.current();
    // Dispatched ahead of its planned time: everything is ready, the bytes start moving on time, never before. One
    // heartbeat per 10 s of waiting (the lead is at most 3 s: one), each a write on the Temporal server; a cancel
    // that arrives meanwhile is delivered by the copy's first heartbeat, which aborts it and removes its data.
    for (let wait = notBefore === null ? 0 : notBefore.getTime() - Date.now(); wait > 0; ) {
      context.heartbeat({ waitingUntil: notBefore?.toISOString() });
      await context.sleep(Math.min(wait, 10_000));
      wait = (notBefore?.getTime() ?? 0) - Date.now();
    }
    await transitionReplica(as(tenantId), {
      tenantId,
      replicaId: replica.id,
      to: 'COPYING',
      patch: {
        startedAt: new Date(),
        attempts: reserved.attempts + 1,
        objectKey: key,
        bytesCopied: 0n,
        lastError: null,
      },
      message: `attempt ${reserved.attempts + 1}: copying to ${system.name}/${space.name}`,
    });
    const landed = await adapter.stat(space.name, key);
    if (landed === undefined || landed.sha256 !== expected.sha256 || landed.bytes !== expected.bytes) {
      let lastReport = 0;
      const raw = await openSource();
      const source = deps.copyRateLimit ? raw.pipe(rateLimited(deps.copyRateLimit)) : raw;
      if (deps.copyRateLimit) {
        raw.on('error', (error) => source.destroy(error));
        source.once('close', () => raw.destroy());
      }
      await adapter.write(space.name, key, source, {
        expectedSha256: expected.sha256,
        expectedBytes: expected.bytes,
        signal: context.cancellationSignal,
        onProgress: (bytes) => {
          context.heartbeat({ bytes });
          const now = Date.now();
          if (now - lastReport >= progressIntervalMs && bytes < expected.bytes) {
            lastReport = now;
            void recordProgress(as(tenantId), { tenantId, replicaId: replica.id, bytesCopied: bytes }).catch(
              () => undefined,
            );
          }
        },
        onVerifying: async () => {
          await transitionReplica(as(tenantId), {
            tenantId,
            replicaId: replica.id,
            to: 'VERIFYING',
            patch: { bytesCopied: BigInt(expected.bytes) },
            message: 'verifying sha256 at the destination',
          });
        },
      });
    } else {
      await transitionReplica(as(tenantId), {
        tenantId,
        replicaId: replica.id,
        to: 'VERIFYING',
        patch: { bytesCopied: BigInt(expected.bytes) },
        message: 'found a committed copy from an earlier attempt; verified it',
      });
    }
    await transitionReplica(as(tenantId), {
      tenantId,
      replicaId: replica.id,
      to: 'COMPLETED',
      patch: { completedAt: new Date(), checksum: expected.sha256, bytesCopied: BigInt(expected.bytes) },
      message: `verified sha256 ${expected.sha256}`,
    });
  };

  /**
   * The copy at `order` is verified: with hand-over, the next replica still to write is recorded WAITING, due
   * `delaySeconds` after this copy's completedAt, so the workflow can time the delay from the completion itself.
   */
  const handOver = async (
    input: BackupWorkflowInput,
    job: WorkJob,
    order: number,
    handOverNext: boolean,
  ): Promise<CopyResult> => {
    const replicas = await listReplicas(as(input.tenantId), input.tenantId, input.jobId);
    const done = replicas.find((replica) => replica.order === order);
    const completedAt = done?.completedAt ?? null;
    if (!handOverNext || completedAt === null) return { hasReplica: true, completedAt: completedAt?.toISOString() };
    const next = replicas.find(
      (replica) => replica.order > order && (replica.status === 'PLANNED' || replica.status === 'WAITING'),
    );
    if (next?.status === 'PLANNED') {
      const delaySeconds = (job.scheme as unknown as ResolvedScheme).delaySeconds;
      await transitionReplica(as(input.tenantId), {
        tenantId: input.tenantId,
        replicaId: next.id,
        to: 'WAITING',
        patch: { scheduledAt: new Date(completedAt.getTime() + delaySeconds * 1000) },
        message: `waiting ${delaySeconds} s after the previous copy`,
      });
    }
    return { hasReplica: true, completedAt: completedAt.toISOString(), nextPending: next !== undefined };
  };

  return {
    async startJob(input: BackupWorkflowInput): Promise<{ secondaryCount: number; delaySeconds: number }> {
      return guarded(async () => {
        const job = await loadJob(input);
        if (job.status === 'PENDING') await setJobStatus(as(input.tenantId), input.tenantId, input.jobId, 'RUNNING');
        const scheme = job.scheme as unknown as ResolvedScheme;
        return { secondaryCount: job.replicas.length - 1, delaySeconds: scheme.delaySeconds };
      });
    },

    async copyPrimary(input: BackupWorkflowInput & { handOver?: boolean }): Promise<CopyResult> {
      return guarded(async () => {
        const job = await loadJob(input);
        const primary = replicaAt(job, 0);
        if (primary === undefined) throw new DomainError('NOT_FOUND', `job ${input.jobId} has no primary replica`);
        const upload = job.datasetVersion.uploadId
          ? await as(input.tenantId).upload.findFirst({
              where: { id: job.datasetVersion.uploadId, tenantId: input.tenantId },
            })
          : null;
        if (primary.status !== 'COMPLETED') {
          const stagingPath = upload?.stagingPath;
          if (stagingPath === undefined || stagingPath === null || !(await stat(stagingPath).catch(() => undefined))) {
            throw new DomainError('NOT_FOUND', `the staged upload of job ${input.jobId} is gone`);
          }
          await copyInto(job, primary, async () => createReadStream(stagingPath));
        }
        // The primary holds the data now; the staged copy is no longer needed.
        // The staged bytes and tus's metadata beside them: the primary holds the version now.
        if (upload !== null) {
          await Promise.all(
            (upload.stagingPath === null ? [] : [upload.stagingPath, `${upload.stagingPath}.json`]).map((file) =>
              rm(file, { force: true }),
            ),
          );
        }
        return handOver(input, job, 0, input.handOver === true);
      });
    },

    async markWaiting(
      input: BackupWorkflowInput & { order: number; delaySeconds: number },
    ): Promise<{ hasReplica: boolean }> {
      return guarded(async () => {
        const job = await loadJob(input);
        // The replica written next is decided at dispatch; until then the first one still pending waits.
        const next = job.replicas.find(
          (replica) => replica.order >= input.order && (replica.status === 'PLANNED' || replica.status === 'WAITING'),
        );
        if (next === undefined) return { hasReplica: false };
        if (next.status === 'PLANNED') {
          const scheduledAt = new Date(Date.now() + input.delaySeconds * 1000);
          await transitionReplica(as(input.tenantId), {
            tenantId: input.tenantId,
            replicaId: next.id,
            to: 'WAITING',
            patch: { scheduledAt },
            message: `waiting ${input.delaySeconds} s after the previous copy`,
          });
        }
        return { hasReplica: true };
      });
    },

    /**
     * Dispatches the next secondary: re-reads every remaining candidate's capacity now, skips those that can
     * no longer hold the data, puts the best one at `order` and copies from the primary.
     */
    async copySecondary(
      input: BackupWorkflowInput & { order: number; handOver?: boolean; notBefore?: string | null },
    ): Promise<CopyResult> {
      return guarded(async () => {
        // Both reads at once: a secondary dispatched ahead of its time prepares within the lead. Capacity is
        // re-read by the reservation itself.
        const [loaded, systems] = await Promise.all([
          loadJob(input),
          listStorageSystems(as(input.tenantId), input.tenantId),
        ]);
        let job = loaded;
        const current = replicaAt(job, input.order);
        const alreadyDispatched =
          current !== undefined && ['COPYING', 'VERIFYING', 'COMPLETED', 'FAILED'].includes(current.status);
        if (!alreadyDispatched) {
          const remaining = job.replicas.filter(
            (replica) => replica.order >= input.order && (replica.status === 'PLANNED' || replica.status === 'WAITING'),
          );
          if (remaining.length === 0) return { hasReplica: false };
          const byId = new Map(systems.map((system) => [system.id, system]));
          const candidates = remaining.flatMap((replica) => {
            const system = byId.get(replica.storageSystemId);
            return system ? [toCapacity(system)] : [];
          });
          const scheme = job.scheme as unknown as ResolvedScheme;
          const { ordered, skipped } = orderSecondaries(
            candidates,
            Number(job.datasetVersion.sizeBytes),
            scheme.ordering,
          );
          for (const skip of skipped) {
            const replica = remaining.find((candidate) => candidate.storageSystemId === skip.storageSystemId);
            if (replica === undefined) continue;
            await transitionReplica(as(input.tenantId), {
              tenantId: input.tenantId,
              replicaId: replica.id,
              to: 'SKIPPED',
              patch: { lastError: skip.reason },
              message: `skipped at dispatch: ${skip.reason}`,
            });
          }
          const chosen = ordered[0];
          if (chosen === undefined) {
            // Every remaining candidate was skipped: there is nothing left to write.
            return { hasReplica: false };
          }
          const chosenReplica = remaining.find((replica) => replica.storageSystemId === chosen.storageSystemId);
          if (chosenReplica === undefined) return { hasReplica: false };
          if (chosenReplica.order !== input.order) {
            await assignDispatchOrder(as(input.tenantId), input.tenantId, input.jobId, chosenReplica.id, input.order);
            job = await loadJob(input);
          }
        }
        const replica = replicaAt(job, input.order);
        if (replica === undefined) return { hasReplica: false };
        const primary = replicaAt(job, 0);
        if (primary === undefined || primary.status !== 'COMPLETED' || primary.spaceId === null) {
          throw new DomainError('CONFLICT', `the primary of job ${input.jobId} is not complete`);
        }
        const primarySystem = await systemOf(input.tenantId, primary.storageSystemId, systems);
        const primarySpace = primarySystem.spaces.find((space) => space.id === primary.spaceId);
        if (primarySpace === undefined || primary.objectKey === null) {
          throw new DomainError('NOT_FOUND', `the primary copy of job ${input.jobId} cannot be located`);
        }
        const primaryKey = primary.objectKey;
        const notBefore = input.notBefore ? new Date(input.notBefore) : null;
        await copyInto(job, replica, () => adapterOf(primarySystem).read(primarySpace.name, primaryKey), {
          notBefore,
          systems,
        });
        return handOver(input, job, input.order, input.handOver === true);
      });
    },

    async failReplica(input: BackupWorkflowInput & { order: number; error: string }): Promise<void> {
      return guarded(async () => {
        const replicas = await listReplicas(as(input.tenantId), input.tenantId, input.jobId);
        const replica = replicas.find((candidate) => candidate.order === input.order);
        if (replica === undefined || replica.status === 'FAILED' || replica.status === 'COMPLETED') return;
        if (replica.status === 'SKIPPED' || replica.status === 'CANCELLED') return;
        if (replica.status === 'PLANNED') {
          await transitionReplica(as(input.tenantId), {
            tenantId: input.tenantId,
            replicaId: replica.id,
            to: 'SKIPPED',
            patch: { lastError: input.error },
            message: input.error,
          });
        } else {
          await transitionReplica(as(input.tenantId), {
            tenantId: input.tenantId,
            replicaId: replica.id,
            to: 'FAILED',
            patch: { lastError: input.error },
            message: `failed: ${input.error}`,
          });
        }
        await releaseSpace(as(input.tenantId), input.tenantId, replica.id);
      });
    },

    async startRetry(
      input: RetryReplicaInput,
    ): Promise<{ order: number; secondaryCount: number; delaySeconds: number }> {
      return guarded(async () => {
        const { replica } = await startRetry(as(input.tenantId), input.tenantId, input.replicaId);
        const job = await loadJob(input);
        const scheme = job.scheme as unknown as ResolvedScheme;
        return { order: replica.order, secondaryCount: job.replicas.length - 1, delaySeconds: scheme.delaySeconds };
      });
    },

    async cancelJob(input: BackupWorkflowInput): Promise<BackupWorkflowResult> {
      return guarded(async () => {
        const job = await cancelJob(as(input.tenantId), input.tenantId, input.jobId);
        return { status: job.status };
      });
    },

    /**
     * A restore: reads the version's verified copies, healthiest first, hashing each; the first whose bytes match
     * the version's sha256 is the one served. Each copy that does not is named in lastError, with why.
     */
    async runRestore(input: RestoreWorkflowInput): Promise<BackupWorkflowResult> {
      return guarded(async () => {
        const db = as(input.tenantId);
        const job = await getRestoreJob(db, input.tenantId, input.restoreJobId);
        if (job === null) throw new DomainError('NOT_FOUND', `restore job ${input.restoreJobId} does not exist`);
        if (job.status === 'COMPLETED' || job.status === 'FAILED') return { status: job.status };
        await updateRestoreJob(db, input.tenantId, job.id, { status: 'RUNNING' });
        const expected = job.datasetVersion.sha256;
        const sources = orderRestoreCandidates(
          (await restoreSources(db, input.tenantId, job.datasetVersionId)).map((replica) => ({
            ...replica,
            replicaId: replica.id,
            storageHealthy: replica.storageSystem.healthy,
            completedAt: replica.completedAt ?? new Date(0),
          })),
        );
        const problems: string[] = [];
        for (const source of sources) {
          const label = `the ${source.role.toLowerCase()} copy on ${source.storageSystem.name}`;
          if (source.space === null || source.objectKey === null) {
            problems.push(`${label} cannot be located`);
            continue;
          }
          try {
            const stream = await adapterOf(source.storageSystem).read(source.space.name, source.objectKey);
            const hash = createHash('sha256');
            let bytes = 0;
            let beat = Date.now();
            for await (const chunk of stream as AsyncIterable<Buffer>) {
              hash.update(chunk);
              bytes += chunk.length;
              if (Date.now() - beat > 1000) {
                Context.current().heartbeat({ replicaId: source.id, bytes });
                beat = Date.now();
              }
            }
            const actual = hash.digest('hex');
            if (actual !== expected) {
              problems.push(`${label} does not verify (sha256 ${actual}, expected ${expected})`);
              continue;
            }
          } catch (error) {
            if (isDatabaseUnreachable(error)) throw error;
            problems.push(`${label} could not be read: ${error instanceof Error ? error.message : String(error)}`);
            continue;
          }
          await updateRestoreJob(db, input.tenantId, job.id, {
            status: 'COMPLETED',
            fromReplicaId: source.id,
            lastError: problems.length > 0 ? `used ${label}; before it: ${problems.join('; ')}` : null,
            completedAt: new Date(),
          });
          return { status: 'COMPLETED' };
        }
        await updateRestoreJob(db, input.tenantId, job.id, {
          status: 'FAILED',
          lastError:
            sources.length === 0
              ? `no verified copy of version ${job.datasetVersion.number} exists`
              : `no copy verified: ${problems.join('; ')}`,
          completedAt: new Date(),
        });
        return { status: 'FAILED' };
      });
    },

    /** A restore whose work failed for good (its retries are spent): FAILED, with why. */
    async failRestore(input: RestoreWorkflowInput & { reason: string }): Promise<void> {
      return guarded(async () => {
        await updateRestoreJob(as(input.tenantId), input.tenantId, input.restoreJobId, {
          status: 'FAILED',
          lastError: input.reason,
          completedAt: new Date(),
        });
      });
    },

    async finishJob(input: BackupWorkflowInput): Promise<BackupWorkflowResult> {
      return guarded(async () => {
        const job = await finishJob(as(input.tenantId), input.tenantId, input.jobId);
        return { status: job.status };
      });
    },
  };
}

export type BackupActivities = ReturnType<typeof createActivities>;

import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import {
  chunkedRestoreSources,
  type Db,
  getRestoreJob,
  getVersionIntake,
  type RestoreJobWithRelations,
  restoreSources,
  tenantMissingChunks,
  updateRestoreJob,
} from '@echelon/db';
import { DomainError, orderRestoreCandidates } from '@echelon/domain';
import {
  ChecksumMismatchError,
  chunkHashesOf,
  InvalidManifestError,
  type Manifest,
  sha256Meter,
} from '@echelon/storage';
import type { BackupWorkflowResult, RestoreWorkflowInput } from '../shared.js';
import { type ActivityEnv, guarded, isDatabaseUnreachable } from './activity-support.js';

/** A copy a restore may serve, or why not: the label names it in the restore's lastError. */
type Verdict = { isUsable: true } | { isUsable: false; problem: string };

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The order a restore tries copies in (healthiest first, a DEGRADED copy after every verified one), with each copy's
 * label for messages.
 */
function candidatesOf<
  T extends {
    id: string;
    status: string;
    role: 'PRIMARY' | 'SECONDARY';
    order: number;
    completedAt: Date | null;
    storageSystem: { name: string; healthy: boolean };
  },
>(replicas: readonly T[]): { replica: T; label: string }[] {
  const byId = new Map(replicas.map((replica) => [replica.id, replica]));
  return orderRestoreCandidates(
    replicas.map((replica) => ({
      replicaId: replica.id,
      role: replica.role,
      order: replica.order,
      storageHealthy: replica.storageSystem.healthy,
      completedAt: replica.completedAt ?? new Date(0),
    })),
  )
    .map((candidate) => {
      const replica = byId.get(candidate.replicaId) as T;
      return { replica, label: `the ${replica.role.toLowerCase()} copy on ${replica.storageSystem.name}` };
    })
    .sort((a, b) => Number(a.replica.status === 'DEGRADED') - Number(b.replica.status === 'DEGRADED'));
}

/** A restore's work: pick the copy to serve, then record it (or why there is none). */
export function createRestoreActivities(env: ActivityEnv) {
  /**
   * A whole-object copy is read through and hashed: it serves only if its bytes are the version's sha256.
   */
  const verifyWholeObject = async (
    source: Awaited<ReturnType<typeof restoreSources>>[number],
    expected: string,
  ): Promise<Verdict> => {
    if (source.space === null || source.objectKey === null) return { isUsable: false, problem: 'cannot be located' };
    let beat = Date.now();
    const meter = sha256Meter({
      onProgress: (bytes) => {
        if (Date.now() - beat < 1000) return;
        Context.current().heartbeat({ replicaId: source.id, bytes });
        beat = Date.now();
      },
    });
    const stream = await env.adapterOf(source.storageSystem).read(source.space.name, source.objectKey);
    const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    await pipeline(stream, meter, sink);
    const actual = meter.result().sha256;
    if (actual !== expected) {
      return { isUsable: false, problem: `does not verify (sha256 ${actual}, expected ${expected})` };
    }
    return { isUsable: true };
  };

  /**
   * A chunked copy serves when its manifest, read from its storage, is the one the copy committed (its id) and
   * names the version's sha256, and every chunk it names is held by some space of the tenant: the download reads
   * each chunk from this copy, or from another that holds it. No chunk is read here.
   */
  const verifyManifest = async (
    db: Db,
    job: RestoreJobWithRelations,
    source: Awaited<ReturnType<typeof chunkedRestoreSources>>[number],
  ): Promise<Verdict> => {
    if (source.space === null) return { isUsable: false, problem: 'cannot be located' };
    Context.current().heartbeat({ replicaId: source.id });
    let manifest: Manifest;
    try {
      ({ manifest } = await env
        .repositoryOf(source.storageSystem, source.space.name, job.tenantId)
        .readManifest(job.datasetVersion.dataset.key, job.datasetVersion.number, { expectedId: source.manifestId }));
    } catch (error) {
      // Said in the copy's terms: the storage's own message names the file on the host, which is not the tenant's.
      if (error instanceof ChecksumMismatchError) {
        return {
          isUsable: false,
          problem: `does not verify (its manifest on storage has sha256 ${error.actual}, not the ${error.expected} it committed)`,
        };
      }
      if (error instanceof InvalidManifestError) {
        return { isUsable: false, problem: 'does not verify (its manifest on storage is damaged)' };
      }
      throw error;
    }
    if (manifest.sha256 !== job.datasetVersion.sha256) {
      return {
        isUsable: false,
        problem: `has a manifest for sha256 ${manifest.sha256}, not the version's ${job.datasetVersion.sha256}`,
      };
    }
    const lost = await tenantMissingChunks(db, job.tenantId, chunkHashesOf(manifest));
    if (lost.length > 0) {
      return {
        isUsable: false,
        problem: `names chunk ${lost[0]} (and ${lost.length - 1} more) that no backup space holds any longer`,
      };
    }
    return { isUsable: true };
  };

  return {
    /**
     * A restore: tries the version's verified copies, healthiest first; the first that checks out is the one
     * served (a whole object: its bytes hash to the version's sha256; chunks: its committed manifest). Each copy
     * that does not is named in lastError, with why.
     */
    async runRestore(input: RestoreWorkflowInput): Promise<BackupWorkflowResult> {
      return guarded(async () => {
        const db = env.as(input.tenantId);
        const job = await getRestoreJob(db, input.tenantId, input.restoreJobId);
        if (job === null) throw new DomainError('NOT_FOUND', `restore job ${input.restoreJobId} does not exist`);
        if (job.status === 'COMPLETED' || job.status === 'FAILED') return { status: job.status };
        await updateRestoreJob(db, input.tenantId, job.id, { status: 'RUNNING' });
        const intake = await getVersionIntake(db, input.tenantId, job.datasetVersionId);
        const isChunked = (intake?.upload?.contents ?? null) !== null;
        const sources = isChunked
          ? candidatesOf(await chunkedRestoreSources(db, input.tenantId, job.datasetVersionId)).map(
              ({ replica, label }) => ({ id: replica.id, label, check: () => verifyManifest(db, job, replica) }),
            )
          : candidatesOf(await restoreSources(db, input.tenantId, job.datasetVersionId)).map(({ replica, label }) => ({
              id: replica.id,
              label,
              check: () => verifyWholeObject(replica, job.datasetVersion.sha256),
            }));
        const problems: string[] = [];
        for (const source of sources) {
          let verdict: Verdict;
          try {
            verdict = await source.check();
          } catch (error) {
            if (isDatabaseUnreachable(error)) throw error;
            verdict = { isUsable: false, problem: `could not be read: ${describeError(error)}` };
          }
          if (!verdict.isUsable) {
            problems.push(`${source.label} ${verdict.problem}`);
            continue;
          }
          await updateRestoreJob(db, input.tenantId, job.id, {
            status: 'COMPLETED',
            fromReplicaId: source.id,
            lastError: problems.length > 0 ? `used ${source.label}; before it: ${problems.join('; ')}` : null,
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
        await updateRestoreJob(env.as(input.tenantId), input.tenantId, input.restoreJobId, {
          status: 'FAILED',
          lastError: input.reason,
          completedAt: new Date(),
        });
      });
    },
  };
}

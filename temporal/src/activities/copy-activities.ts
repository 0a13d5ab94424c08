import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import {
  assignDispatchOrder,
  getVersionIntake,
  heldBytesBySpace,
  listStorageSystems,
  toCapacity,
  transitionReplica,
  type VersionIntake,
  type WorkJob,
} from '@echelon/db';
import { DomainError, isReadableReplicaStatus, orderSecondaries, type ResolvedScheme } from '@echelon/domain';
import type { BackupWorkflowInput, CopyResult } from '../shared.js';
import { type ActivityEnv, guarded } from './activity-support.js';
import { handOver } from './bookkeeping-activities.js';
import { type ChunkedVersion, copyChunks } from './chunked-copy.js';
import { copyWholeObject } from './whole-object-copy.js';

/** The version's dataset key and upload; none for a version made without an upload. */
async function intakeOf(env: ActivityEnv, job: WorkJob): Promise<VersionIntake | null> {
  if (job.datasetVersion.uploadId === null) return null;
  return getVersionIntake(env.as(job.tenantId), job.tenantId, job.datasetVersion.id);
}

/** A version whose upload recorded its contents is stored as chunks; any other is one whole object. */
function chunkedVersionOf(intake: VersionIntake | null): ChunkedVersion | null {
  const upload = intake?.upload;
  if (intake === null || upload === null || upload === undefined || upload.contents === null) return null;
  return { datasetKey: intake.datasetKey, uploadId: upload.id, contents: upload.contents };
}

/** The copies of a job: the primary from the upload, each secondary from the copies already made. */
export function createCopyActivities(env: ActivityEnv) {
  const { as } = env;
  return {
    async copyPrimary(input: BackupWorkflowInput & { handOver?: boolean }): Promise<CopyResult> {
      return guarded(async () => {
        const job = await env.loadJob(input);
        const primary = env.replicaAt(job, 0);
        if (primary === undefined) throw new DomainError('NOT_FOUND', `job ${input.jobId} has no primary replica`);
        const intake = await intakeOf(env, job);
        const upload = intake?.upload ?? null;
        const chunked = chunkedVersionOf(intake);
        // A DEGRADED primary was written and verified before a scrub found it damaged: its repair is the scrub's.
        if (!isReadableReplicaStatus(primary.status)) {
          if (chunked !== null) {
            // The intake stored the chunks in its space (often the primary's own: then nothing is copied).
            await copyChunks(env, {
              job,
              replica: primary,
              version: chunked,
              preferredSourceSpaceId: upload?.intakeSpaceId ?? null,
            });
          } else {
            const stagingPath = upload?.stagingPath;
            if (
              stagingPath === undefined ||
              stagingPath === null ||
              !(await stat(stagingPath).catch(() => undefined))
            ) {
              throw new DomainError('NOT_FOUND', `the staged upload of job ${input.jobId} is gone`);
            }
            await copyWholeObject(env, job, primary, async () => createReadStream(stagingPath));
          }
        }
        // The staged bytes and tus's metadata beside them: the primary holds the version now.
        if (upload !== null && upload.stagingPath !== null) {
          await Promise.all(
            [upload.stagingPath, `${upload.stagingPath}.json`].map((file) => rm(file, { force: true })),
          );
        }
        return handOver(env, input, job, 0, input.handOver === true);
      });
    },

    /**
     * Dispatches the next secondary: re-reads every remaining candidate's capacity now, skips those that can
     * no longer hold the data, puts the best one at `order` and copies from the primary (for a chunked version,
     * from the primary or any other space that holds each chunk).
     */
    async copySecondary(
      input: BackupWorkflowInput & { order: number; handOver?: boolean; notBefore?: string | null },
    ): Promise<CopyResult> {
      return guarded(async () => {
        // Both reads at once: a secondary dispatched ahead of its time prepares within the lead. Capacity is
        // re-read by the reservation itself.
        const [loaded, systems] = await Promise.all([
          env.loadJob(input),
          listStorageSystems(as(input.tenantId), input.tenantId),
        ]);
        let job = loaded;
        const current = env.replicaAt(job, input.order);
        const alreadyDispatched =
          current !== undefined && ['COPYING', 'VERIFYING', 'COMPLETED', 'FAILED', 'DEGRADED'].includes(current.status);
        if (!alreadyDispatched) {
          const remaining = job.replicas.filter(
            (replica) => replica.order >= input.order && (replica.status === 'PLANNED' || replica.status === 'WAITING'),
          );
          if (remaining.length === 0) return { hasReplica: false };
          const byId = new Map(systems.map((system) => [system.id, system]));
          // Ordered by the room each would have after writing what it lacks of the data (a system that holds
          // most of the chunks from earlier versions needs little).
          const uploadId = job.datasetVersion.uploadId;
          const held =
            uploadId === null ? undefined : await heldBytesBySpace(as(input.tenantId), input.tenantId, uploadId);
          const candidates = remaining.flatMap((replica) => {
            const system = byId.get(replica.storageSystemId);
            return system ? [toCapacity(system, held)] : [];
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
            job = await env.loadJob(input);
          }
        }
        const replica = env.replicaAt(job, input.order);
        if (replica === undefined) return { hasReplica: false };
        const primary = env.replicaAt(job, 0);
        if (primary === undefined || !isReadableReplicaStatus(primary.status) || primary.spaceId === null) {
          throw new DomainError('CONFLICT', `the primary of job ${input.jobId} is not complete`);
        }
        const notBefore = input.notBefore ? new Date(input.notBefore) : null;
        const chunked = chunkedVersionOf(await intakeOf(env, job));
        // Copied and verified already, then found damaged: the scrub repairs it, this attempt has nothing to do.
        if (replica.status === 'DEGRADED') return handOver(env, input, job, input.order, input.handOver === true);
        if (chunked !== null) {
          if (primary.manifestId === null) {
            throw new DomainError('CONFLICT', `the primary of job ${input.jobId} has no committed manifest`);
          }
          await copyChunks(env, {
            job,
            replica,
            version: chunked,
            preferredSourceSpaceId: primary.spaceId,
            timing: { notBefore, systems },
          });
        } else {
          const primarySystem = await env.systemOf(input.tenantId, primary.storageSystemId, systems);
          const primarySpace = primarySystem.spaces.find((space) => space.id === primary.spaceId);
          if (primarySpace === undefined || primary.objectKey === null) {
            throw new DomainError('NOT_FOUND', `the primary copy of job ${input.jobId} cannot be located`);
          }
          const primaryKey = primary.objectKey;
          await copyWholeObject(
            env,
            job,
            replica,
            () => env.adapterOf(primarySystem).read(primarySpace.name, primaryKey),
            {
              notBefore,
              systems,
            },
          );
        }
        return handOver(env, input, job, input.order, input.handOver === true);
      });
    },
  };
}

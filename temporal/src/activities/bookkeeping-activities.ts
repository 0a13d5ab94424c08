import {
  cancelJob,
  finishJob,
  listReplicas,
  releaseSpace,
  startRetry,
  setJobStatus,
  transitionReplica,
  type WorkJob,
} from '@echelon/db';
import type { ResolvedScheme } from '@echelon/domain';
import type { BackupWorkflowInput, BackupWorkflowResult, CopyResult, RetryReplicaInput } from '../shared.js';
import { type ActivityEnv, guarded } from './activity-support.js';

/**
 * The copy at `order` is verified: with hand-over, the next replica still to write is recorded WAITING, due
 * `delaySeconds` after this copy's completedAt, so the workflow can time the delay from the completion itself.
 */
export async function handOver(
  env: ActivityEnv,
  input: BackupWorkflowInput,
  job: WorkJob,
  order: number,
  handOverNext: boolean,
): Promise<CopyResult> {
  const replicas = await listReplicas(env.as(input.tenantId), input.tenantId, input.jobId);
  const done = replicas.find((replica) => replica.order === order);
  const completedAt = done?.completedAt ?? null;
  if (!handOverNext || completedAt === null) return { hasReplica: true, completedAt: completedAt?.toISOString() };
  const next = replicas.find(
    (replica) => replica.order > order && (replica.status === 'PLANNED' || replica.status === 'WAITING'),
  );
  if (next?.status === 'PLANNED') {
    const delaySeconds = (job.scheme as unknown as ResolvedScheme).delaySeconds;
    await transitionReplica(env.as(input.tenantId), {
      tenantId: input.tenantId,
      replicaId: next.id,
      to: 'WAITING',
      patch: { scheduledAt: new Date(completedAt.getTime() + delaySeconds * 1000) },
      message: `waiting ${delaySeconds} s after the previous copy`,
    });
  }
  return { hasReplica: true, completedAt: completedAt.toISOString(), nextPending: next !== undefined };
}

/** The job's short database writes: its start and end, waits, failures and retries of replicas. */
export function createBookkeepingActivities(env: ActivityEnv) {
  const { as } = env;
  return {
    async startJob(input: BackupWorkflowInput): Promise<{ secondaryCount: number; delaySeconds: number }> {
      return guarded(async () => {
        const job = await env.loadJob(input);
        if (job.status === 'PENDING') await setJobStatus(as(input.tenantId), input.tenantId, input.jobId, 'RUNNING');
        const scheme = job.scheme as unknown as ResolvedScheme;
        return { secondaryCount: job.replicas.length - 1, delaySeconds: scheme.delaySeconds };
      });
    },

    async markWaiting(
      input: BackupWorkflowInput & { order: number; delaySeconds: number },
    ): Promise<{ hasReplica: boolean }> {
      return guarded(async () => {
        const job = await env.loadJob(input);
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

    async failReplica(input: BackupWorkflowInput & { order: number; error: string }): Promise<void> {
      return guarded(async () => {
        const replicas = await listReplicas(as(input.tenantId), input.tenantId, input.jobId);
        const replica = replicas.find((candidate) => candidate.order === input.order);
        if (replica === undefined || replica.status === 'FAILED' || replica.status === 'COMPLETED') return;
        // Written and verified, then found damaged: the scrub's repair is its way back, not a failure of the copy.
        if (replica.status === 'DEGRADED') return;
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
        const job = await env.loadJob(input);
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

    async finishJob(input: BackupWorkflowInput): Promise<BackupWorkflowResult> {
      return guarded(async () => {
        const job = await finishJob(as(input.tenantId), input.tenantId, input.jobId);
        return { status: job.status };
      });
    },
  };
}

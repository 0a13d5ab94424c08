import type { JobWithRelations, Replica, ReplicaEvent } from '@echelon/db';
import type { RequestContext } from '../../context.js';
import { spaceView, storageSystemView } from '../storage/storage.mappers.js';
import { toIdentityView } from '../viewer/viewer.mappers.js';
import type {
  BackupJobStatusEnum,
  BackupJobView,
  ReplicaEventView,
  ReplicaRoleEnum,
  ReplicaStatusEnum,
  ReplicaView,
} from './jobs.types.js';

export async function toReplicaView(context: RequestContext, replica: Replica): Promise<ReplicaView> {
  const [storageSystem, space] = await Promise.all([
    storageSystemView(context, replica.storageSystemId),
    spaceView(context, replica.spaceId),
  ]);
  return {
    id: replica.id,
    role: replica.role as ReplicaRoleEnum,
    order: replica.order,
    storageSystem,
    space,
    status: replica.status as ReplicaStatusEnum,
    scheduledAt: replica.scheduledAt,
    startedAt: replica.startedAt,
    completedAt: replica.completedAt,
    bytesTotal: Number(replica.bytesTotal),
    bytesCopied: Number(replica.bytesCopied),
    checksum: replica.checksum,
    attempts: replica.attempts,
    lastError: replica.lastError,
    row: replica,
  };
}

/** The scheme is resolved only when a query asks for it (see JobsResolver.scheme). */
export async function toJobView(context: RequestContext, job: JobWithRelations): Promise<BackupJobView> {
  return {
    id: job.id,
    datasetKey: job.datasetVersion.dataset.key,
    version: job.datasetVersion.number,
    identity: toIdentityView(job.identity),
    status: job.status as BackupJobStatusEnum,
    statusReason: job.statusReason,
    replicas: await Promise.all(job.replicas.map((replica) => toReplicaView(context, replica))),
    createdAt: job.createdAt,
    completedAt: job.completedAt,
    row: job,
  } as BackupJobView;
}

export async function toEventView(
  context: RequestContext,
  event: ReplicaEvent,
  replica: Replica,
): Promise<ReplicaEventView> {
  return {
    id: event.id.toString(),
    at: event.at,
    jobId: event.jobId,
    replica: await toReplicaView(context, replica),
    status: event.status as ReplicaStatusEnum,
    bytesCopied: Number(event.bytesCopied),
    message: event.message,
  };
}

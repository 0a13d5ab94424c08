import {
  type Db,
  type JobWithRelations,
  listStorageSystems,
  type Replica,
  type ReplicaEvent,
  type StorageSystemWithSpaces,
} from '@echelon/db';
import type { SharedLookups } from '@echelon/events';
import type { RequestContext } from '../../context.js';
import { spaceViewIn, storageSystemViewIn } from '../storage/storage.mappers.js';
import { toIdentityView } from '../viewer/viewer.mappers.js';
import type {
  BackupJobStatusEnum,
  BackupJobView,
  ReplicaEventView,
  ReplicaRoleEnum,
  ReplicaStatusEnum,
  ReplicaView,
} from './jobs.types.js';

/** Where a view finds its tenant's storage systems: a request's cache, or the shared lookups of a live read. */
export type StorageLookup = () => Promise<Map<string, StorageSystemWithSpaces>>;

/** A request's storage systems (read at most once per request). */
export const requestStorage =
  (context: RequestContext): StorageLookup =>
  () =>
    context.storageSystems();

/**
 * The storage systems as they are when a live read happened, loaded only if some subscriber selects them and
 * then shared by all subscribers of that read (so capacity figures are current, and nobody pays for them unasked).
 */
export const sharedStorage =
  (db: Db, tenantId: string, lookups: SharedLookups): StorageLookup =>
  () =>
    lookups.once('storage', async () => {
      const systems = await listStorageSystems(db, tenantId);
      return new Map(systems.map((system) => [system.id, system]));
    });

/** Storage system and space are getters: they are read only when the query selects them. */
export function toReplicaView(storage: StorageLookup, replica: Replica): ReplicaView {
  return {
    id: replica.id,
    role: replica.role as ReplicaRoleEnum,
    order: replica.order,
    get storageSystem() {
      return storage().then((systems) => storageSystemViewIn(systems, replica.storageSystemId));
    },
    get space() {
      return storage().then((systems) => spaceViewIn(systems, replica.spaceId));
    },
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
export function toJobView(storage: StorageLookup, job: JobWithRelations): BackupJobView {
  return {
    id: job.id,
    datasetKey: job.datasetVersion.dataset.key,
    version: job.datasetVersion.number,
    identity: toIdentityView(job.identity),
    status: job.status as BackupJobStatusEnum,
    statusReason: job.statusReason,
    replicas: job.replicas.map((replica) => toReplicaView(storage, replica)),
    createdAt: job.createdAt,
    completedAt: job.completedAt,
    row: job,
  } as BackupJobView;
}

export function toEventView(storage: StorageLookup, event: ReplicaEvent, replica: Replica): ReplicaEventView {
  return {
    id: event.id.toString(),
    at: event.at,
    jobId: event.jobId,
    replica: toReplicaView(storage, replica),
    status: event.status as ReplicaStatusEnum,
    bytesCopied: Number(event.bytesCopied),
    message: event.message,
  };
}

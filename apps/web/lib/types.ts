/**
 * Hand-written TypeScript mirrors of the Echelon GraphQL contract (design/contract.graphql).
 * Entity types carry the contract's names and nullability; the `*Result` types describe exactly what the
 * operations in `operations.ts` select, so a component never reads a field it did not ask for.
 */

/** ISO 8601 string, UTC. */
export type DateTime = string;
/** A byte count, serialised as a JSON number. */
export type Bytes = number;

export type Role = 'PLATFORM_ADMIN' | 'TENANT_ADMIN' | 'OPERATOR' | 'AUDITOR' | 'MEMBER';
export type StorageKind = 'FILESYSTEM' | 'S3';
export type ReplicaRole = 'PRIMARY' | 'SECONDARY';
export type ReplicaStatus =
  | 'PLANNED'
  | 'WAITING'
  | 'COPYING'
  | 'VERIFYING'
  | 'COMPLETED'
  | 'FAILED'
  | 'SKIPPED'
  | 'CANCELLED';
export type BackupJobStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'PARTIAL' | 'FAILED' | 'CANCELLED';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  createdAt: DateTime;
}

export interface Identity {
  id: string;
  externalId: string;
  displayName: string;
  roles: Role[];
  groups: string[];
}

export interface BackupSpace {
  id: string;
  name: string;
  capacityBytes: Bytes;
  usedBytes: Bytes;
  remainingBytes: Bytes;
}

export interface StorageSystem {
  id: string;
  name: string;
  kind: StorageKind;
  spaces: BackupSpace[];
  capacityBytes: Bytes;
  remainingBytes: Bytes;
  healthy: boolean;
}

export interface PolicyTemplate {
  id: string;
  name: string;
  version: number;
  copies: number;
  delaySeconds: number;
}

export interface SkippedStorage {
  storageSystem: StorageSystem;
  reason: string;
}

export interface BackupScheme {
  template: PolicyTemplate;
  templateVersion: number;
  matchedBy: string;
  copies: number;
  primary: StorageSystem;
  secondaries: StorageSystem[];
  skipped: SkippedStorage[];
  delaySeconds: number;
  plannedOffsetsSeconds: number[];
}

export interface Replica {
  id: string;
  role: ReplicaRole;
  order: number;
  storageSystem: StorageSystem;
  space: BackupSpace | null;
  status: ReplicaStatus;
  scheduledAt: DateTime | null;
  startedAt: DateTime | null;
  completedAt: DateTime | null;
  bytesTotal: Bytes;
  bytesCopied: Bytes;
  checksum: string | null;
  attempts: number;
  lastError: string | null;
}

export interface BackupJob {
  id: string;
  datasetKey: string;
  version: number;
  identity: Identity;
  status: BackupJobStatus;
  /** Why the job ended FAILED, PARTIAL or CANCELLED, in words. */
  statusReason: string | null;
  scheme: BackupScheme;
  replicas: Replica[];
  createdAt: DateTime;
  completedAt: DateTime | null;
}

export interface ReplicaEvent {
  id: string;
  at: DateTime;
  jobId: string;
  replica: Replica;
  status: ReplicaStatus;
  bytesCopied: Bytes;
  message: string | null;
}

export interface Viewer {
  identity: Identity;
  tenant: Tenant | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Operation results (see operations.ts)
// ---------------------------------------------------------------------------------------------------------------

export interface ViewerSummary {
  identity: Pick<Identity, 'id' | 'externalId' | 'displayName' | 'roles'>;
  tenant: Pick<Tenant, 'id' | 'slug' | 'name'> | null;
}

export interface ViewerQueryResult {
  viewer: ViewerSummary;
}

export interface JobListReplica
  extends Pick<Replica, 'id' | 'order' | 'role' | 'status' | 'bytesCopied' | 'bytesTotal'> {
  storageSystem: Pick<StorageSystem, 'name'>;
}

export interface JobListItem
  extends Pick<BackupJob, 'id' | 'datasetKey' | 'version' | 'status' | 'statusReason' | 'createdAt' | 'completedAt'> {
  identity: Pick<Identity, 'externalId'>;
  replicas: JobListReplica[];
}

export interface BackupJobsQueryResult {
  backupJobs: {
    totalCount: number;
    edges: Array<{ cursor: string; node: JobListItem }>;
  };
}

export interface BackupJobUpdatedSubscriptionResult {
  backupJobUpdated: JobListItem;
}

export interface JobDetailReplica
  extends Pick<
    Replica,
    | 'id'
    | 'order'
    | 'role'
    | 'status'
    | 'scheduledAt'
    | 'startedAt'
    | 'completedAt'
    | 'bytesTotal'
    | 'bytesCopied'
    | 'checksum'
    | 'attempts'
    | 'lastError'
  > {
  storageSystem: Pick<StorageSystem, 'id' | 'name'>;
  space: Pick<BackupSpace, 'name'> | null;
}

export interface JobDetailScheme
  extends Pick<BackupScheme, 'matchedBy' | 'copies' | 'delaySeconds' | 'templateVersion' | 'plannedOffsetsSeconds'> {
  template: Pick<PolicyTemplate, 'name'>;
  skipped: Array<{ storageSystem: Pick<StorageSystem, 'name'>; reason: string }>;
}

export interface JobDetail
  extends Pick<BackupJob, 'id' | 'datasetKey' | 'version' | 'status' | 'statusReason' | 'createdAt' | 'completedAt'> {
  identity: Pick<Identity, 'externalId' | 'displayName'>;
  scheme: JobDetailScheme;
  replicas: JobDetailReplica[];
}

export interface BackupJobQueryResult {
  backupJob: JobDetail | null;
}

export interface ReplicaProgressReplica
  extends Pick<
    Replica,
    | 'id'
    | 'order'
    | 'role'
    | 'status'
    | 'bytesCopied'
    | 'bytesTotal'
    | 'startedAt'
    | 'completedAt'
    | 'scheduledAt'
    | 'checksum'
    | 'attempts'
    | 'lastError'
  > {
  storageSystem: Pick<StorageSystem, 'id' | 'name'>;
  space: Pick<BackupSpace, 'name'> | null;
}

export interface ReplicaProgressEvent
  extends Pick<ReplicaEvent, 'id' | 'at' | 'jobId' | 'status' | 'bytesCopied' | 'message'> {
  replica: ReplicaProgressReplica;
}

export interface ReplicaProgressSubscriptionResult {
  replicaProgress: ReplicaProgressEvent;
}

/** `storageSystems`, `createStorageSystem` and `checkStorageSystem` select every StorageSystem field. */
export interface StorageSystemsQueryResult {
  storageSystems: StorageSystem[];
}

export interface CreateStorageSystemMutationResult {
  createStorageSystem: StorageSystem;
}

export interface CheckStorageSystemMutationResult {
  checkStorageSystem: StorageSystem;
}

export interface CreateStorageSystemInput {
  name: string;
  kind: StorageKind;
  /** FILESYSTEM: { root }; S3: { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle }. */
  config: Record<string, unknown>;
  spaces: { name: string; capacityBytes: Bytes }[];
}

export interface IdentitiesQueryResult {
  identities: Identity[];
}

export interface CreateIdentityInput {
  externalId: string;
  displayName: string;
  roles: Role[];
  groups?: string[];
}

export interface CreateIdentityMutationResult {
  createIdentity: Identity;
}

export interface CreateApiKeyMutationResult {
  createApiKey: { secret: string; apiKey: { id: string; name: string; prefix: string; createdAt: DateTime } };
}

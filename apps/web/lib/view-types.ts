/**
 * Names for the shapes the console's components pass around, each derived from a generated operation type
 * (lib/gql): a field added to an operation appears here, one removed from the schema fails the typecheck.
 */
import type {
  BackupJobQuery,
  BackupJobsQuery,
  BackupJobUpdatedSubscription,
  CheckStorageSystemMutation,
  CreateApiKeyMutation,
  CreateIdentityMutation,
  CreateStorageSystemMutation,
  IdentitiesQuery,
  IdentityFieldsFragment,
  JobListFieldsFragment,
  ReplicaProgressSubscription,
  StorageSystemFieldsFragment,
  StorageSystemsQuery,
  ViewerQuery,
} from './gql/graphql';

export type {
  BackupJobStatus,
  CreateIdentityInput,
  CreateStorageSystemInput,
  ReplicaStatus,
  Role,
  StorageKind,
} from './gql/graphql';

export type ViewerQueryResult = ViewerQuery;
export type ViewerSummary = ViewerQuery['viewer'];
export type JobListItem = JobListFieldsFragment;
export type BackupJobsQueryResult = BackupJobsQuery;
export type BackupJobUpdatedSubscriptionResult = BackupJobUpdatedSubscription;
export type BackupJobQueryResult = BackupJobQuery;
export type JobDetail = NonNullable<BackupJobQuery['backupJob']>;
export type JobDetailReplica = JobDetail['replicas'][number];
export type ReplicaProgressSubscriptionResult = ReplicaProgressSubscription;
export type ReplicaProgressEvent = ReplicaProgressSubscription['replicaProgress'];
export type StorageSystem = StorageSystemFieldsFragment;
export type StorageSystemsQueryResult = StorageSystemsQuery;
export type CreateStorageSystemMutationResult = CreateStorageSystemMutation;
export type CheckStorageSystemMutationResult = CheckStorageSystemMutation;
export type Identity = IdentityFieldsFragment;
export type IdentitiesQueryResult = IdentitiesQuery;
export type CreateIdentityMutationResult = CreateIdentityMutation;
export type CreateApiKeyMutationResult = CreateApiKeyMutation;

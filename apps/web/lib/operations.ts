/**
 * Every GraphQL operation the admin UI sends. The result shapes live in `types.ts`; keep the two in step.
 */

export const VIEWER_QUERY = /* GraphQL */ `
  query Viewer {
    viewer {
      identity { id externalId displayName roles }
      tenant { id slug name }
    }
  }
`;

const JOB_LIST_FIELDS = /* GraphQL */ `
  id
  datasetKey
  version
  status
  statusReason
  createdAt
  completedAt
  identity { externalId }
  replicas { id order role status bytesCopied bytesTotal storageSystem { name } }
`;

export const BACKUP_JOBS_QUERY = /* GraphQL */ `
  query BackupJobs($first: Int) {
    backupJobs(first: $first) {
      totalCount
      edges { cursor node { ${JOB_LIST_FIELDS} } }
    }
  }
`;

export const BACKUP_JOB_UPDATED_SUBSCRIPTION = /* GraphQL */ `
  subscription BackupJobUpdated {
    backupJobUpdated { ${JOB_LIST_FIELDS} }
  }
`;

export const BACKUP_JOB_QUERY = /* GraphQL */ `
  query BackupJob($id: ID!) {
    backupJob(id: $id) {
      id
      datasetKey
      version
      status
      statusReason
      createdAt
      completedAt
      identity { externalId displayName }
      scheme {
        matchedBy
        copies
        delaySeconds
        templateVersion
        template { name }
        plannedOffsetsSeconds
        skipped { storageSystem { name } reason }
      }
      replicas {
        id
        order
        role
        status
        scheduledAt
        startedAt
        completedAt
        bytesTotal
        bytesCopied
        checksum
        attempts
        lastError
        storageSystem { id name }
        space { name }
      }
    }
  }
`;

/**
 * `$after` is the id of the last event already applied; the server replays everything after it before going
 * live, which is what makes a reconnect lossless.
 */
export const REPLICA_PROGRESS_SUBSCRIPTION = /* GraphQL */ `
  subscription ReplicaProgress($jobId: ID!, $after: ID) {
    replicaProgress(jobId: $jobId, afterEventId: $after) {
      id
      at
      jobId
      status
      bytesCopied
      message
      replica {
        id
        order
        role
        status
        bytesCopied
        bytesTotal
        startedAt
        completedAt
        scheduledAt
        checksum
        attempts
        lastError
        storageSystem { id name }
        space { name }
      }
    }
  }
`;

/** Page size of the jobs table. */
export const JOBS_PAGE_SIZE = 50;

export const CANCEL_BACKUP_MUTATION = /* GraphQL */ `
  mutation CancelBackup($id: ID!) {
    cancelBackup(id: $id) { id status }
  }
`;

export const REPLICATE_NOW_MUTATION = /* GraphQL */ `
  mutation ReplicateNow($id: ID!) {
    replicateNow(id: $id) { id status }
  }
`;

export const RETRY_REPLICA_MUTATION = /* GraphQL */ `
  mutation RetryReplica($id: ID!) {
    retryReplica(id: $id) { id status }
  }
`;

const STORAGE_SYSTEM_FIELDS = /* GraphQL */ `
  id
  name
  kind
  healthy
  capacityBytes
  remainingBytes
  spaces { id name capacityBytes usedBytes remainingBytes }
`;

export const STORAGE_SYSTEMS_QUERY = /* GraphQL */ `
  query StorageSystems {
    storageSystems { ${STORAGE_SYSTEM_FIELDS} }
  }
`;

export const CREATE_STORAGE_SYSTEM_MUTATION = /* GraphQL */ `
  mutation CreateStorageSystem($input: CreateStorageSystemInput!) {
    createStorageSystem(input: $input) { ${STORAGE_SYSTEM_FIELDS} }
  }
`;

export const CHECK_STORAGE_SYSTEM_MUTATION = /* GraphQL */ `
  mutation CheckStorageSystem($id: ID!) {
    checkStorageSystem(id: $id) { ${STORAGE_SYSTEM_FIELDS} }
  }
`;

const IDENTITY_FIELDS = /* GraphQL */ `
  id
  externalId
  displayName
  roles
  groups
`;

export const IDENTITIES_QUERY = /* GraphQL */ `
  query Identities {
    identities { ${IDENTITY_FIELDS} }
  }
`;

export const CREATE_IDENTITY_MUTATION = /* GraphQL */ `
  mutation CreateIdentity($input: CreateIdentityInput!) {
    createIdentity(input: $input) { ${IDENTITY_FIELDS} }
  }
`;

export const CREATE_API_KEY_MUTATION = /* GraphQL */ `
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { secret apiKey { id name prefix createdAt } }
  }
`;

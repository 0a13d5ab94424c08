/**
 * Every GraphQL operation the console sends, as typed documents: `npm run codegen` derives their result and
 * variable types from the API's emitted schema (lib/gql, generated; never edit it by hand).
 */
import { graphql } from './gql';

export const VIEWER_QUERY = graphql(`
  query Viewer {
    viewer {
      identity { id externalId displayName roles }
      tenant { id slug name }
      permissions
    }
  }
`);

export const JOB_LIST_FIELDS = graphql(`
  fragment JobListFields on BackupJob {
    id
    datasetKey
    version
    status
    statusReason
    createdAt
    completedAt
    identity { id externalId }
    replicas { id order role status bytesCopied bytesTotal storageSystem { name } }
  }
`);

export const BACKUP_JOBS_QUERY = graphql(`
  query BackupJobs($filter: BackupJobFilter, $first: Int, $after: String) {
    backupJobs(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...JobListFields } }
    }
  }
`);

export const BACKUP_JOB_UPDATED_SUBSCRIPTION = graphql(`
  subscription BackupJobUpdated {
    backupJobUpdated { ...JobListFields }
  }
`);

export const BACKUP_JOB_QUERY = graphql(`
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
`);

/**
 * `$after` is the id of the last event already applied; the server replays everything after it before going
 * live, which is what makes a reconnect lossless.
 */
export const REPLICA_PROGRESS_SUBSCRIPTION = graphql(`
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
`);

/** Who the jobs list can be filtered by. */
export const JOB_FILTER_CHOICES_QUERY = graphql(`
  query JobFilterChoices {
    identities { id externalId }
  }
`);

/** Page size of the jobs table. */
export const JOBS_PAGE_SIZE = 50;

export const CANCEL_BACKUP_MUTATION = graphql(`
  mutation CancelBackup($id: ID!) {
    cancelBackup(id: $id) { id status }
  }
`);

export const REPLICATE_NOW_MUTATION = graphql(`
  mutation ReplicateNow($id: ID!) {
    replicateNow(id: $id) { id status }
  }
`);

export const RETRY_REPLICA_MUTATION = graphql(`
  mutation RetryReplica($id: ID!) {
    retryReplica(id: $id) { id status }
  }
`);

/** The overview's capacity bars: each storage system's total and remaining bytes. */
export const STORAGE_CAPACITY_QUERY = graphql(`
  query StorageCapacity {
    storageSystems { id name kind healthy capacityBytes remainingBytes }
  }
`);

/** Each dataset's protection: copies its latest version's scheme requires against the verified copies it has. */
export const DATASET_PROTECTION_QUERY = graphql(`
  query DatasetProtection {
    datasets {
      key
      identity { id externalId displayName }
      compliance {
        latestVersion
        copiesRequired
        copiesAchieved
        newestVerifiedCopyAt
        versionsNotFullyProtected
        isCompliant
      }
    }
  }
`);

export const STORAGE_SYSTEM_FIELDS = graphql(`
  fragment StorageSystemFields on StorageSystem {
    id
    name
    kind
    healthy
    capacityBytes
    remainingBytes
    spaces { id name capacityBytes usedBytes remainingBytes }
  }
`);

export const STORAGE_SYSTEMS_QUERY = graphql(`
  query StorageSystems {
    storageSystems { ...StorageSystemFields }
  }
`);

export const CREATE_STORAGE_SYSTEM_MUTATION = graphql(`
  mutation CreateStorageSystem($input: CreateStorageSystemInput!) {
    createStorageSystem(input: $input) { ...StorageSystemFields }
  }
`);

export const CHECK_STORAGE_SYSTEM_MUTATION = graphql(`
  mutation CheckStorageSystem($id: ID!) {
    checkStorageSystem(id: $id) { ...StorageSystemFields }
  }
`);

export const IDENTITY_FIELDS = graphql(`
  fragment IdentityFields on Identity {
    id
    externalId
    displayName
    roles
    groups
  }
`);

export const IDENTITIES_QUERY = graphql(`
  query Identities {
    identities { ...IdentityFields }
  }
`);

export const CREATE_IDENTITY_MUTATION = graphql(`
  mutation CreateIdentity($input: CreateIdentityInput!) {
    createIdentity(input: $input) { ...IdentityFields }
  }
`);

export const API_KEY_FIELDS = graphql(`
  fragment ApiKeyFields on ApiKey {
    id
    name
    prefix
    createdAt
    revokedAt
    identity { id externalId displayName }
  }
`);

export const API_KEYS_QUERY = graphql(`
  query ApiKeys {
    apiKeys { ...ApiKeyFields }
  }
`);

export const CREATE_API_KEY_MUTATION = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { secret apiKey { ...ApiKeyFields } }
  }
`);

export const REVOKE_API_KEY_MUTATION = graphql(`
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) { ...ApiKeyFields }
  }
`);

export const UPDATE_IDENTITY_MUTATION = graphql(`
  mutation UpdateIdentity($id: ID!, $input: UpdateIdentityInput!) {
    updateIdentity(id: $id, input: $input) { ...IdentityFields }
  }
`);

export const DISABLE_IDENTITY_MUTATION = graphql(`
  mutation DisableIdentity($id: ID!) {
    disableIdentity(id: $id) { ...IdentityFields }
  }
`);

export const TEMPLATE_FIELDS = graphql(`
  fragment TemplateFields on PolicyTemplate {
    id
    name
    version
    copies
    minCopies
    delaySeconds
    ordering
    dataClass
    versions
    primary { id name }
    candidates { id name }
  }
`);

export const POLICY_TEMPLATES_QUERY = graphql(`
  query PolicyTemplates {
    policyTemplates { ...TemplateFields }
  }
`);

export const POLICY_TEMPLATE_QUERY = graphql(`
  query PolicyTemplate($id: ID!, $version: Int) {
    policyTemplate(id: $id, version: $version) { ...TemplateFields }
  }
`);

export const CREATE_POLICY_TEMPLATE_MUTATION = graphql(`
  mutation CreatePolicyTemplate($input: CreatePolicyTemplateInput!) {
    createPolicyTemplate(input: $input) { ...TemplateFields }
  }
`);

export const UPDATE_POLICY_TEMPLATE_MUTATION = graphql(`
  mutation UpdatePolicyTemplate($id: ID!, $input: CreatePolicyTemplateInput!) {
    updatePolicyTemplate(id: $id, input: $input) { ...TemplateFields }
  }
`);

export const ASSIGNMENT_FIELDS = graphql(`
  fragment AssignmentFields on PolicyAssignment {
    id
    group
    tenantDefault
    dataClass
    template { id name version }
    identity { id externalId displayName }
  }
`);

export const POLICY_ASSIGNMENTS_QUERY = graphql(`
  query PolicyAssignments {
    policyAssignments { ...AssignmentFields }
  }
`);

export const ASSIGN_POLICY_MUTATION = graphql(`
  mutation AssignPolicy($input: AssignPolicyInput!) {
    assignPolicy(input: $input) { ...AssignmentFields }
  }
`);

export const UNASSIGN_POLICY_MUTATION = graphql(`
  mutation UnassignPolicy($id: ID!) {
    unassignPolicy(id: $id) { id }
  }
`);

export const PREVIEW_SCHEME_QUERY = graphql(`
  query PreviewScheme($input: PreviewSchemeInput!) {
    previewScheme(input: $input) {
      matchedBy
      copies
      delaySeconds
      templateVersion
      plannedOffsetsSeconds
      template { id name }
      primary { id name remainingBytes }
      secondaries { id name remainingBytes }
      skipped { reason storageSystem { id name remainingBytes } }
    }
  }
`);

/** What the policies screens need besides templates: the systems to pick from and the identities to assign. */
export const POLICY_CHOICES_QUERY = graphql(`
  query PolicyChoices {
    storageSystems { id name kind healthy remainingBytes }
    identities { id externalId displayName groups }
  }
`);

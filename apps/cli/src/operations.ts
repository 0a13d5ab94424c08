import { graphql } from './generated/index.js';

/** Every GraphQL operation the terminal client sends; `npm run codegen` types them from apps/api/schema.graphql. */

export const VIEWER_QUERY = graphql(`
  query CliViewer {
    viewer {
      identity {
        id
        externalId
        displayName
        roles
      }
      tenant {
        slug
        name
      }
    }
  }
`);

export const REPLICA_FIELDS = graphql(`
  fragment CliReplica on Replica {
    id
    role
    order
    status
    bytesTotal
    bytesCopied
    checksum
    attempts
    lastError
    scheduledAt
    completedAt
    storageSystem {
      name
    }
  }
`);

export const JOB_FIELDS = graphql(`
  fragment CliJob on BackupJob {
    id
    datasetKey
    version
    status
    statusReason
    createdAt
    completedAt
    identity {
      externalId
    }
    scheme {
      copies
      templateVersion
      template {
        name
        minCopies
      }
    }
    replicas {
      ...CliReplica
    }
  }
`);

export const JOB_QUERY = graphql(`
  query CliJob($id: ID!) {
    backupJob(id: $id) {
      ...CliJob
    }
  }
`);

export const JOBS_QUERY = graphql(`
  query CliJobs($first: Int, $filter: BackupJobFilter) {
    backupJobs(first: $first, filter: $filter) {
      totalCount
      edges {
        node {
          ...CliJob
        }
      }
    }
  }
`);

export const REPLICA_PROGRESS_SUBSCRIPTION = graphql(`
  subscription CliReplicaProgress($jobId: ID!, $afterEventId: ID) {
    replicaProgress(jobId: $jobId, afterEventId: $afterEventId) {
      id
      status
      bytesCopied
      message
      replica {
        ...CliReplica
      }
    }
  }
`);

export const JOB_UPDATED_SUBSCRIPTION = graphql(`
  subscription CliJobUpdated {
    backupJobUpdated {
      ...CliJob
    }
  }
`);

export const PREVIEW_QUERY = graphql(`
  query CliPreview($input: PreviewSchemeInput!) {
    previewScheme(input: $input) {
      matchedBy
      copies
      delaySeconds
      plannedOffsetsSeconds
      bytesToWrite
      templateVersion
      template {
        name
        minCopies
      }
      primary {
        name
        remainingBytes
      }
      secondaries {
        name
        remainingBytes
      }
      skipped {
        reason
        storageSystem {
          name
        }
      }
    }
  }
`);

export const DATASETS_QUERY = graphql(`
  query CliDatasets {
    datasets {
      key
      identity {
        externalId
      }
      versions {
        number
        sizeBytes
        checksum
        createdAt
      }
      compliance {
        latestVersion
        copiesRequired
        copiesAchieved
        isCompliant
        newestVerifiedCopyAt
      }
    }
  }
`);

export const HISTORY_QUERY = graphql(`
  query CliHistory($first: Int, $after: String, $filter: ReplicaHistoryFilter) {
    replicaHistory(first: $first, after: $after, filter: $filter) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          at
          jobId
          status
          bytesCopied
          message
          replica {
            order
            role
            storageSystem {
              name
            }
          }
        }
      }
    }
  }
`);

export const REQUEST_RESTORE_MUTATION = graphql(`
  mutation CliRequestRestore($input: RequestRestoreInput!) {
    requestRestore(input: $input) {
      id
      status
    }
  }
`);

export const RESTORE_JOB_QUERY = graphql(`
  query CliRestoreJob($id: ID!) {
    restoreJob(id: $id) {
      id
      datasetKey
      version
      status
      downloadUrl
      lastError
      fromReplica {
        role
        storageSystem {
          name
        }
      }
    }
  }
`);

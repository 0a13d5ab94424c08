/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query CliViewer {\n    viewer {\n      identity {\n        id\n        externalId\n        displayName\n        roles\n      }\n      tenant {\n        slug\n        name\n      }\n    }\n  }\n": typeof types.CliViewerDocument,
    "\n  fragment CliReplica on Replica {\n    id\n    role\n    order\n    status\n    bytesTotal\n    bytesCopied\n    checksum\n    attempts\n    lastError\n    scheduledAt\n    completedAt\n    storageSystem {\n      name\n    }\n  }\n": typeof types.CliReplicaFragmentDoc,
    "\n  fragment CliJob on BackupJob {\n    id\n    datasetKey\n    version\n    status\n    statusReason\n    createdAt\n    completedAt\n    identity {\n      externalId\n    }\n    scheme {\n      copies\n      templateVersion\n      template {\n        name\n        minCopies\n      }\n    }\n    replicas {\n      ...CliReplica\n    }\n  }\n": typeof types.CliJobFragmentDoc,
    "\n  query CliJob($id: ID!) {\n    backupJob(id: $id) {\n      ...CliJob\n    }\n  }\n": typeof types.CliJobDocument,
    "\n  query CliJobs($first: Int, $filter: BackupJobFilter) {\n    backupJobs(first: $first, filter: $filter) {\n      totalCount\n      edges {\n        node {\n          ...CliJob\n        }\n      }\n    }\n  }\n": typeof types.CliJobsDocument,
    "\n  subscription CliReplicaProgress($jobId: ID!, $afterEventId: ID) {\n    replicaProgress(jobId: $jobId, afterEventId: $afterEventId) {\n      id\n      status\n      bytesCopied\n      message\n      replica {\n        ...CliReplica\n      }\n    }\n  }\n": typeof types.CliReplicaProgressDocument,
    "\n  subscription CliJobUpdated {\n    backupJobUpdated {\n      ...CliJob\n    }\n  }\n": typeof types.CliJobUpdatedDocument,
    "\n  query CliPreview($input: PreviewSchemeInput!) {\n    previewScheme(input: $input) {\n      matchedBy\n      copies\n      delaySeconds\n      plannedOffsetsSeconds\n      bytesToWrite\n      templateVersion\n      template {\n        name\n        minCopies\n      }\n      primary {\n        name\n        remainingBytes\n      }\n      secondaries {\n        name\n        remainingBytes\n      }\n      skipped {\n        reason\n        storageSystem {\n          name\n        }\n      }\n    }\n  }\n": typeof types.CliPreviewDocument,
    "\n  query CliDatasets {\n    datasets {\n      key\n      identity {\n        externalId\n      }\n      versions {\n        number\n        sizeBytes\n        checksum\n        createdAt\n      }\n      compliance {\n        latestVersion\n        copiesRequired\n        copiesAchieved\n        isCompliant\n        newestVerifiedCopyAt\n      }\n    }\n  }\n": typeof types.CliDatasetsDocument,
    "\n  query CliHistory($first: Int, $after: String, $filter: ReplicaHistoryFilter) {\n    replicaHistory(first: $first, after: $after, filter: $filter) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          at\n          jobId\n          status\n          bytesCopied\n          message\n          replica {\n            order\n            role\n            storageSystem {\n              name\n            }\n          }\n        }\n      }\n    }\n  }\n": typeof types.CliHistoryDocument,
    "\n  mutation CliRequestRestore($input: RequestRestoreInput!) {\n    requestRestore(input: $input) {\n      id\n      status\n    }\n  }\n": typeof types.CliRequestRestoreDocument,
    "\n  query CliRestoreJob($id: ID!) {\n    restoreJob(id: $id) {\n      id\n      datasetKey\n      version\n      status\n      downloadUrl\n      lastError\n      fromReplica {\n        role\n        storageSystem {\n          name\n        }\n      }\n    }\n  }\n": typeof types.CliRestoreJobDocument,
};
const documents: Documents = {
    "\n  query CliViewer {\n    viewer {\n      identity {\n        id\n        externalId\n        displayName\n        roles\n      }\n      tenant {\n        slug\n        name\n      }\n    }\n  }\n": types.CliViewerDocument,
    "\n  fragment CliReplica on Replica {\n    id\n    role\n    order\n    status\n    bytesTotal\n    bytesCopied\n    checksum\n    attempts\n    lastError\n    scheduledAt\n    completedAt\n    storageSystem {\n      name\n    }\n  }\n": types.CliReplicaFragmentDoc,
    "\n  fragment CliJob on BackupJob {\n    id\n    datasetKey\n    version\n    status\n    statusReason\n    createdAt\n    completedAt\n    identity {\n      externalId\n    }\n    scheme {\n      copies\n      templateVersion\n      template {\n        name\n        minCopies\n      }\n    }\n    replicas {\n      ...CliReplica\n    }\n  }\n": types.CliJobFragmentDoc,
    "\n  query CliJob($id: ID!) {\n    backupJob(id: $id) {\n      ...CliJob\n    }\n  }\n": types.CliJobDocument,
    "\n  query CliJobs($first: Int, $filter: BackupJobFilter) {\n    backupJobs(first: $first, filter: $filter) {\n      totalCount\n      edges {\n        node {\n          ...CliJob\n        }\n      }\n    }\n  }\n": types.CliJobsDocument,
    "\n  subscription CliReplicaProgress($jobId: ID!, $afterEventId: ID) {\n    replicaProgress(jobId: $jobId, afterEventId: $afterEventId) {\n      id\n      status\n      bytesCopied\n      message\n      replica {\n        ...CliReplica\n      }\n    }\n  }\n": types.CliReplicaProgressDocument,
    "\n  subscription CliJobUpdated {\n    backupJobUpdated {\n      ...CliJob\n    }\n  }\n": types.CliJobUpdatedDocument,
    "\n  query CliPreview($input: PreviewSchemeInput!) {\n    previewScheme(input: $input) {\n      matchedBy\n      copies\n      delaySeconds\n      plannedOffsetsSeconds\n      bytesToWrite\n      templateVersion\n      template {\n        name\n        minCopies\n      }\n      primary {\n        name\n        remainingBytes\n      }\n      secondaries {\n        name\n        remainingBytes\n      }\n      skipped {\n        reason\n        storageSystem {\n          name\n        }\n      }\n    }\n  }\n": types.CliPreviewDocument,
    "\n  query CliDatasets {\n    datasets {\n      key\n      identity {\n        externalId\n      }\n      versions {\n        number\n        sizeBytes\n        checksum\n        createdAt\n      }\n      compliance {\n        latestVersion\n        copiesRequired\n        copiesAchieved\n        isCompliant\n        newestVerifiedCopyAt\n      }\n    }\n  }\n": types.CliDatasetsDocument,
    "\n  query CliHistory($first: Int, $after: String, $filter: ReplicaHistoryFilter) {\n    replicaHistory(first: $first, after: $after, filter: $filter) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          at\n          jobId\n          status\n          bytesCopied\n          message\n          replica {\n            order\n            role\n            storageSystem {\n              name\n            }\n          }\n        }\n      }\n    }\n  }\n": types.CliHistoryDocument,
    "\n  mutation CliRequestRestore($input: RequestRestoreInput!) {\n    requestRestore(input: $input) {\n      id\n      status\n    }\n  }\n": types.CliRequestRestoreDocument,
    "\n  query CliRestoreJob($id: ID!) {\n    restoreJob(id: $id) {\n      id\n      datasetKey\n      version\n      status\n      downloadUrl\n      lastError\n      fromReplica {\n        role\n        storageSystem {\n          name\n        }\n      }\n    }\n  }\n": types.CliRestoreJobDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliViewer {\n    viewer {\n      identity {\n        id\n        externalId\n        displayName\n        roles\n      }\n      tenant {\n        slug\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  query CliViewer {\n    viewer {\n      identity {\n        id\n        externalId\n        displayName\n        roles\n      }\n      tenant {\n        slug\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CliReplica on Replica {\n    id\n    role\n    order\n    status\n    bytesTotal\n    bytesCopied\n    checksum\n    attempts\n    lastError\n    scheduledAt\n    completedAt\n    storageSystem {\n      name\n    }\n  }\n"): (typeof documents)["\n  fragment CliReplica on Replica {\n    id\n    role\n    order\n    status\n    bytesTotal\n    bytesCopied\n    checksum\n    attempts\n    lastError\n    scheduledAt\n    completedAt\n    storageSystem {\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CliJob on BackupJob {\n    id\n    datasetKey\n    version\n    status\n    statusReason\n    createdAt\n    completedAt\n    identity {\n      externalId\n    }\n    scheme {\n      copies\n      templateVersion\n      template {\n        name\n        minCopies\n      }\n    }\n    replicas {\n      ...CliReplica\n    }\n  }\n"): (typeof documents)["\n  fragment CliJob on BackupJob {\n    id\n    datasetKey\n    version\n    status\n    statusReason\n    createdAt\n    completedAt\n    identity {\n      externalId\n    }\n    scheme {\n      copies\n      templateVersion\n      template {\n        name\n        minCopies\n      }\n    }\n    replicas {\n      ...CliReplica\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliJob($id: ID!) {\n    backupJob(id: $id) {\n      ...CliJob\n    }\n  }\n"): (typeof documents)["\n  query CliJob($id: ID!) {\n    backupJob(id: $id) {\n      ...CliJob\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliJobs($first: Int, $filter: BackupJobFilter) {\n    backupJobs(first: $first, filter: $filter) {\n      totalCount\n      edges {\n        node {\n          ...CliJob\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CliJobs($first: Int, $filter: BackupJobFilter) {\n    backupJobs(first: $first, filter: $filter) {\n      totalCount\n      edges {\n        node {\n          ...CliJob\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription CliReplicaProgress($jobId: ID!, $afterEventId: ID) {\n    replicaProgress(jobId: $jobId, afterEventId: $afterEventId) {\n      id\n      status\n      bytesCopied\n      message\n      replica {\n        ...CliReplica\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription CliReplicaProgress($jobId: ID!, $afterEventId: ID) {\n    replicaProgress(jobId: $jobId, afterEventId: $afterEventId) {\n      id\n      status\n      bytesCopied\n      message\n      replica {\n        ...CliReplica\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription CliJobUpdated {\n    backupJobUpdated {\n      ...CliJob\n    }\n  }\n"): (typeof documents)["\n  subscription CliJobUpdated {\n    backupJobUpdated {\n      ...CliJob\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliPreview($input: PreviewSchemeInput!) {\n    previewScheme(input: $input) {\n      matchedBy\n      copies\n      delaySeconds\n      plannedOffsetsSeconds\n      bytesToWrite\n      templateVersion\n      template {\n        name\n        minCopies\n      }\n      primary {\n        name\n        remainingBytes\n      }\n      secondaries {\n        name\n        remainingBytes\n      }\n      skipped {\n        reason\n        storageSystem {\n          name\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CliPreview($input: PreviewSchemeInput!) {\n    previewScheme(input: $input) {\n      matchedBy\n      copies\n      delaySeconds\n      plannedOffsetsSeconds\n      bytesToWrite\n      templateVersion\n      template {\n        name\n        minCopies\n      }\n      primary {\n        name\n        remainingBytes\n      }\n      secondaries {\n        name\n        remainingBytes\n      }\n      skipped {\n        reason\n        storageSystem {\n          name\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliDatasets {\n    datasets {\n      key\n      identity {\n        externalId\n      }\n      versions {\n        number\n        sizeBytes\n        checksum\n        createdAt\n      }\n      compliance {\n        latestVersion\n        copiesRequired\n        copiesAchieved\n        isCompliant\n        newestVerifiedCopyAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query CliDatasets {\n    datasets {\n      key\n      identity {\n        externalId\n      }\n      versions {\n        number\n        sizeBytes\n        checksum\n        createdAt\n      }\n      compliance {\n        latestVersion\n        copiesRequired\n        copiesAchieved\n        isCompliant\n        newestVerifiedCopyAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliHistory($first: Int, $after: String, $filter: ReplicaHistoryFilter) {\n    replicaHistory(first: $first, after: $after, filter: $filter) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          at\n          jobId\n          status\n          bytesCopied\n          message\n          replica {\n            order\n            role\n            storageSystem {\n              name\n            }\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CliHistory($first: Int, $after: String, $filter: ReplicaHistoryFilter) {\n    replicaHistory(first: $first, after: $after, filter: $filter) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          at\n          jobId\n          status\n          bytesCopied\n          message\n          replica {\n            order\n            role\n            storageSystem {\n              name\n            }\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliRequestRestore($input: RequestRestoreInput!) {\n    requestRestore(input: $input) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation CliRequestRestore($input: RequestRestoreInput!) {\n    requestRestore(input: $input) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliRestoreJob($id: ID!) {\n    restoreJob(id: $id) {\n      id\n      datasetKey\n      version\n      status\n      downloadUrl\n      lastError\n      fromReplica {\n        role\n        storageSystem {\n          name\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CliRestoreJob($id: ID!) {\n    restoreJob(id: $id) {\n      id\n      datasetKey\n      version\n      status\n      downloadUrl\n      lastError\n      fromReplica {\n        role\n        storageSystem {\n          name\n        }\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;
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
    "\n  query Viewer {\n    viewer {\n      identity { id externalId displayName roles }\n      tenant { id slug name }\n      permissions\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  fragment JobListFields on BackupJob {\n    id\n    datasetKey\n    version\n    status\n    statusReason\n    createdAt\n    completedAt\n    identity { id externalId }\n    replicas { id order role status bytesCopied bytesTotal storageSystem { name } }\n  }\n": typeof types.JobListFieldsFragmentDoc,
    "\n  query BackupJobs($filter: BackupJobFilter, $first: Int, $after: String) {\n    backupJobs(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { cursor node { ...JobListFields } }\n    }\n  }\n": typeof types.BackupJobsDocument,
    "\n  subscription BackupJobUpdated {\n    backupJobUpdated { ...JobListFields }\n  }\n": typeof types.BackupJobUpdatedDocument,
    "\n  query BackupJob($id: ID!) {\n    backupJob(id: $id) {\n      id\n      datasetKey\n      version\n      status\n      statusReason\n      createdAt\n      completedAt\n      identity { externalId displayName }\n      scheme {\n        matchedBy\n        copies\n        delaySeconds\n        templateVersion\n        template { name }\n        plannedOffsetsSeconds\n        skipped { storageSystem { name } reason }\n      }\n      replicas {\n        id\n        order\n        role\n        status\n        scheduledAt\n        startedAt\n        completedAt\n        bytesTotal\n        bytesCopied\n        checksum\n        attempts\n        lastError\n        storageSystem { id name }\n        space { name }\n      }\n    }\n  }\n": typeof types.BackupJobDocument,
    "\n  subscription ReplicaProgress($jobId: ID!, $after: ID) {\n    replicaProgress(jobId: $jobId, afterEventId: $after) {\n      id\n      at\n      jobId\n      status\n      bytesCopied\n      message\n      replica {\n        id\n        order\n        role\n        status\n        bytesCopied\n        bytesTotal\n        startedAt\n        completedAt\n        scheduledAt\n        checksum\n        attempts\n        lastError\n        storageSystem { id name }\n        space { name }\n      }\n    }\n  }\n": typeof types.ReplicaProgressDocument,
    "\n  query JobFilterChoices {\n    identities { id externalId }\n  }\n": typeof types.JobFilterChoicesDocument,
    "\n  mutation CancelBackup($id: ID!) {\n    cancelBackup(id: $id) { id status }\n  }\n": typeof types.CancelBackupDocument,
    "\n  mutation ReplicateNow($id: ID!) {\n    replicateNow(id: $id) { id status }\n  }\n": typeof types.ReplicateNowDocument,
    "\n  mutation RetryReplica($id: ID!) {\n    retryReplica(id: $id) { id status }\n  }\n": typeof types.RetryReplicaDocument,
    "\n  query StorageCapacity {\n    storageSystems { id name kind healthy capacityBytes remainingBytes }\n  }\n": typeof types.StorageCapacityDocument,
    "\n  query DatasetProtection {\n    datasets {\n      key\n      identity { id externalId displayName }\n      compliance {\n        latestVersion\n        copiesRequired\n        copiesAchieved\n        newestVerifiedCopyAt\n        versionsNotFullyProtected\n        isCompliant\n      }\n    }\n  }\n": typeof types.DatasetProtectionDocument,
    "\n  fragment StorageSystemFields on StorageSystem {\n    id\n    name\n    kind\n    healthy\n    capacityBytes\n    remainingBytes\n    spaces { id name capacityBytes usedBytes remainingBytes }\n  }\n": typeof types.StorageSystemFieldsFragmentDoc,
    "\n  query StorageSystems {\n    storageSystems { ...StorageSystemFields }\n  }\n": typeof types.StorageSystemsDocument,
    "\n  mutation CreateStorageSystem($input: CreateStorageSystemInput!) {\n    createStorageSystem(input: $input) { ...StorageSystemFields }\n  }\n": typeof types.CreateStorageSystemDocument,
    "\n  mutation CheckStorageSystem($id: ID!) {\n    checkStorageSystem(id: $id) { ...StorageSystemFields }\n  }\n": typeof types.CheckStorageSystemDocument,
    "\n  fragment IdentityFields on Identity {\n    id\n    externalId\n    displayName\n    roles\n    groups\n  }\n": typeof types.IdentityFieldsFragmentDoc,
    "\n  query Identities {\n    identities { ...IdentityFields }\n  }\n": typeof types.IdentitiesDocument,
    "\n  mutation CreateIdentity($input: CreateIdentityInput!) {\n    createIdentity(input: $input) { ...IdentityFields }\n  }\n": typeof types.CreateIdentityDocument,
    "\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    prefix\n    createdAt\n    revokedAt\n    identity { id externalId displayName }\n  }\n": typeof types.ApiKeyFieldsFragmentDoc,
    "\n  query ApiKeys {\n    apiKeys { ...ApiKeyFields }\n  }\n": typeof types.ApiKeysDocument,
    "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) { secret apiKey { ...ApiKeyFields } }\n  }\n": typeof types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) { ...ApiKeyFields }\n  }\n": typeof types.RevokeApiKeyDocument,
    "\n  mutation UpdateIdentity($id: ID!, $input: UpdateIdentityInput!) {\n    updateIdentity(id: $id, input: $input) { ...IdentityFields }\n  }\n": typeof types.UpdateIdentityDocument,
    "\n  mutation DisableIdentity($id: ID!) {\n    disableIdentity(id: $id) { ...IdentityFields }\n  }\n": typeof types.DisableIdentityDocument,
    "\n  fragment TemplateFields on PolicyTemplate {\n    id\n    name\n    version\n    copies\n    minCopies\n    delaySeconds\n    ordering\n    dataClass\n    versions\n    primary { id name }\n    candidates { id name }\n  }\n": typeof types.TemplateFieldsFragmentDoc,
    "\n  query PolicyTemplates {\n    policyTemplates { ...TemplateFields }\n  }\n": typeof types.PolicyTemplatesDocument,
    "\n  query PolicyTemplate($id: ID!, $version: Int) {\n    policyTemplate(id: $id, version: $version) { ...TemplateFields }\n  }\n": typeof types.PolicyTemplateDocument,
    "\n  mutation CreatePolicyTemplate($input: CreatePolicyTemplateInput!) {\n    createPolicyTemplate(input: $input) { ...TemplateFields }\n  }\n": typeof types.CreatePolicyTemplateDocument,
    "\n  mutation UpdatePolicyTemplate($id: ID!, $input: CreatePolicyTemplateInput!) {\n    updatePolicyTemplate(id: $id, input: $input) { ...TemplateFields }\n  }\n": typeof types.UpdatePolicyTemplateDocument,
    "\n  fragment AssignmentFields on PolicyAssignment {\n    id\n    group\n    tenantDefault\n    dataClass\n    template { id name version }\n    identity { id externalId displayName }\n  }\n": typeof types.AssignmentFieldsFragmentDoc,
    "\n  query PolicyAssignments {\n    policyAssignments { ...AssignmentFields }\n  }\n": typeof types.PolicyAssignmentsDocument,
    "\n  mutation AssignPolicy($input: AssignPolicyInput!) {\n    assignPolicy(input: $input) { ...AssignmentFields }\n  }\n": typeof types.AssignPolicyDocument,
    "\n  mutation UnassignPolicy($id: ID!) {\n    unassignPolicy(id: $id) { id }\n  }\n": typeof types.UnassignPolicyDocument,
    "\n  query PreviewScheme($input: PreviewSchemeInput!) {\n    previewScheme(input: $input) {\n      matchedBy\n      copies\n      delaySeconds\n      templateVersion\n      plannedOffsetsSeconds\n      template { id name }\n      primary { id name remainingBytes }\n      secondaries { id name remainingBytes }\n      skipped { reason storageSystem { id name remainingBytes } }\n    }\n  }\n": typeof types.PreviewSchemeDocument,
    "\n  query PolicyChoices {\n    storageSystems { id name kind healthy remainingBytes }\n    identities { id externalId displayName groups }\n  }\n": typeof types.PolicyChoicesDocument,
};
const documents: Documents = {
    "\n  query Viewer {\n    viewer {\n      identity { id externalId displayName roles }\n      tenant { id slug name }\n      permissions\n    }\n  }\n": types.ViewerDocument,
    "\n  fragment JobListFields on BackupJob {\n    id\n    datasetKey\n    version\n    status\n    statusReason\n    createdAt\n    completedAt\n    identity { id externalId }\n    replicas { id order role status bytesCopied bytesTotal storageSystem { name } }\n  }\n": types.JobListFieldsFragmentDoc,
    "\n  query BackupJobs($filter: BackupJobFilter, $first: Int, $after: String) {\n    backupJobs(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { cursor node { ...JobListFields } }\n    }\n  }\n": types.BackupJobsDocument,
    "\n  subscription BackupJobUpdated {\n    backupJobUpdated { ...JobListFields }\n  }\n": types.BackupJobUpdatedDocument,
    "\n  query BackupJob($id: ID!) {\n    backupJob(id: $id) {\n      id\n      datasetKey\n      version\n      status\n      statusReason\n      createdAt\n      completedAt\n      identity { externalId displayName }\n      scheme {\n        matchedBy\n        copies\n        delaySeconds\n        templateVersion\n        template { name }\n        plannedOffsetsSeconds\n        skipped { storageSystem { name } reason }\n      }\n      replicas {\n        id\n        order\n        role\n        status\n        scheduledAt\n        startedAt\n        completedAt\n        bytesTotal\n        bytesCopied\n        checksum\n        attempts\n        lastError\n        storageSystem { id name }\n        space { name }\n      }\n    }\n  }\n": types.BackupJobDocument,
    "\n  subscription ReplicaProgress($jobId: ID!, $after: ID) {\n    replicaProgress(jobId: $jobId, afterEventId: $after) {\n      id\n      at\n      jobId\n      status\n      bytesCopied\n      message\n      replica {\n        id\n        order\n        role\n        status\n        bytesCopied\n        bytesTotal\n        startedAt\n        completedAt\n        scheduledAt\n        checksum\n        attempts\n        lastError\n        storageSystem { id name }\n        space { name }\n      }\n    }\n  }\n": types.ReplicaProgressDocument,
    "\n  query JobFilterChoices {\n    identities { id externalId }\n  }\n": types.JobFilterChoicesDocument,
    "\n  mutation CancelBackup($id: ID!) {\n    cancelBackup(id: $id) { id status }\n  }\n": types.CancelBackupDocument,
    "\n  mutation ReplicateNow($id: ID!) {\n    replicateNow(id: $id) { id status }\n  }\n": types.ReplicateNowDocument,
    "\n  mutation RetryReplica($id: ID!) {\n    retryReplica(id: $id) { id status }\n  }\n": types.RetryReplicaDocument,
    "\n  query StorageCapacity {\n    storageSystems { id name kind healthy capacityBytes remainingBytes }\n  }\n": types.StorageCapacityDocument,
    "\n  query DatasetProtection {\n    datasets {\n      key\n      identity { id externalId displayName }\n      compliance {\n        latestVersion\n        copiesRequired\n        copiesAchieved\n        newestVerifiedCopyAt\n        versionsNotFullyProtected\n        isCompliant\n      }\n    }\n  }\n": types.DatasetProtectionDocument,
    "\n  fragment StorageSystemFields on StorageSystem {\n    id\n    name\n    kind\n    healthy\n    capacityBytes\n    remainingBytes\n    spaces { id name capacityBytes usedBytes remainingBytes }\n  }\n": types.StorageSystemFieldsFragmentDoc,
    "\n  query StorageSystems {\n    storageSystems { ...StorageSystemFields }\n  }\n": types.StorageSystemsDocument,
    "\n  mutation CreateStorageSystem($input: CreateStorageSystemInput!) {\n    createStorageSystem(input: $input) { ...StorageSystemFields }\n  }\n": types.CreateStorageSystemDocument,
    "\n  mutation CheckStorageSystem($id: ID!) {\n    checkStorageSystem(id: $id) { ...StorageSystemFields }\n  }\n": types.CheckStorageSystemDocument,
    "\n  fragment IdentityFields on Identity {\n    id\n    externalId\n    displayName\n    roles\n    groups\n  }\n": types.IdentityFieldsFragmentDoc,
    "\n  query Identities {\n    identities { ...IdentityFields }\n  }\n": types.IdentitiesDocument,
    "\n  mutation CreateIdentity($input: CreateIdentityInput!) {\n    createIdentity(input: $input) { ...IdentityFields }\n  }\n": types.CreateIdentityDocument,
    "\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    prefix\n    createdAt\n    revokedAt\n    identity { id externalId displayName }\n  }\n": types.ApiKeyFieldsFragmentDoc,
    "\n  query ApiKeys {\n    apiKeys { ...ApiKeyFields }\n  }\n": types.ApiKeysDocument,
    "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) { secret apiKey { ...ApiKeyFields } }\n  }\n": types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) { ...ApiKeyFields }\n  }\n": types.RevokeApiKeyDocument,
    "\n  mutation UpdateIdentity($id: ID!, $input: UpdateIdentityInput!) {\n    updateIdentity(id: $id, input: $input) { ...IdentityFields }\n  }\n": types.UpdateIdentityDocument,
    "\n  mutation DisableIdentity($id: ID!) {\n    disableIdentity(id: $id) { ...IdentityFields }\n  }\n": types.DisableIdentityDocument,
    "\n  fragment TemplateFields on PolicyTemplate {\n    id\n    name\n    version\n    copies\n    minCopies\n    delaySeconds\n    ordering\n    dataClass\n    versions\n    primary { id name }\n    candidates { id name }\n  }\n": types.TemplateFieldsFragmentDoc,
    "\n  query PolicyTemplates {\n    policyTemplates { ...TemplateFields }\n  }\n": types.PolicyTemplatesDocument,
    "\n  query PolicyTemplate($id: ID!, $version: Int) {\n    policyTemplate(id: $id, version: $version) { ...TemplateFields }\n  }\n": types.PolicyTemplateDocument,
    "\n  mutation CreatePolicyTemplate($input: CreatePolicyTemplateInput!) {\n    createPolicyTemplate(input: $input) { ...TemplateFields }\n  }\n": types.CreatePolicyTemplateDocument,
    "\n  mutation UpdatePolicyTemplate($id: ID!, $input: CreatePolicyTemplateInput!) {\n    updatePolicyTemplate(id: $id, input: $input) { ...TemplateFields }\n  }\n": types.UpdatePolicyTemplateDocument,
    "\n  fragment AssignmentFields on PolicyAssignment {\n    id\n    group\n    tenantDefault\n    dataClass\n    template { id name version }\n    identity { id externalId displayName }\n  }\n": types.AssignmentFieldsFragmentDoc,
    "\n  query PolicyAssignments {\n    policyAssignments { ...AssignmentFields }\n  }\n": types.PolicyAssignmentsDocument,
    "\n  mutation AssignPolicy($input: AssignPolicyInput!) {\n    assignPolicy(input: $input) { ...AssignmentFields }\n  }\n": types.AssignPolicyDocument,
    "\n  mutation UnassignPolicy($id: ID!) {\n    unassignPolicy(id: $id) { id }\n  }\n": types.UnassignPolicyDocument,
    "\n  query PreviewScheme($input: PreviewSchemeInput!) {\n    previewScheme(input: $input) {\n      matchedBy\n      copies\n      delaySeconds\n      templateVersion\n      plannedOffsetsSeconds\n      template { id name }\n      primary { id name remainingBytes }\n      secondaries { id name remainingBytes }\n      skipped { reason storageSystem { id name remainingBytes } }\n    }\n  }\n": types.PreviewSchemeDocument,
    "\n  query PolicyChoices {\n    storageSystems { id name kind healthy remainingBytes }\n    identities { id externalId displayName groups }\n  }\n": types.PolicyChoicesDocument,
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
export function graphql(source: "\n  query Viewer {\n    viewer {\n      identity { id externalId displayName roles }\n      tenant { id slug name }\n      permissions\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      identity { id externalId displayName roles }\n      tenant { id slug name }\n      permissions\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobListFields on BackupJob {\n    id\n    datasetKey\n    version\n    status\n    statusReason\n    createdAt\n    completedAt\n    identity { id externalId }\n    replicas { id order role status bytesCopied bytesTotal storageSystem { name } }\n  }\n"): (typeof documents)["\n  fragment JobListFields on BackupJob {\n    id\n    datasetKey\n    version\n    status\n    statusReason\n    createdAt\n    completedAt\n    identity { id externalId }\n    replicas { id order role status bytesCopied bytesTotal storageSystem { name } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BackupJobs($filter: BackupJobFilter, $first: Int, $after: String) {\n    backupJobs(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { cursor node { ...JobListFields } }\n    }\n  }\n"): (typeof documents)["\n  query BackupJobs($filter: BackupJobFilter, $first: Int, $after: String) {\n    backupJobs(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { cursor node { ...JobListFields } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription BackupJobUpdated {\n    backupJobUpdated { ...JobListFields }\n  }\n"): (typeof documents)["\n  subscription BackupJobUpdated {\n    backupJobUpdated { ...JobListFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BackupJob($id: ID!) {\n    backupJob(id: $id) {\n      id\n      datasetKey\n      version\n      status\n      statusReason\n      createdAt\n      completedAt\n      identity { externalId displayName }\n      scheme {\n        matchedBy\n        copies\n        delaySeconds\n        templateVersion\n        template { name }\n        plannedOffsetsSeconds\n        skipped { storageSystem { name } reason }\n      }\n      replicas {\n        id\n        order\n        role\n        status\n        scheduledAt\n        startedAt\n        completedAt\n        bytesTotal\n        bytesCopied\n        checksum\n        attempts\n        lastError\n        storageSystem { id name }\n        space { name }\n      }\n    }\n  }\n"): (typeof documents)["\n  query BackupJob($id: ID!) {\n    backupJob(id: $id) {\n      id\n      datasetKey\n      version\n      status\n      statusReason\n      createdAt\n      completedAt\n      identity { externalId displayName }\n      scheme {\n        matchedBy\n        copies\n        delaySeconds\n        templateVersion\n        template { name }\n        plannedOffsetsSeconds\n        skipped { storageSystem { name } reason }\n      }\n      replicas {\n        id\n        order\n        role\n        status\n        scheduledAt\n        startedAt\n        completedAt\n        bytesTotal\n        bytesCopied\n        checksum\n        attempts\n        lastError\n        storageSystem { id name }\n        space { name }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ReplicaProgress($jobId: ID!, $after: ID) {\n    replicaProgress(jobId: $jobId, afterEventId: $after) {\n      id\n      at\n      jobId\n      status\n      bytesCopied\n      message\n      replica {\n        id\n        order\n        role\n        status\n        bytesCopied\n        bytesTotal\n        startedAt\n        completedAt\n        scheduledAt\n        checksum\n        attempts\n        lastError\n        storageSystem { id name }\n        space { name }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ReplicaProgress($jobId: ID!, $after: ID) {\n    replicaProgress(jobId: $jobId, afterEventId: $after) {\n      id\n      at\n      jobId\n      status\n      bytesCopied\n      message\n      replica {\n        id\n        order\n        role\n        status\n        bytesCopied\n        bytesTotal\n        startedAt\n        completedAt\n        scheduledAt\n        checksum\n        attempts\n        lastError\n        storageSystem { id name }\n        space { name }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobFilterChoices {\n    identities { id externalId }\n  }\n"): (typeof documents)["\n  query JobFilterChoices {\n    identities { id externalId }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelBackup($id: ID!) {\n    cancelBackup(id: $id) { id status }\n  }\n"): (typeof documents)["\n  mutation CancelBackup($id: ID!) {\n    cancelBackup(id: $id) { id status }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReplicateNow($id: ID!) {\n    replicateNow(id: $id) { id status }\n  }\n"): (typeof documents)["\n  mutation ReplicateNow($id: ID!) {\n    replicateNow(id: $id) { id status }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryReplica($id: ID!) {\n    retryReplica(id: $id) { id status }\n  }\n"): (typeof documents)["\n  mutation RetryReplica($id: ID!) {\n    retryReplica(id: $id) { id status }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StorageCapacity {\n    storageSystems { id name kind healthy capacityBytes remainingBytes }\n  }\n"): (typeof documents)["\n  query StorageCapacity {\n    storageSystems { id name kind healthy capacityBytes remainingBytes }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DatasetProtection {\n    datasets {\n      key\n      identity { id externalId displayName }\n      compliance {\n        latestVersion\n        copiesRequired\n        copiesAchieved\n        newestVerifiedCopyAt\n        versionsNotFullyProtected\n        isCompliant\n      }\n    }\n  }\n"): (typeof documents)["\n  query DatasetProtection {\n    datasets {\n      key\n      identity { id externalId displayName }\n      compliance {\n        latestVersion\n        copiesRequired\n        copiesAchieved\n        newestVerifiedCopyAt\n        versionsNotFullyProtected\n        isCompliant\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment StorageSystemFields on StorageSystem {\n    id\n    name\n    kind\n    healthy\n    capacityBytes\n    remainingBytes\n    spaces { id name capacityBytes usedBytes remainingBytes }\n  }\n"): (typeof documents)["\n  fragment StorageSystemFields on StorageSystem {\n    id\n    name\n    kind\n    healthy\n    capacityBytes\n    remainingBytes\n    spaces { id name capacityBytes usedBytes remainingBytes }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StorageSystems {\n    storageSystems { ...StorageSystemFields }\n  }\n"): (typeof documents)["\n  query StorageSystems {\n    storageSystems { ...StorageSystemFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateStorageSystem($input: CreateStorageSystemInput!) {\n    createStorageSystem(input: $input) { ...StorageSystemFields }\n  }\n"): (typeof documents)["\n  mutation CreateStorageSystem($input: CreateStorageSystemInput!) {\n    createStorageSystem(input: $input) { ...StorageSystemFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CheckStorageSystem($id: ID!) {\n    checkStorageSystem(id: $id) { ...StorageSystemFields }\n  }\n"): (typeof documents)["\n  mutation CheckStorageSystem($id: ID!) {\n    checkStorageSystem(id: $id) { ...StorageSystemFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment IdentityFields on Identity {\n    id\n    externalId\n    displayName\n    roles\n    groups\n  }\n"): (typeof documents)["\n  fragment IdentityFields on Identity {\n    id\n    externalId\n    displayName\n    roles\n    groups\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Identities {\n    identities { ...IdentityFields }\n  }\n"): (typeof documents)["\n  query Identities {\n    identities { ...IdentityFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateIdentity($input: CreateIdentityInput!) {\n    createIdentity(input: $input) { ...IdentityFields }\n  }\n"): (typeof documents)["\n  mutation CreateIdentity($input: CreateIdentityInput!) {\n    createIdentity(input: $input) { ...IdentityFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    prefix\n    createdAt\n    revokedAt\n    identity { id externalId displayName }\n  }\n"): (typeof documents)["\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    prefix\n    createdAt\n    revokedAt\n    identity { id externalId displayName }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKeys {\n    apiKeys { ...ApiKeyFields }\n  }\n"): (typeof documents)["\n  query ApiKeys {\n    apiKeys { ...ApiKeyFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) { secret apiKey { ...ApiKeyFields } }\n  }\n"): (typeof documents)["\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) { secret apiKey { ...ApiKeyFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) { ...ApiKeyFields }\n  }\n"): (typeof documents)["\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) { ...ApiKeyFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateIdentity($id: ID!, $input: UpdateIdentityInput!) {\n    updateIdentity(id: $id, input: $input) { ...IdentityFields }\n  }\n"): (typeof documents)["\n  mutation UpdateIdentity($id: ID!, $input: UpdateIdentityInput!) {\n    updateIdentity(id: $id, input: $input) { ...IdentityFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DisableIdentity($id: ID!) {\n    disableIdentity(id: $id) { ...IdentityFields }\n  }\n"): (typeof documents)["\n  mutation DisableIdentity($id: ID!) {\n    disableIdentity(id: $id) { ...IdentityFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TemplateFields on PolicyTemplate {\n    id\n    name\n    version\n    copies\n    minCopies\n    delaySeconds\n    ordering\n    dataClass\n    versions\n    primary { id name }\n    candidates { id name }\n  }\n"): (typeof documents)["\n  fragment TemplateFields on PolicyTemplate {\n    id\n    name\n    version\n    copies\n    minCopies\n    delaySeconds\n    ordering\n    dataClass\n    versions\n    primary { id name }\n    candidates { id name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PolicyTemplates {\n    policyTemplates { ...TemplateFields }\n  }\n"): (typeof documents)["\n  query PolicyTemplates {\n    policyTemplates { ...TemplateFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PolicyTemplate($id: ID!, $version: Int) {\n    policyTemplate(id: $id, version: $version) { ...TemplateFields }\n  }\n"): (typeof documents)["\n  query PolicyTemplate($id: ID!, $version: Int) {\n    policyTemplate(id: $id, version: $version) { ...TemplateFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreatePolicyTemplate($input: CreatePolicyTemplateInput!) {\n    createPolicyTemplate(input: $input) { ...TemplateFields }\n  }\n"): (typeof documents)["\n  mutation CreatePolicyTemplate($input: CreatePolicyTemplateInput!) {\n    createPolicyTemplate(input: $input) { ...TemplateFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdatePolicyTemplate($id: ID!, $input: CreatePolicyTemplateInput!) {\n    updatePolicyTemplate(id: $id, input: $input) { ...TemplateFields }\n  }\n"): (typeof documents)["\n  mutation UpdatePolicyTemplate($id: ID!, $input: CreatePolicyTemplateInput!) {\n    updatePolicyTemplate(id: $id, input: $input) { ...TemplateFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AssignmentFields on PolicyAssignment {\n    id\n    group\n    tenantDefault\n    dataClass\n    template { id name version }\n    identity { id externalId displayName }\n  }\n"): (typeof documents)["\n  fragment AssignmentFields on PolicyAssignment {\n    id\n    group\n    tenantDefault\n    dataClass\n    template { id name version }\n    identity { id externalId displayName }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PolicyAssignments {\n    policyAssignments { ...AssignmentFields }\n  }\n"): (typeof documents)["\n  query PolicyAssignments {\n    policyAssignments { ...AssignmentFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AssignPolicy($input: AssignPolicyInput!) {\n    assignPolicy(input: $input) { ...AssignmentFields }\n  }\n"): (typeof documents)["\n  mutation AssignPolicy($input: AssignPolicyInput!) {\n    assignPolicy(input: $input) { ...AssignmentFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnassignPolicy($id: ID!) {\n    unassignPolicy(id: $id) { id }\n  }\n"): (typeof documents)["\n  mutation UnassignPolicy($id: ID!) {\n    unassignPolicy(id: $id) { id }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PreviewScheme($input: PreviewSchemeInput!) {\n    previewScheme(input: $input) {\n      matchedBy\n      copies\n      delaySeconds\n      templateVersion\n      plannedOffsetsSeconds\n      template { id name }\n      primary { id name remainingBytes }\n      secondaries { id name remainingBytes }\n      skipped { reason storageSystem { id name remainingBytes } }\n    }\n  }\n"): (typeof documents)["\n  query PreviewScheme($input: PreviewSchemeInput!) {\n    previewScheme(input: $input) {\n      matchedBy\n      copies\n      delaySeconds\n      templateVersion\n      plannedOffsetsSeconds\n      template { id name }\n      primary { id name remainingBytes }\n      secondaries { id name remainingBytes }\n      skipped { reason storageSystem { id name remainingBytes } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PolicyChoices {\n    storageSystems { id name kind healthy remainingBytes }\n    identities { id externalId displayName groups }\n  }\n"): (typeof documents)["\n  query PolicyChoices {\n    storageSystems { id name kind healthy remainingBytes }\n    identities { id externalId displayName groups }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;
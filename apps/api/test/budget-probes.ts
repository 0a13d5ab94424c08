/**
 * The probes of issue 10 against the GraphQL request budget, shared by its unit and integration tests: the job row
 * nested through replicas, storage systems and spaces (the schema has no deeper list under a job), and 50 aliases of
 * `backupJobs(first: 500)` over it, about 14 KB.
 */
export const JOB_ROW = `id datasetKey version status createdAt identity { id externalId }
  replicas { id order role status bytesCopied bytesTotal checksum
    storageSystem { id name spaces { id name usedBytes } } space { id name } }`;

export const ATTACK = `{ ${Array.from(
  { length: 50 },
  (_, index) => `j${index}: backupJobs(first: 500) { totalCount edges { cursor node { ${JOB_ROW} } } }`,
).join('\n')} }`;

import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Db, seedTenant, type SeededTenant } from '@echelon/db';
import {
  gql,
  gqlOk,
  gqlUntil,
  randomData,
  sha256,
  startTestStack,
  type TestStack,
  uploadBytes,
  wsClient,
} from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Tenant isolation as a matrix: tenant A's administrator runs every operation that names an object — queries,
 * mutations, the progress subscription and tus — with tenant B's ids. Every answer is NOT_FOUND (or null for a
 * nullable lookup; FORBIDDEN only where a tenant administrator may not name a tenant at all), nothing of B
 * changes, and nothing is written anywhere. A guard fails when a root field that takes an id is missing here.
 */

const BOOTSTRAP = `bootstrap-${randomUUID()}`;
const MIB = 1024 * 1024;

/** Tables holding a tenant's rows, compared row by row for B before and after the matrix. */
const TENANT_TABLES = [
  'identities',
  'api_keys',
  'storage_systems',
  'backup_spaces',
  'policy_templates',
  'policy_template_versions',
  'policy_assignments',
  'uploads',
  'datasets',
  'dataset_versions',
  'backup_jobs',
  'replicas',
  'replica_events',
  'audit_entries',
  'restore_jobs',
] as const;

async function tenantRows(db: Db, tenantId: string): Promise<Record<string, unknown[]>> {
  const snapshot: Record<string, unknown[]> = {};
  snapshot.tenants = await db.$queryRawUnsafe<unknown[]>(
    'SELECT to_jsonb(t) AS row FROM tenants t WHERE id = $1::uuid',
    tenantId,
  );
  for (const table of TENANT_TABLES) {
    snapshot[table] = await db.$queryRawUnsafe<unknown[]>(
      `SELECT to_jsonb(t) AS row FROM ${table} t WHERE tenant_id = $1::uuid ORDER BY id`,
      tenantId,
    );
  }
  return snapshot;
}

async function tableCounts(db: Db): Promise<Record<string, number>> {
  const [row] = await db.$queryRawUnsafe<Record<string, number>[]>(
    `SELECT ${['tenants', ...TENANT_TABLES].map((table) => `(SELECT count(*) FROM ${table})::int AS ${table}`).join(', ')}`,
  );
  return row ?? {};
}

interface Job {
  id: string;
  status: string;
  datasetKey: string;
  replicas: { id: string; order: number; status: string }[];
}
const JOB = 'id status datasetKey replicas { id order status }';

interface ErrorBody {
  message: string;
  extensions?: { code?: string };
}

/** The first error of a graphql-ws subscription, or the first payload if it (wrongly) produced one. */
function firstSubscriptionOutcome(
  apiUrl: string,
  key: string,
  query: string,
  variables: Record<string, unknown>,
  timeoutMs = 15_000,
): Promise<{ errors?: ErrorBody[]; data?: unknown; timedOut?: boolean }> {
  const client = wsClient(apiUrl, key);
  return new Promise((resolve) => {
    const finish = (outcome: { errors?: ErrorBody[]; data?: unknown; timedOut?: boolean }) => {
      clearTimeout(timer);
      unsubscribe();
      void client.dispose();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ timedOut: true }), timeoutMs);
    const unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (message) => finish(message.errors ? { errors: message.errors as ErrorBody[] } : { data: message.data }),
        error: (error) =>
          finish({
            errors: Array.isArray(error)
              ? (error as ErrorBody[])
              : [{ message: error instanceof Error ? error.message : JSON.stringify(error) }],
          }),
        complete: () => finish({}),
      },
    );
  });
}

/** Every job of the tenant pushed to `key` by backupJobUpdated until stop() is called. */
function watchJobUpdates(apiUrl: string, key: string) {
  const client = wsClient(apiUrl, key);
  const seen: { id: string; status: string }[] = [];
  const failures: unknown[] = [];
  const unsubscribe = client.subscribe<{ backupJobUpdated: { id: string; status: string } }>(
    { query: 'subscription { backupJobUpdated { id status } }' },
    {
      next: (message) => {
        if (message.errors) failures.push(message.errors);
        if (message.data) seen.push(message.data.backupJobUpdated);
      },
      error: (error) => failures.push(error),
      complete: () => undefined,
    },
  );
  return {
    seen,
    failures,
    async stop() {
      unsubscribe();
      await client.dispose();
    },
  };
}

describe('another tenant’s objects are NOT_FOUND everywhere (real stack)', () => {
  let env: TestStack;
  let a: SeededTenant;
  let b: SeededTenant;
  /** B's objects, by kind. */
  const B = {
    memberId: '',
    memberKeyId: '',
    adminKeyId: '',
    slowTemplateId: '',
    fragileTemplateId: '',
    assignmentIds: [] as string[],
    completedJob: undefined as unknown as Job,
    waitingJob: undefined as unknown as Job,
    partialJob: undefined as unknown as Job,
    failedReplicaId: '',
    spareUploadId: '',
    partialUploadId: '',
    restoreJobId: '',
    datasetKeys: ['b-only/ledger', 'b-only/slow', 'b-only/fragile'],
    idempotencyKey: `b-idempotency-${randomUUID()}`,
  };
  let aSpareUploadId = '';
  let aCompletedJobId = '';
  let bBefore: Record<string, unknown[]>;
  let countsBefore: Record<string, number>;

  const waitForJob = async (key: string, id: string, done: (job: Job) => boolean, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { backupJob } = await gqlOk<{ backupJob: Job }>(
        env.apiUrl,
        key,
        `query($id: ID!) { backupJob(id: $id) { ${JOB} } }`,
        { id },
      );
      if (done(backupJob)) return backupJob;
      if (Date.now() > deadline)
        throw new Error(`job ${id} never reached the expected state: ${JSON.stringify(backupJob)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const ended = (job: Job) => !['PENDING', 'RUNNING'].includes(job.status);

  const requestBackup = async (key: string, input: Record<string, unknown>) =>
    (
      await gqlOk<{ requestBackup: Job }>(
        env.apiUrl,
        key,
        `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { ${JOB} } }`,
        { input },
      )
    ).requestBackup;

  beforeAll(async () => {
    env = await startTestStack({ env: { ECHELON_BOOTSTRAP_TOKEN: BOOTSTRAP } });
    const stamp = Date.now();
    a = await seedTenant(env.db, {
      slug: `iso-a-${stamp}`,
      name: 'Tenant A',
      storageRoot: path.join(env.dataDir, 'storage-a'),
      storage: [
        { name: 'primary', spaces: [{ name: 'main', capacityBytes: 64 * MIB }] },
        { name: 'second', spaces: [{ name: 'main', capacityBytes: 64 * MIB }] },
      ],
      copies: 2,
      delaySeconds: 0,
    });
    // B's systems carry the same names as A's: names are per tenant, ids never are.
    b = await seedTenant(env.db, {
      slug: `iso-b-${stamp}`,
      name: 'Tenant B',
      storageRoot: path.join(env.dataDir, 'storage-b'),
      storage: [
        { name: 'primary', spaces: [{ name: 'main', capacityBytes: 64 * MIB }] },
        { name: 'second', spaces: [{ name: 'main', capacityBytes: 64 * MIB }] },
        { name: 'broken', spaces: [{ name: 'main', capacityBytes: 8 * MIB }] },
      ],
      copies: 2,
      delaySeconds: 0,
    });
    const [bPrimary, bSecond, bBroken] = b.storageSystems.map((system) => system.id);

    // B: a MEMBER with a key, two more templates with their own data classes, an identity assignment.
    const { createIdentity: member } = await gqlOk<{ createIdentity: { id: string } }>(
      env.apiUrl,
      b.apiKey,
      'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
      { input: { externalId: 'b-member', displayName: 'B member', roles: ['MEMBER'], groups: ['b-team'] } },
    );
    B.memberId = member.id;
    const { createApiKey } = await gqlOk<{ createApiKey: { apiKey: { id: string } } }>(
      env.apiUrl,
      b.apiKey,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }',
      { input: { identityId: member.id, name: 'b member key' } },
    );
    B.memberKeyId = createApiKey.apiKey.id;
    B.adminKeyId = (
      await env.db.apiKey.findFirstOrThrow({ where: { tenantId: b.tenant.id, identityId: b.adminIdentityId } })
    ).id;
    const template = 'mutation($input: CreatePolicyTemplateInput!) { createPolicyTemplate(input: $input) { id } }';
    B.slowTemplateId = (
      await gqlOk<{ createPolicyTemplate: { id: string } }>(env.apiUrl, b.apiKey, template, {
        input: {
          name: 'slow',
          copies: 2,
          primaryStorageSystemId: bPrimary,
          candidateStorageSystemIds: [bSecond],
          delaySeconds: 3600,
        },
      })
    ).createPolicyTemplate.id;
    B.fragileTemplateId = (
      await gqlOk<{ createPolicyTemplate: { id: string } }>(env.apiUrl, b.apiKey, template, {
        input: {
          name: 'fragile',
          copies: 2,
          primaryStorageSystemId: bPrimary,
          candidateStorageSystemIds: [bBroken],
          delaySeconds: 0,
        },
      })
    ).createPolicyTemplate.id;
    const assign = 'mutation($input: AssignPolicyInput!) { assignPolicy(input: $input) { id } }';
    for (const input of [
      { templateId: B.slowTemplateId, tenantDefault: true, dataClass: 'slow' },
      { templateId: B.fragileTemplateId, tenantDefault: true, dataClass: 'fragile' },
      { templateId: b.template.templateId, identityId: member.id },
    ]) {
      await gqlOk(env.apiUrl, b.apiKey, assign, { input });
    }
    B.assignmentIds = (await env.db.policyAssignment.findMany({ where: { tenantId: b.tenant.id } })).map(
      (assignment) => assignment.id,
    );
    expect(B.assignmentIds).toHaveLength(4);

    // B's jobs: one COMPLETED, one waiting out an hour's delay, one PARTIAL with a FAILED replica.
    const brokenSpace = path.join(env.dataDir, 'storage-b', 'broken', 'main');
    await rm(brokenSpace, { recursive: true, force: true });
    await writeFile(brokenSpace, 'a file where a directory should be');
    const [completed, waiting, partial] = await Promise.all([
      requestBackup(b.apiKey, {
        datasetKey: B.datasetKeys[0],
        uploadId: await uploadBytes(env.apiUrl, b.apiKey, randomData(256 * 1024)),
        idempotencyKey: B.idempotencyKey,
      }),
      requestBackup(b.apiKey, {
        datasetKey: B.datasetKeys[1],
        uploadId: await uploadBytes(env.apiUrl, b.apiKey, randomData(128 * 1024)),
        dataClass: 'slow',
      }),
      requestBackup(b.apiKey, {
        datasetKey: B.datasetKeys[2],
        uploadId: await uploadBytes(env.apiUrl, b.apiKey, randomData(128 * 1024)),
        dataClass: 'fragile',
      }),
    ]);
    // A: one completed job, and a staged upload it has not used yet.
    const aJob = await requestBackup(a.apiKey, {
      datasetKey: 'a-only/ledger',
      uploadId: await uploadBytes(env.apiUrl, a.apiKey, randomData(256 * 1024)),
    });
    aCompletedJobId = aJob.id;
    aSpareUploadId = await uploadBytes(env.apiUrl, a.apiKey, randomData(64 * 1024));

    B.completedJob = await waitForJob(b.apiKey, completed.id, ended);
    expect(B.completedJob.status).toBe('COMPLETED');
    B.waitingJob = await waitForJob(b.apiKey, waiting.id, (job) =>
      job.replicas.some((replica) => replica.status === 'WAITING'),
    );
    B.partialJob = await waitForJob(b.apiKey, partial.id, ended, 120_000);
    expect(B.partialJob.status).toBe('PARTIAL');
    B.failedReplicaId = B.partialJob.replicas.find((replica) => replica.status === 'FAILED')?.id ?? '';
    expect(B.failedReplicaId).not.toBe('');
    expect((await waitForJob(a.apiKey, aJob.id, ended)).status).toBe('COMPLETED');

    // B: a finished restore of its completed job's dataset.
    const { requestRestore: bRestore } = await gqlOk<{ requestRestore: { id: string } }>(
      env.apiUrl,
      b.apiKey,
      'mutation($input: RequestRestoreInput!) { requestRestore(input: $input) { id } }',
      { input: { datasetKey: B.datasetKeys[0] } },
    );
    B.restoreJobId = bRestore.id;
    await gqlUntil<{ restoreJob: { status: string } }>(
      env.apiUrl,
      b.apiKey,
      'query($id: ID!) { restoreJob(id: $id) { status } }',
      { id: B.restoreJobId },
      ({ restoreJob }) => restoreJob.status === 'COMPLETED',
      { what: "B's restore completing" },
    );

    // B's staged uploads: one complete and unused, one half-sent.
    B.spareUploadId = await uploadBytes(env.apiUrl, b.apiKey, randomData(32 * 1024));
    const created = await fetch(`${env.apiUrl}/uploads`, {
      method: 'POST',
      headers: { 'tus-resumable': '1.0.0', 'upload-length': '100', authorization: `Bearer ${b.apiKey}` },
    });
    expect(created.status).toBe(201);
    B.partialUploadId = (created.headers.get('location') ?? '').split('/').pop() ?? '';
    const firstBytes = await fetch(`${env.apiUrl}/uploads/${B.partialUploadId}`, {
      method: 'PATCH',
      headers: {
        'tus-resumable': '1.0.0',
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
        authorization: `Bearer ${b.apiKey}`,
      },
      body: Buffer.alloc(10, 1),
    });
    expect(firstBytes.status).toBe(204);

    // The waiting job has settled (its timer runs for an hour): from here on B's rows must not move.
    await new Promise((resolve) => setTimeout(resolve, 500));
    bBefore = await tenantRows(env.db, b.tenant.id);
    countsBefore = await tableCounts(env.db);
    console.log(`isolation: two tenants with jobs set up in ${Date.now() - stamp} ms after the stack started`);
  }, 240_000);

  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  /** What A's administrator sends, and what the contract says must come back. */
  type Expectation = 'NOT_FOUND' | 'FORBIDDEN' | 'null' | 'no B objects';
  interface Probe {
    field: string;
    label: string;
    query: string;
    variables: () => Record<string, unknown>;
    expect: Expectation;
  }

  const validTemplateInput = () => ({
    name: `probe-${randomUUID()}`,
    copies: 2,
    primaryStorageSystemId: a.storageSystems[0]?.id,
    candidateStorageSystemIds: [a.storageSystems[1]?.id],
    delaySeconds: 0,
  });
  const bIds = () => [
    b.tenant.id,
    b.adminIdentityId,
    B.memberId,
    B.adminKeyId,
    B.memberKeyId,
    b.template.templateId,
    B.slowTemplateId,
    B.fragileTemplateId,
    ...B.assignmentIds,
    ...b.storageSystems.flatMap((system) => [system.id, ...system.spaces.map((space) => space.id)]),
    B.completedJob.id,
    B.waitingJob.id,
    B.partialJob.id,
    ...[B.completedJob, B.waitingJob, B.partialJob].flatMap((job) => job.replicas.map((replica) => replica.id)),
    B.spareUploadId,
    B.partialUploadId,
  ];

  const probes = (): Probe[] => {
    const bJobs = [B.completedJob, B.waitingJob, B.partialJob];
    const [bPrimary, bSecond] = b.storageSystems.map((system) => system.id);
    const aTemplate = a.template.templateId;
    const list: Probe[] = [
      ...bJobs.map(
        (job): Probe => ({
          field: 'backupJob',
          label: `B's ${job.status} job`,
          query: `query($id: ID!) { backupJob(id: $id) { id } }`,
          variables: () => ({ id: job.id }),
          expect: 'null',
        }),
      ),
      ...[b.template.templateId, B.slowTemplateId].flatMap((id): Probe[] => [
        {
          field: 'policyTemplate',
          label: "B's template",
          query: 'query($id: ID!) { policyTemplate(id: $id) { id } }',
          variables: () => ({ id }),
          expect: 'null',
        },
        {
          field: 'policyTemplate',
          label: "B's template, version 1",
          query: 'query($id: ID!) { policyTemplate(id: $id, version: 1) { id } }',
          variables: () => ({ id }),
          expect: 'null',
        },
      ]),
      ...[b.adminIdentityId, B.memberId].map(
        (identityId): Probe => ({
          field: 'datasetCompliance',
          label: "B's identity",
          query:
            'query($identityId: ID) { datasetCompliance(datasetKey: "iso/b", identityId: $identityId) { isCompliant } }',
          variables: () => ({ identityId }),
          expect: 'null',
        }),
      ),
      ...b.storageSystems.map(
        (system): Probe => ({
          field: 'checkStorageSystem',
          label: `B's storage system ${system.name}`,
          query: 'mutation($id: ID!) { checkStorageSystem(id: $id) { id healthy } }',
          variables: () => ({ id: system.id }),
          expect: 'NOT_FOUND',
        }),
      ),
      ...[b.adminIdentityId, B.memberId].map(
        (identityId): Probe => ({
          field: 'previewScheme',
          label: "B's identity",
          query: 'query($input: PreviewSchemeInput!) { previewScheme(input: $input) { copies } }',
          variables: () => ({ input: { identityId, sizeBytes: 1024 } }),
          expect: 'NOT_FOUND',
        }),
      ),
      {
        field: 'backupJobs',
        label: "filtered by B's identity",
        query: 'query($filter: BackupJobFilter) { backupJobs(filter: $filter) { totalCount edges { node { id } } } }',
        variables: () => ({ filter: { identityId: b.adminIdentityId } }),
        expect: 'no B objects',
      },
      {
        field: 'backupJobs',
        label: "filtered by B's dataset key",
        query: 'query($filter: BackupJobFilter) { backupJobs(filter: $filter) { totalCount edges { node { id } } } }',
        variables: () => ({ filter: { datasetKey: B.datasetKeys[0] } }),
        expect: 'no B objects',
      },
      ...[B.waitingJob, B.completedJob].flatMap((job): Probe[] => [
        {
          field: 'cancelBackup',
          label: `B's ${job.status} job`,
          query: 'mutation($id: ID!) { cancelBackup(id: $id) { id status } }',
          variables: () => ({ id: job.id }),
          expect: 'NOT_FOUND',
        },
        {
          field: 'replicateNow',
          label: `B's ${job.status} job`,
          query: 'mutation($id: ID!) { replicateNow(id: $id) { id status } }',
          variables: () => ({ id: job.id }),
          expect: 'NOT_FOUND',
        },
      ]),
      ...[B.failedReplicaId, B.completedJob.replicas[0]?.id].map(
        (id, index): Probe => ({
          field: 'retryReplica',
          label: index === 0 ? "B's FAILED replica" : "B's COMPLETED replica",
          query: 'mutation($id: ID!) { retryReplica(id: $id) { id status } }',
          variables: () => ({ id }),
          expect: 'NOT_FOUND',
        }),
      ),
      ...[B.failedReplicaId, B.completedJob.replicas[0]?.id].map(
        (id, index): Probe => ({
          field: 'verifyReplica',
          label: index === 0 ? "B's FAILED replica" : "B's COMPLETED replica",
          query: 'mutation($id: ID!) { verifyReplica(id: $id) { id status } }',
          variables: () => ({ id }),
          expect: 'NOT_FOUND',
        }),
      ),
      ...[B.adminKeyId, B.memberKeyId].map(
        (id): Probe => ({
          field: 'revokeApiKey',
          label: "B's API key",
          query: 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }',
          variables: () => ({ id }),
          expect: 'NOT_FOUND',
        }),
      ),
      ...[b.template.templateId, B.slowTemplateId].map(
        (id): Probe => ({
          field: 'updatePolicyTemplate',
          label: "B's template, a valid input of A",
          query:
            'mutation($id: ID!, $input: CreatePolicyTemplateInput!) { updatePolicyTemplate(id: $id, input: $input) { id version } }',
          variables: () => ({ id, input: validTemplateInput() }),
          expect: 'NOT_FOUND',
        }),
      ),
      {
        field: 'updatePolicyTemplate',
        label: "A's template with B's primary",
        query:
          'mutation($id: ID!, $input: CreatePolicyTemplateInput!) { updatePolicyTemplate(id: $id, input: $input) { id } }',
        variables: () => ({
          id: aTemplate,
          input: { ...validTemplateInput(), primaryStorageSystemId: bPrimary },
        }),
        expect: 'NOT_FOUND',
      },
      {
        field: 'updatePolicyTemplate',
        label: "A's template with B's candidate",
        query:
          'mutation($id: ID!, $input: CreatePolicyTemplateInput!) { updatePolicyTemplate(id: $id, input: $input) { id } }',
        variables: () => ({
          id: aTemplate,
          input: { ...validTemplateInput(), candidateStorageSystemIds: [bSecond] },
        }),
        expect: 'NOT_FOUND',
      },
      ...B.assignmentIds.map(
        (id): Probe => ({
          field: 'unassignPolicy',
          label: "B's assignment",
          query: 'mutation($id: ID!) { unassignPolicy(id: $id) { id } }',
          variables: () => ({ id }),
          expect: 'NOT_FOUND',
        }),
      ),
      ...[b.template.templateId, B.slowTemplateId].map(
        (templateId): Probe => ({
          field: 'previewRetention',
          label: "B's template",
          query: 'query($id: ID!) { previewRetention(templateId: $id, retention: { keepLast: 1 }) { datasetKey } }',
          variables: () => ({ id: templateId }),
          expect: 'NOT_FOUND',
        }),
      ),
      {
        field: 'placeLegalHold',
        label: "B's dataset version, by its owner",
        query:
          'mutation($key: String!, $identityId: ID) { placeLegalHold(datasetKey: $key, version: 1, reason: "A holds it", identityId: $identityId) { version } }',
        variables: () => ({ key: B.datasetKeys[0], identityId: b.adminIdentityId }),
        expect: 'NOT_FOUND',
      },
      {
        field: 'liftLegalHold',
        label: "B's dataset version, by its owner",
        query:
          'mutation($key: String!, $identityId: ID) { liftLegalHold(datasetKey: $key, version: 1, identityId: $identityId) { version } }',
        variables: () => ({ key: B.datasetKeys[0], identityId: b.adminIdentityId }),
        expect: 'NOT_FOUND',
      },
      ...[b.adminIdentityId, B.memberId].flatMap((identityId): Probe[] => [
        {
          field: 'apiKeys',
          label: "B's identity",
          query: 'query($identityId: ID) { apiKeys(identityId: $identityId) { id } }',
          variables: () => ({ identityId }),
          expect: 'NOT_FOUND',
        },
        {
          field: 'updateIdentity',
          label: "B's identity, a valid input",
          query: 'mutation($id: ID!, $input: UpdateIdentityInput!) { updateIdentity(id: $id, input: $input) { id } }',
          variables: () => ({ id: identityId, input: { displayName: 'stolen' } }),
          expect: 'NOT_FOUND',
        },
        {
          field: 'disableIdentity',
          label: "B's identity",
          query: 'mutation($id: ID!) { disableIdentity(id: $id) { id } }',
          variables: () => ({ id: identityId }),
          expect: 'NOT_FOUND',
        },
      ]),
      ...[b.adminIdentityId, B.memberId].map(
        (identityId): Probe => ({
          field: 'createApiKey',
          label: "B's identity",
          query: 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
          variables: () => ({ input: { identityId, name: 'stolen' } }),
          expect: 'NOT_FOUND',
        }),
      ),
      ...[b.template.templateId, B.slowTemplateId].map(
        (templateId): Probe => ({
          field: 'assignPolicy',
          label: "B's template",
          query: 'mutation($input: AssignPolicyInput!) { assignPolicy(input: $input) { id } }',
          variables: () => ({ input: { templateId, group: 'a-probe-group' } }),
          expect: 'NOT_FOUND',
        }),
      ),
      {
        field: 'assignPolicy',
        label: "A's template to B's identity",
        query: 'mutation($input: AssignPolicyInput!) { assignPolicy(input: $input) { id } }',
        variables: () => ({ input: { templateId: aTemplate, identityId: B.memberId } }),
        expect: 'NOT_FOUND',
      },
      {
        field: 'createPolicyTemplate',
        label: "B's primary",
        query: 'mutation($input: CreatePolicyTemplateInput!) { createPolicyTemplate(input: $input) { id } }',
        variables: () => ({ input: { ...validTemplateInput(), primaryStorageSystemId: bPrimary } }),
        expect: 'NOT_FOUND',
      },
      {
        field: 'createPolicyTemplate',
        label: "B's candidate",
        query: 'mutation($input: CreatePolicyTemplateInput!) { createPolicyTemplate(input: $input) { id } }',
        variables: () => ({ input: { ...validTemplateInput(), candidateStorageSystemIds: [bSecond] } }),
        expect: 'NOT_FOUND',
      },
      ...[B.spareUploadId, B.partialUploadId].map(
        (uploadId, index): Probe => ({
          field: 'requestBackup',
          label: index === 0 ? "B's complete upload" : "B's half-sent upload",
          query: 'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
          variables: () => ({ input: { datasetKey: 'a-only/stolen', uploadId } }),
          expect: 'NOT_FOUND',
        }),
      ),
      ...[b.adminIdentityId, B.memberId].map(
        (identityId): Probe => ({
          field: 'requestBackup',
          label: "A's upload for B's identity",
          query: 'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
          variables: () => ({ input: { datasetKey: 'a-only/foreign', uploadId: aSpareUploadId, identityId } }),
          expect: 'NOT_FOUND',
        }),
      ),
      {
        field: 'restoreJob',
        label: "B's restore",
        query: 'query($id: ID!) { restoreJob(id: $id) { id } }',
        variables: () => ({ id: B.restoreJobId }),
        expect: 'null',
      },
      ...[b.adminIdentityId, B.memberId].map(
        (identityId): Probe => ({
          field: 'requestRestore',
          label: "B's dataset, naming B's identity",
          query: 'mutation($input: RequestRestoreInput!) { requestRestore(input: $input) { id } }',
          variables: () => ({ input: { datasetKey: B.datasetKeys[0], identityId } }),
          expect: 'NOT_FOUND',
        }),
      ),
      {
        field: 'createIdentity',
        label: 'tenantId of B (a tenant administrator names no tenant but its own)',
        query:
          'mutation($input: CreateIdentityInput!, $tenantId: ID) { createIdentity(input: $input, tenantId: $tenantId) { id } }',
        variables: () => ({
          input: { externalId: 'planted', displayName: 'Planted', roles: ['TENANT_ADMIN'] },
          tenantId: b.tenant.id,
        }),
        expect: 'FORBIDDEN',
      },
    ];
    return list;
  };

  /** Root fields the matrix does not reach with ids although they take one (empty when complete). */
  const OUTSIDE_THE_MATRIX = new Set([
    'replicaProgress', // its own test: a subscription over graphql-ws
    'replicaHistory', // the lists test: every id filter of B's
  ]);

  it("serves none of B's restored bytes to A", async () => {
    const url = `${env.apiUrl}/restores/${B.restoreJobId}/content`;
    const asA = await fetch(url, { headers: { authorization: `Bearer ${a.apiKey}` } });
    expect(asA.status).toBe(404);
    const asB = await fetch(url, { headers: { authorization: `Bearer ${b.apiKey}` } });
    expect(asB.status).toBe(200);
    expect((await asB.arrayBuffer()).byteLength).toBe(256 * 1024);
  });

  it('covers every root field that takes an id', async () => {
    interface Ref {
      kind: string;
      name: string | null;
      ofType: Ref | null;
    }
    const { __schema } = await gqlOk<{
      __schema: {
        types: {
          name: string;
          kind: string;
          fields: { name: string; args: { type: Ref }[] }[] | null;
          inputFields: { type: Ref }[] | null;
        }[];
        queryType: { name: string };
        mutationType: { name: string } | null;
        subscriptionType: { name: string } | null;
      };
    }>(
      env.apiUrl,
      a.apiKey,
      `fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
       { __schema { queryType { name } mutationType { name } subscriptionType { name }
         types { name kind fields { name args { type { ...Ref } } } inputFields { type { ...Ref } } } } }`,
    );
    const types = new Map(__schema.types.map((type) => [type.name, type]));
    const named = (ref: Ref): Ref => (ref.ofType ? named(ref.ofType) : ref);
    const takesId = (ref: Ref, seen: Set<string>): boolean => {
      const type = named(ref);
      if (type.name === 'ID') return true;
      if (type.kind !== 'INPUT_OBJECT' || type.name === null || seen.has(type.name)) return false;
      seen.add(type.name);
      return (types.get(type.name)?.inputFields ?? []).some((field) => takesId(field.type, seen));
    };
    const roots = [__schema.queryType.name, __schema.mutationType?.name, __schema.subscriptionType?.name];
    const withIds = roots.flatMap((root) =>
      (types.get(root ?? '')?.fields ?? [])
        .filter((field) => field.args.some((arg) => takesId(arg.type, new Set())))
        .map((field) => field.name),
    );
    const covered = new Set([...probes().map((probe) => probe.field), ...OUTSIDE_THE_MATRIX]);
    expect(withIds.filter((field) => !covered.has(field))).toEqual([]);
  });

  it("answers every operation naming B's objects as the contract says, and changes nothing", async () => {
    const problems: string[] = [];
    for (const probe of probes()) {
      const variables = probe.variables();
      const result = await gql<Record<string, unknown>>(env.apiUrl, a.apiKey, probe.query, variables);
      const codes = (result.errors ?? []).map((error) => error.extensions?.code);
      const summary = `${probe.field} (${probe.label})`;
      // An id the caller sent may be echoed in the refusal; any other id of B's is a leak.
      const sent = JSON.stringify(variables);
      const leaked = bIds().filter((id) => !sent.includes(id) && JSON.stringify(result).includes(id));
      if (leaked.length > 0) problems.push(`${summary} revealed B's ids ${leaked.join(', ')}`);
      switch (probe.expect) {
        case 'null':
          if (codes.length > 0 || result.data?.[probe.field] !== null) {
            problems.push(`${summary}: expected null, got ${JSON.stringify(result).slice(0, 300)}`);
          }
          break;
        case 'no B objects':
          if (codes.length > 0) problems.push(`${summary}: ${JSON.stringify(result.errors).slice(0, 300)}`);
          break;
        default:
          if (codes.length !== 1 || codes[0] !== probe.expect || result.data?.[probe.field] != null) {
            problems.push(`${summary}: expected ${probe.expect}, got ${JSON.stringify(result).slice(0, 300)}`);
          }
      }
    }
    expect.soft(problems).toEqual([]);
    // Controls: the same lookups with A's own ids answer, so a null above means "not yours", not "broken".
    const own = await gql(
      env.apiUrl,
      a.apiKey,
      'query($job: ID!, $template: ID!) { backupJob(id: $job) { id } policyTemplate(id: $template) { id } }',
      { job: aCompletedJobId, template: a.template.templateId },
    );
    expect
      .soft(own)
      .toEqual({ data: { backupJob: { id: aCompletedJobId }, policyTemplate: { id: a.template.templateId } } });
    expect(await tenantRows(env.db, b.tenant.id)).toEqual(bBefore);
    expect(await tableCounts(env.db)).toEqual(countsBefore);
    // B's waiting job is still waiting: neither cancelled nor hurried by A.
    const waiting = await env.db.backupJob.findUniqueOrThrow({
      where: { id: B.waitingJob.id },
      include: { replicas: true },
    });
    expect(waiting.status).toBe('RUNNING');
    expect(waiting.replicas.map((replica) => replica.status).sort()).toEqual(['COMPLETED', 'WAITING']);
  });

  it("lists as A hold none of B's objects, whatever the filter", async () => {
    const lists = [
      '{ identities { id externalId } }',
      '{ storageSystems { id name spaces { id } } }',
      '{ policyTemplates { id name primary { id } candidates { id } } }',
      '{ policyAssignments { id template { id } identity { id } } }',
      '{ datasets { key identity { id } versions { number job { id replicas { id } } } } }',
      '{ backupJobs(first: 500) { totalCount edges { node { id datasetKey identity { id } replicas { id storageSystem { id } } } } } }',
      '{ replicaHistory(first: 1000) { edges { node { id jobId replica { id storageSystem { id } } } } } }',
      '{ viewer { identity { id } tenant { id } } }',
    ];
    const filters = [
      { identityId: b.adminIdentityId },
      { identityId: B.memberId },
      { jobId: B.completedJob.id },
      { jobId: B.partialJob.id },
      { storageSystemId: b.storageSystems[0]?.id },
      { datasetKey: B.datasetKeys[0] },
    ];
    const problems: string[] = [];
    const check = (label: string, result: { data?: unknown; errors?: unknown[] }) => {
      const text = JSON.stringify(result);
      const leaked = [...bIds(), ...B.datasetKeys].filter((id) => text.includes(id));
      if (leaked.length > 0) problems.push(`${label} holds B's ${leaked.join(', ')}`);
      if (result.errors?.length) problems.push(`${label}: ${JSON.stringify(result.errors).slice(0, 300)}`);
    };
    for (const query of lists) check(query, await gql(env.apiUrl, a.apiKey, query));
    for (const filter of filters) {
      const jobFilter = { identityId: filter.identityId, datasetKey: filter.datasetKey };
      if (jobFilter.identityId || jobFilter.datasetKey) {
        const jobs = await gql<{ backupJobs: { totalCount: number } }>(
          env.apiUrl,
          a.apiKey,
          'query($filter: BackupJobFilter) { backupJobs(filter: $filter) { totalCount edges { node { id } } } }',
          { filter: jobFilter },
        );
        check(`backupJobs(${JSON.stringify(jobFilter)})`, jobs);
        expect(jobs.data?.backupJobs.totalCount).toBe(0);
      }
      const history = await gql<{ replicaHistory: { edges: unknown[] } }>(
        env.apiUrl,
        a.apiKey,
        'query($filter: ReplicaHistoryFilter) { replicaHistory(filter: $filter) { edges { node { id jobId } } } }',
        { filter },
      );
      // Either an empty page or NOT_FOUND honours the contract; B's events never do.
      const code = history.errors?.[0]?.extensions?.code;
      if (code === 'NOT_FOUND') continue;
      check(`replicaHistory(${JSON.stringify(filter)})`, history);
      expect(history.data?.replicaHistory.edges ?? []).toEqual([]);
    }
    expect.soft(problems).toEqual([]);
    // …while B itself sees its objects, so the lists above were not empty by accident.
    const own = await gqlOk<{ backupJobs: { totalCount: number } }>(
      env.apiUrl,
      b.apiKey,
      '{ backupJobs { totalCount } }',
    );
    expect(own.backupJobs.totalCount).toBe(3);
    const aOwn = await gqlOk<{ backupJobs: { edges: { node: { id: string } }[] } }>(
      env.apiUrl,
      a.apiKey,
      '{ backupJobs { edges { node { id } } } }',
    );
    expect(aOwn.backupJobs.edges.map((edge) => edge.node.id)).toEqual([aCompletedJobId]);
  });

  it("refuses replicaProgress for B's jobs with NOT_FOUND over graphql-ws", async () => {
    const problems: string[] = [];
    for (const job of [B.completedJob, B.waitingJob, B.partialJob]) {
      for (const afterEventId of [null, '0']) {
        const outcome = await firstSubscriptionOutcome(
          env.apiUrl,
          a.apiKey,
          'subscription($jobId: ID!, $after: ID) { replicaProgress(jobId: $jobId, afterEventId: $after) { id jobId } }',
          { jobId: job.id, after: afterEventId },
        );
        const codes = (outcome.errors ?? []).map((error) => error.extensions?.code);
        if (codes.length !== 1 || codes[0] !== 'NOT_FOUND') {
          problems.push(`replicaProgress(B's ${job.status} job, after ${afterEventId}): ${JSON.stringify(outcome)}`);
        }
      }
    }
    expect.soft(problems).toEqual([]);
    expect(await tenantRows(env.db, b.tenant.id)).toEqual(bBefore);
  });

  it("answers tus requests on B's uploads with A's key with 404 and leaves them as they were", async () => {
    const tus = { 'tus-resumable': '1.0.0', authorization: `Bearer ${a.apiKey}` };
    const problems: string[] = [];
    // The chunks B's uploads recorded (the tables have no id column, so tenantRows leaves them out).
    const chunkRows = () =>
      env.db.$queryRaw<unknown[]>`
        SELECT 'upload' AS kind, upload_id AS of, seq, hash, length FROM upload_chunks WHERE tenant_id = ${b.tenant.id}::uuid
        UNION ALL
        SELECT 'stored', space_id::text, 0, hash, length FROM stored_chunks WHERE tenant_id = ${b.tenant.id}::uuid
        ORDER BY 1, 2, 3, 4`;
    const chunksBefore = await chunkRows();
    for (const [label, id] of [
      ['complete', B.spareUploadId],
      ['half-sent', B.partialUploadId],
    ] as const) {
      const url = `${env.apiUrl}/uploads/${id}`;
      const attempts: [string, RequestInit][] = [
        ['HEAD', { method: 'HEAD', headers: tus }],
        ['GET', { method: 'GET', headers: tus }],
        [
          'PATCH',
          {
            method: 'PATCH',
            headers: { ...tus, 'upload-offset': '10', 'content-type': 'application/offset+octet-stream' },
            body: Buffer.alloc(90, 2),
          },
        ],
        ['DELETE', { method: 'DELETE', headers: tus }],
      ];
      for (const [method, init] of attempts) {
        const response = await fetch(url, init);
        const text = await response.text();
        if (response.status !== 404)
          problems.push(`${method} of B's ${label} upload: HTTP ${response.status} ${text.slice(0, 100)}`);
        if (response.headers.get('upload-offset') !== null)
          problems.push(`${method} of B's ${label} upload revealed its offset`);
      }
    }
    expect.soft(problems).toEqual([]);
    // B still has both, exactly as before.
    const asB = { 'tus-resumable': '1.0.0', authorization: `Bearer ${b.apiKey}` };
    // HEAD answers the end of the last recorded chunk: B's 10 bytes are less than a chunk, held by this process.
    const half = await fetch(`${env.apiUrl}/uploads/${B.partialUploadId}`, { method: 'HEAD', headers: asB });
    expect(half.status).toBe(200);
    expect(half.headers.get('upload-offset')).toBe('0');
    const whole = await fetch(`${env.apiUrl}/uploads/${B.spareUploadId}`, { method: 'HEAD', headers: asB });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('upload-offset')).toBe(String(32 * 1024));
    expect(await tenantRows(env.db, b.tenant.id)).toEqual(bBefore);
    expect(await chunkRows()).toEqual(chunksBefore);
    // The tail this process holds is still B's 10 bytes and nothing of A's: B continues from byte 10, and the
    // upload is exactly B's bytes.
    const rest = await fetch(`${env.apiUrl}/uploads/${B.partialUploadId}`, {
      method: 'PATCH',
      headers: { ...asB, 'upload-offset': '10', 'content-type': 'application/offset+octet-stream' },
      body: Buffer.alloc(90, 3),
    });
    expect(rest.status).toBe(204);
    expect(rest.headers.get('upload-offset')).toBe('100');
    const completed = await env.db.upload.findUniqueOrThrow({ where: { id: B.partialUploadId } });
    expect(completed.sha256).toBe(sha256(Buffer.concat([Buffer.alloc(10, 1), Buffer.alloc(90, 3)])));
  });

  it("keeps B's job updates and idempotency keys to B", async () => {
    const aWatch = watchJobUpdates(env.apiUrl, a.apiKey);
    const bWatch = watchJobUpdates(env.apiUrl, b.apiKey);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // B cancels its waiting job: B's subscriber hears of it, A's does not.
    await gqlOk(env.apiUrl, b.apiKey, 'mutation($id: ID!) { cancelBackup(id: $id) { id } }', { id: B.waitingJob.id });
    await waitForJob(b.apiKey, B.waitingJob.id, (job) => job.status === 'CANCELLED', 30_000);
    const deadline = Date.now() + 10_000;
    while (!bWatch.seen.some((job) => job.status === 'CANCELLED') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await aWatch.stop();
    await bWatch.stop();
    expect(bWatch.seen.map((job) => job.id)).toContain(B.waitingJob.id);
    expect(aWatch.seen).toEqual([]);
    expect(aWatch.failures).toEqual([]);

    // The same idempotency key in A is A's own: a new job of A, never B's job.
    const { requestBackup: job } = await gqlOk<{ requestBackup: { id: string } }>(
      env.apiUrl,
      a.apiKey,
      'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
      { input: { datasetKey: 'a-only/idempotent', uploadId: aSpareUploadId, idempotencyKey: B.idempotencyKey } },
    );
    expect(job.id).not.toBe(B.completedJob.id);
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } })).tenantId).toBe(a.tenant.id);
  });

  // Last: it adds jobs to B, which the tests above compare against their snapshot.
  it("keeps a MEMBER's subscriptions to its own jobs", async () => {
    const { createApiKey } = await gqlOk<{ createApiKey: { secret: string } }>(
      env.apiUrl,
      b.apiKey,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
      { input: { identityId: B.memberId, name: 'b member live key' } },
    );
    const memberKey = createApiKey.secret;
    const memberWatch = watchJobUpdates(env.apiUrl, memberKey);
    const adminWatch = watchJobUpdates(env.apiUrl, b.apiKey);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const own = await requestBackup(memberKey, {
      datasetKey: 'b-member/own',
      uploadId: await uploadBytes(env.apiUrl, memberKey, randomData(64 * 1024)),
    });
    const colleague = await requestBackup(b.apiKey, {
      datasetKey: 'b-only/colleague',
      uploadId: await uploadBytes(env.apiUrl, b.apiKey, randomData(64 * 1024)),
    });
    // The member follows its own job's events; the colleague's job does not exist for it.
    const events = await firstSubscriptionOutcome(
      env.apiUrl,
      memberKey,
      'subscription($jobId: ID!) { replicaProgress(jobId: $jobId) { id jobId } }',
      { jobId: own.id },
    );
    expect(events).toMatchObject({ data: { replicaProgress: { jobId: own.id } } });
    const refused = await firstSubscriptionOutcome(
      env.apiUrl,
      memberKey,
      'subscription($jobId: ID!) { replicaProgress(jobId: $jobId) { id jobId } }',
      { jobId: colleague.id },
    );
    expect((refused.errors ?? []).map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    await waitForJob(memberKey, own.id, ended);
    await waitForJob(b.apiKey, colleague.id, ended);
    const deadline = Date.now() + 10_000;
    const finished = (seen: { id: string; status: string }[], id: string) =>
      seen.some((job) => job.id === id && job.status === 'COMPLETED');
    while (
      !(
        finished(adminWatch.seen, own.id) &&
        finished(adminWatch.seen, colleague.id) &&
        finished(memberWatch.seen, own.id)
      ) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await memberWatch.stop();
    await adminWatch.stop();
    // The tenant admin hears of both jobs; the member only of its own, however many updates there were.
    expect(new Set(adminWatch.seen.map((job) => job.id))).toEqual(new Set([own.id, colleague.id]));
    expect(new Set(memberWatch.seen.map((job) => job.id))).toEqual(new Set([own.id]));
    expect(finished(memberWatch.seen, own.id)).toBe(true);
    expect(memberWatch.failures).toEqual([]);
  });
});

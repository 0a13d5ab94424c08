import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  capacityMap,
  completeUpload,
  createBackupJob,
  getJob,
  listStorageSystems,
  loadPolicyContext,
  readBackupIntake,
  toCapacity,
  recordUpload,
  type SeededTenant,
  seedTenant,
} from '@echelon/db';
import { resolveScheme, type StorageCapacity } from '@echelon/domain';
import { gqlOk, randomData, sha256, startTestStack, type TestStack, uploadBytes } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * requestBackup writes a job with one statement: the rows it answers with must be exactly what a later read finds,
 * versions of one dataset stay numbered one by one under concurrent requests, and one idempotency key still makes
 * one job when its requests race.
 */

let env: TestStack;
let tenant: SeededTenant;
const REQUEST = 'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id version status } }';

/**
 * Capacities with `heldBytes: 0` left out: the one-statement reads say a space holds none of the data, `toCapacity`
 * without a held map says nothing, and placement reads both as 0 (`heldBytes ?? 0`).
 */
const heldOrNot = (capacities: Iterable<StorageCapacity>) =>
  [...capacities].map((system) => ({
    ...system,
    spaces: system.spaces.map(({ heldBytes, ...space }) =>
      heldBytes === undefined || heldBytes === 0 ? space : { ...space, heldBytes },
    ),
  }));

beforeAll(async () => {
  env = await startTestStack();
  tenant = await seedTenant(env.db, {
    slug: 'request-backup',
    name: 'Request backup',
    storageRoot: path.join(env.dataDir, 'storage', 'request-backup'),
    copies: 3,
    delaySeconds: 3600,
  });
});

afterAll(async () => {
  await env?.stop();
});

describe('requestBackup in one statement', () => {
  it('answers with the same job, replicas and version that reading them back gives', async () => {
    const bytes = randomData(1234);
    const uploadId = `direct-${Date.now()}`;
    await recordUpload(env.db, {
      id: uploadId,
      tenantId: tenant.tenant.id,
      identityId: tenant.adminIdentityId,
      sizeBytes: bytes.length,
      stagingPath: path.join(env.dataDir, 'unused'),
    });
    await completeUpload(env.db, uploadId, sha256(bytes));
    const upload = await env.db.upload.findUniqueOrThrow({ where: { id: uploadId } });
    const identity = await env.db.identity.findUniqueOrThrow({ where: { id: tenant.adminIdentityId } });
    const [policies, storage] = await Promise.all([
      loadPolicyContext(env.db, tenant.tenant.id),
      capacityMap(env.db, tenant.tenant.id),
    ]);
    const scheme = resolveScheme({
      requester: { identityId: identity.id, externalId: identity.externalId, groups: identity.groups },
      request: { sizeBytes: bytes.length, dataClass: null },
      assignments: policies.assignments,
      templates: policies.templates,
      storage,
    });
    const templateVersion = policies.versions.get(scheme.templateId);
    if (templateVersion === undefined) throw new Error('the seeded template has no version');
    // The policy read (one statement, JSON rows) gives what Prisma gives.
    expect(templateVersion).toEqual(
      await env.db.policyTemplateVersion.findUniqueOrThrow({ where: { id: tenant.template.id } }),
    );
    expect(heldOrNot(storage.values())).toEqual(
      heldOrNot((await listStorageSystems(env.db, tenant.tenant.id)).map((system) => toCapacity(system))),
    );
    // requestBackup's one read gives the same, and the upload as Prisma reads it.
    const intake = await readBackupIntake(env.db, { tenantId: tenant.tenant.id, identityId: identity.id }, upload.id);
    expect(intake.staged).toEqual({ upload, used: false });
    expect(heldOrNot(intake.capacities.values())).toEqual(heldOrNot(storage.values()));
    expect(intake.policies).toEqual(policies);
    const stranger = await readBackupIntake(
      env.db,
      { tenantId: tenant.tenant.id, identityId: randomUUID() },
      upload.id,
    );
    expect(stranger.staged).toBeNull();
    const stored = await env.db.policyAssignment.findMany({ where: { tenantId: tenant.tenant.id } });
    expect(policies.assignments).toEqual(stored.map(({ tenantId: _tenant, ...assignment }) => assignment));
    const { job, created } = await createBackupJob(env.db, tenant.tenant.id, {
      identityId: identity.id,
      identity,
      datasetKey: 'direct/one',
      upload,
      templateVersionId: templateVersion.id,
      templateVersion,
      scheme,
      idempotencyKey: null,
    });
    expect(created).toBe(true);
    expect(job.replicas).toHaveLength(3);
    // Every field, every type (BigInt, Date, null), as Prisma reads the rows.
    expect(job).toEqual(await getJob(env.db, tenant.tenant.id, job.id));
    const events = await env.db.replicaEvent.findMany({ where: { jobId: job.id }, orderBy: { id: 'asc' } });
    expect(events.map((event) => event.message)).toEqual([
      'planned as primary',
      'planned as secondary 1',
      'planned as secondary 2',
    ]);
    // Nothing started this job's workflow (as if its API process died right after the commit): the starter's
    // sweep finds it and starts it. Its staged file does not exist, so the workflow soon fails the job: what counts
    // is that it ran.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
      if (row.status !== 'PENDING' && row.workflowStartedAt !== null) break;
      expect(Date.now(), 'the sweep did not start the job').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });

  it('numbers the versions of one dataset 1…N when N requests for it arrive at once', async () => {
    const uploads = await Promise.all(
      Array.from({ length: 12 }, () => uploadBytes(env.apiUrl, tenant.apiKey, randomData(100))),
    );
    const answers = await Promise.all(
      uploads.map((uploadId) =>
        gqlOk<{ requestBackup: { id: string; version: number } }>(env.apiUrl, tenant.apiKey, REQUEST, {
          input: { datasetKey: 'busy/dataset', uploadId },
        }),
      ),
    );
    const versions = answers.map(({ requestBackup }) => requestBackup.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
    expect(new Set(answers.map(({ requestBackup }) => requestBackup.id)).size).toBe(12);
  });

  it('cancels a job whose workflow may not have started yet, through the workflow', async () => {
    const uploadId = await uploadBytes(env.apiUrl, tenant.apiKey, randomData(100));
    const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(env.apiUrl, tenant.apiKey, REQUEST, {
      input: { datasetKey: 'cancel/at-once', uploadId },
    });
    await gqlOk(env.apiUrl, tenant.apiKey, 'mutation($id: ID!) { cancelBackup(id: $id) { id } }', {
      id: requestBackup.id,
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const job = await env.db.backupJob.findUniqueOrThrow({
        where: { id: requestBackup.id },
        include: { replicas: true },
      });
      if (job.status === 'CANCELLED' && job.replicas.every((replica) => replica.status !== 'PLANNED')) {
        expect(job.workflowStartedAt).not.toBeNull();
        for (const replica of job.replicas) expect(['CANCELLED', 'COMPLETED']).toContain(replica.status);
        break;
      }
      expect(Date.now(), `job ${job.status}, replicas ${job.replicas.map((r) => r.status)}`).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('makes one job for one idempotency key, also when its requests race', async () => {
    const uploadId = await uploadBytes(env.apiUrl, tenant.apiKey, randomData(100));
    const idempotencyKey = `race-${Date.now()}`;
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        gqlOk<{ requestBackup: { id: string } }>(env.apiUrl, tenant.apiKey, REQUEST, {
          input: { datasetKey: 'race/dataset', uploadId, idempotencyKey },
        }),
      ),
    );
    expect(new Set(answers.map(({ requestBackup }) => requestBackup.id)).size).toBe(1);
    expect(await env.db.backupJob.count({ where: { tenantId: tenant.tenant.id, idempotencyKey } })).toBe(1);
  });
});

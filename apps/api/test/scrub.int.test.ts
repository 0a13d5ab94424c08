import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type SeededTenant, seedTenant } from '@echelon/db';
import {
  gql,
  gqlOk,
  gqlUntil,
  insertJobRows,
  randomData,
  restoreAndWait,
  startTestStack,
  type TestStack,
} from '@echelon/stack';
import { type ScrubPassResult, scrubWorkflowIdFor } from '@echelon/temporal';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageChunkedUpload } from './chunked-upload.js';
import { poll } from './process-support.js';

const MIB = 1024 * 1024;
/** Slow enough that a pass of a few MiB takes seconds (so its rate can be measured), fast enough for a test. */
const SCRUB_RATE = 4 * MIB;
const SCRUB_INTERVAL_SECONDS = 3;
const DATASET = 'scrub/data';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('scrub and self-repair (real stack: embedded PostgreSQL, Temporal dev server, worker, API, FILESYSTEM)', () => {
  let env: TestStack;
  let temporal: Client;
  let connection: Connection;
  let counter = 0;

  beforeAll(async () => {
    env = await startTestStack({
      env: {
        ECHELON_SCRUB_BYTES_PER_SECOND: String(SCRUB_RATE),
        ECHELON_SCRUB_INTERVAL_SECONDS: String(SCRUB_INTERVAL_SECONDS),
      },
    });
    connection = await Connection.connect({ address: env.stack.temporalAddress });
    temporal = new Client({ connection, namespace: env.stack.config.temporalNamespace });
  }, 240_000);

  afterAll(async () => {
    await connection?.close();
    await env?.stop();
  }, 60_000);

  /** A tenant of its own with three FILESYSTEM systems, a 6 MiB object backed up to all three. */
  async function backedUpTenant(name: string) {
    const slug = `scrub-${name}-${Date.now()}-${counter++}`;
    const seeded = await seedTenant(env.db, {
      slug,
      name,
      storageRoot: path.join(env.dataDir, `storage-${slug}`),
      storage: ['one', 'two', 'three'].map((system) => ({
        name: system,
        spaces: [{ name: 'main', capacityBytes: 256 * MIB }],
      })),
      copies: 3,
      delaySeconds: 0,
    });
    const bytes = randomData(6 * MIB + 11);
    const intakeSpaceId = seeded.storageSystems[0]?.spaces[0]?.id as string;
    const upload = await stageChunkedUpload(env.db, seeded, {
      intakeSpaceId,
      kind: 'object',
      files: [{ path: 'data', bytes }],
    });
    const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
      { input: { datasetKey: DATASET, uploadId: upload.uploadId } },
    );
    await gqlUntil<{ backupJob: { status: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'query($id: ID!) { backupJob(id: $id) { status } }',
      { id: requestBackup.id },
      ({ backupJob }) => backupJob.status === 'COMPLETED',
      { what: 'the backup completing', timeoutMs: 120_000 },
    );
    const replicas = await env.db.replica.findMany({ where: { jobId: requestBackup.id }, orderBy: { order: 'asc' } });
    // The version's chunks in stream order, each once.
    const chunks = [...new Set(upload.chunks.map((chunk) => chunk.hash))];
    return { seeded, bytes, jobId: requestBackup.id, replicas, chunks };
  }

  const chunkFileOf = (seeded: SeededTenant, spaceId: string | null, hash: string) => {
    const system = seeded.storageSystems.find((candidate) => candidate.spaces.some((space) => space.id === spaceId));
    const space = system?.spaces.find((candidate) => candidate.id === spaceId);
    if (system === undefined || space === undefined) throw new Error(`no space ${spaceId}`);
    const root = (system.config as { root: string }).root;
    return path.join(root, space.name, 'tenants', seeded.tenant.id, 'chunks', hash.slice(0, 2), hash);
  };
  const corrupt = async (file: string) => {
    const bytes = await readFile(file);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
  };
  const eventsOf = (replicaId: string) =>
    env.db.replicaEvent.findMany({ where: { replicaId }, orderBy: { id: 'asc' } });
  const replicaOf = (replicaId: string) => env.db.replica.findUniqueOrThrow({ where: { id: replicaId } });
  const isIndexed = async (spaceId: string | null, hash: string) =>
    (await env.db.storedChunk.count({ where: { spaceId: spaceId ?? undefined, hash } })) === 1;
  const verify = (apiKey: string, id: string) =>
    gql<{ verifyReplica: { id: string; status: string; lastError: string | null } }>(
      env.apiUrl,
      apiKey,
      'mutation($id: ID!) { verifyReplica(id: $id) { id status lastError } }',
      { id },
    );
  /** The newest finished pass of a storage system's scrub. */
  const lastPassOf = async (seeded: SeededTenant, systemName: string): Promise<ScrubPassResult | undefined> => {
    const system = seeded.storageSystems.find((candidate) => candidate.name === systemName);
    if (system === undefined) throw new Error(`no system ${systemName}`);
    const handle = temporal.workflow.getHandle(scrubWorkflowIdFor(seeded.tenant.id, system.id));
    const described = await handle.describe();
    if (described.status.name !== 'COMPLETED') return undefined;
    return (await handle.result()) as ScrubPassResult;
  };

  it('marks a copy with a corrupt and a missing chunk DEGRADED and repairs it; a restore before the repair is right', async () => {
    const { seeded, bytes, jobId, chunks } = await backedUpTenant('repair');
    const restoreId = await restoreAndWait(env.apiUrl, seeded.apiKey, DATASET);
    const restore = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    const damaged = await replicaOf(restore.fromReplicaId as string);
    // The first two chunks of the copy the download reads first: one flipped byte, one file gone.
    const [corrupted, deleted] = chunks as [string, string];
    const corruptFile = chunkFileOf(seeded, damaged.spaceId, corrupted);
    const deletedFile = chunkFileOf(seeded, damaged.spaceId, deleted);
    await corrupt(corruptFile);
    await rm(deletedFile);

    const downloadStartedAt = new Date();
    const response = await fetch(`${env.apiUrl}/restores/${restoreId}/content`, {
      headers: { authorization: `Bearer ${seeded.apiKey}` },
    });
    expect(response.status).toBe(200);
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(bytes));

    const repaired = await poll('the damaged copy repaired', async () => {
      const events = await eventsOf(damaged.id);
      return events.find((event) => event.status === 'COMPLETED' && event.message?.startsWith('repaired')) ?? undefined;
    });
    // The restore ran before the repair, against the damaged copy.
    expect(repaired.at.getTime()).toBeGreaterThan(downloadStartedAt.getTime());
    expect(repaired.message).toMatch(/^repaired 2 chunks from (one|two|three)\/main/);

    const events = await eventsOf(damaged.id);
    const degraded = events.filter((event) => event.status === 'DEGRADED');
    expect(degraded.length).toBeGreaterThan(0);
    expect(degraded.every((event) => event.id < repaired.id)).toBe(true);
    expect(degraded.some((event) => event.message?.includes(corrupted) || event.message?.includes(deleted))).toBe(true);
    // Each bad chunk is named in the copy's history before the repair (by the scrub, or by the restore reading it).
    for (const hash of [corrupted, deleted]) {
      expect(events.some((event) => event.id < repaired.id && event.message?.includes(hash))).toBe(true);
    }

    // The files are right again, and the index counts them there again.
    expect(sha256(await readFile(corruptFile))).toBe(corrupted);
    expect(sha256(await readFile(deletedFile))).toBe(deleted);
    expect(await isIndexed(damaged.spaceId, corrupted)).toBe(true);
    expect(await isIndexed(damaged.spaceId, deleted)).toBe(true);
    expect(await replicaOf(damaged.id)).toMatchObject({ status: 'COMPLETED', lastError: null });

    // The history view and the audit log show both moves.
    const { replicaHistory } = await gqlOk<{
      replicaHistory: { edges: { node: { status: string; message: string | null; replica: { id: string } } }[] };
    }>(
      env.apiUrl,
      seeded.apiKey,
      'query($filter: ReplicaHistoryFilter) { replicaHistory(filter: $filter, first: 500) { edges { node { status message replica { id } } } } }',
      { filter: { jobId } },
    );
    const mine = replicaHistory.edges.map((edge) => edge.node).filter((node) => node.replica.id === damaged.id);
    const firstDegraded = mine.findIndex((node) => node.status === 'DEGRADED');
    const repairedAt = mine.findIndex((node) => node.status === 'COMPLETED' && node.message?.startsWith('repaired'));
    expect(firstDegraded).toBeGreaterThan(-1);
    expect(repairedAt).toBeGreaterThan(firstDegraded);
    const audit = await env.db.auditEntry.findMany({
      where: { tenantId: seeded.tenant.id, objectId: damaged.id },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((entry) => entry.action)).toContain('replica.degrade');
    expect(audit.at(-1)).toMatchObject({ action: 'replica.repair', actor: 'scrub', objectType: 'replica' });
    const report = await gqlOk<{ verifyAuditChain: { ok: boolean } }>(
      env.apiUrl,
      seeded.apiKey,
      '{ verifyAuditChain { ok } }',
    );
    expect(report.verifyAuditChain.ok).toBe(true);
  }, 240_000);

  it('verifyReplica: a damaged copy comes back DEGRADED (then repaired), a healthy one unchanged, others refused', async () => {
    const { seeded, replicas, chunks } = await backedUpTenant('verify');
    const [primary, healthy, damaged] = replicas as [(typeof replicas)[0], (typeof replicas)[0], (typeof replicas)[0]];

    const before = (await eventsOf(healthy.id)).length;
    const checkedHealthy = await verify(seeded.apiKey, healthy.id);
    expect(checkedHealthy.errors).toBeUndefined();
    expect(checkedHealthy.data?.verifyReplica).toEqual({ id: healthy.id, status: 'COMPLETED', lastError: null });
    expect((await eventsOf(healthy.id)).length).toBe(before);

    // The first chunk the check reads, so the scheduled scrub cannot repair it first.
    const victim = chunks[0] as string;
    const file = chunkFileOf(seeded, damaged.spaceId, victim);
    await corrupt(file);
    const checkedDamaged = await verify(seeded.apiKey, damaged.id);
    expect(checkedDamaged.errors).toBeUndefined();
    expect(checkedDamaged.data?.verifyReplica.status).toBe('DEGRADED');
    expect(checkedDamaged.data?.verifyReplica.lastError).toContain(victim);
    await poll('the verified copy repaired', async () => {
      const replica = await replicaOf(damaged.id);
      return replica.status === 'COMPLETED' ? replica : undefined;
    });
    expect(sha256(await readFile(file))).toBe(victim);
    const events = await eventsOf(damaged.id);
    const degradedAt = events.findIndex((event) => event.status === 'DEGRADED' && event.message?.includes(victim));
    const repairedAt = events.findIndex(
      (event) => event.status === 'COMPLETED' && event.message?.startsWith('repaired'),
    );
    expect(degradedAt).toBeGreaterThan(-1);
    expect(repairedAt).toBeGreaterThan(degradedAt);

    // Another tenant's replica does not exist for this one; a MEMBER may not verify; a malformed id is bad input.
    const other = await seedTenant(env.db, {
      slug: `scrub-other-${Date.now()}-${counter++}`,
      name: 'Another tenant',
      storageRoot: path.join(env.dataDir, `storage-other-${counter}`),
      storage: [{ name: 'one', spaces: [{ name: 'main', capacityBytes: 64 * MIB }] }],
      copies: 1,
      delaySeconds: 0,
    });
    expect((await verify(other.apiKey, primary.id)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await replicaOf(primary.id)).toMatchObject({ status: 'COMPLETED' });
    const { createIdentity: member } = await gqlOk<{ createIdentity: { id: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
      { input: { externalId: 'member', displayName: 'Member', roles: ['MEMBER'] } },
    );
    const { createApiKey: memberKey } = await gqlOk<{ createApiKey: { secret: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
      { input: { identityId: member.id, name: 'member key' } },
    );
    expect((await verify(memberKey.secret, primary.id)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // A malformed id can match nothing (NOT_FOUND, as for another tenant's); a copy not committed is a CONFLICT.
    expect((await verify(seeded.apiKey, 'not-a-replica')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const planned = await insertJobRows(env.db, seeded, {
      datasetKey: 'scrub/planned',
      sizeBytes: 10,
      jobStatus: 'RUNNING',
      storageSystemId: seeded.storageSystems[0]?.id as string,
      replicas: { count: 1, firstOrder: 0, role: 'PRIMARY', status: 'PLANNED' },
    });
    const refused = await verify(seeded.apiKey, planned.replicaIds[0] as string);
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(refused.errors?.[0]?.message).toMatch(/is PLANNED; only a COMPLETED or DEGRADED copy can be verified/);
  }, 300_000);

  it('a chunk lost on every copy leaves every copy DEGRADED, naming it, and the scrub carries on', async () => {
    const { seeded, replicas, chunks } = await backedUpTenant('lost');
    const victim = chunks[2] as string;
    for (const replica of replicas) await rm(chunkFileOf(seeded, replica.spaceId, victim));

    for (const replica of replicas) {
      await poll(`copy #${replica.order} DEGRADED with the lost chunk named`, async () => {
        const row = await replicaOf(replica.id);
        return row.status === 'DEGRADED' && row.lastError?.includes(`lost`) && row.lastError.includes(victim)
          ? row
          : undefined;
      });
    }
    // Passes go on (each one completes, finding the loss again) and write no new history for the same loss.
    const settled = await Promise.all(replicas.map(async (replica) => (await eventsOf(replica.id)).length));
    const passesBefore = await lastPassOf(seeded, 'one');
    await poll('another pass of system one', async () => {
      const pass = await lastPassOf(seeded, 'one');
      return pass !== undefined && JSON.stringify(pass) !== JSON.stringify(passesBefore) ? pass : undefined;
    });
    const again = await poll('a pass that found the loss again', async () => {
      const pass = await lastPassOf(seeded, 'one');
      return pass !== undefined && pass.unrepaired > 0 ? pass : undefined;
    });
    expect(again.repaired).toBe(0);
    for (const [index, replica] of replicas.entries()) {
      const row = await replicaOf(replica.id);
      expect(row.status).toBe('DEGRADED');
      expect(row.lastError).toContain(victim);
      expect((await eventsOf(replica.id)).length).toBe(settled[index]);
    }
    // A DEGRADED copy is not a verified one: the dataset is not compliant.
    const { datasetCompliance } = await gqlOk<{ datasetCompliance: { copiesAchieved: number; isCompliant: boolean } }>(
      env.apiUrl,
      seeded.apiKey,
      'query($key: String!) { datasetCompliance(datasetKey: $key) { copiesAchieved isCompliant } }',
      { key: DATASET },
    );
    expect(datasetCompliance).toEqual({ copiesAchieved: 0, isCompliant: false });
  }, 240_000);

  it('reads no faster than ECHELON_SCRUB_BYTES_PER_SECOND per storage system', async () => {
    const { seeded } = await backedUpTenant('rate');
    // System one holds the intake's chunks and the primary's: a pass reads all of them, paced.
    const pass = await poll('a full pass of system one', async () => {
      const found = await lastPassOf(seeded, 'one');
      return found !== undefined && found.bytes >= 6 * MIB ? found : undefined;
    });
    const rate = (pass.bytes / pass.elapsedMs) * 1000;
    expect(pass.chunks).toBeGreaterThan(3);
    expect(rate).toBeLessThanOrEqual(SCRUB_RATE * 1.1);
    expect(rate).toBeGreaterThan(SCRUB_RATE * 0.5);
  }, 240_000);
});

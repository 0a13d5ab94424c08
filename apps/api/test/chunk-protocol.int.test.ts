import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { type SeededTenant, seedTenant, uploadContentsOf } from '@echelon/db';
import { gql, gqlOk, gqlUntil, randomData, restoreAndWait, startTestStack, type TestStack } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, chunkDirOf, chunkFiles, chunksOf, MIB, primarySpaceOf, readChunk, sha256 } from './intake-helpers.js';

/** Pseudo-random bytes from a seed (AES-256-CTR of zeros): incompressible, and the same on every run. */
const seeded = (length: number, seed: string): Buffer =>
  createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(
    Buffer.alloc(length),
  );

/**
 * The chunk protocol of clients that chunk locally: ask which chunks the tenant lacks, PUT those, then request a
 * backup with a manifest. Chunks are per tenant; bad bytes, absent chunks and bad manifests change nothing.
 */

let env: TestStack;
let first: SeededTenant;
let second: SeededTenant;

const MISSING = 'query($hashes: [String!]!) { missingChunks(hashes: $hashes) }';
const REQUEST = 'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }';

const seed = (slug: string) =>
  seedTenant(env.db, {
    slug: `${slug}-${Date.now()}`,
    name: slug,
    storageRoot: path.join(env.dataDir, slug),
    storage: [{ name: 'primary', spaces: [{ name: 'main', capacityBytes: 4 * 1024 * MIB }] }],
    copies: 1,
    delaySeconds: 0,
  });

async function missing(tenant: SeededTenant, hashes: string[]): Promise<string[]> {
  return (await gqlOk<{ missingChunks: string[] }>(env.apiUrl, tenant.apiKey, MISSING, { hashes })).missingChunks;
}

async function putChunk(tenant: SeededTenant, hash: string, bytes: Buffer) {
  const response = await fetch(`${env.apiUrl}/chunks/${hash}`, {
    method: 'PUT',
    headers: { ...auth(tenant.apiKey), 'content-type': 'application/octet-stream' },
    body: new Uint8Array(bytes),
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
}

/** Sends what the tenant lacks of `bytes`' chunks; returns the chunks sent. */
async function sendMissing(tenant: SeededTenant, chunks: { hash: string; bytes: Buffer }[]) {
  const lacking = new Set(
    await missing(
      tenant,
      chunks.map((chunk) => chunk.hash),
    ),
  );
  const sent: { hash: string; length: number }[] = [];
  for (const chunk of chunks) {
    if (!lacking.has(chunk.hash)) continue;
    lacking.delete(chunk.hash);
    expect((await putChunk(tenant, chunk.hash, chunk.bytes)).status).toBe(201);
    sent.push({ hash: chunk.hash, length: chunk.bytes.length });
  }
  return sent;
}

const objectManifest = (bytes: Buffer, chunks: { hash: string; length: number }[], filePath = 'disk.img') => ({
  kind: 'OBJECT',
  entries: [
    {
      path: filePath,
      mode: '0600',
      mtime: '2026-01-02T03:04:05.000Z',
      size: bytes.length,
      sha256: sha256(bytes),
      chunks: chunks.map(({ hash, length }) => ({ hash, length })),
    },
  ],
});

/** What a refused request must not have changed. */
const footprint = async (tenant: SeededTenant) => ({
  uploads: await env.db.upload.count({ where: { tenantId: tenant.tenant.id } }),
  uploadChunks: await env.db.uploadChunk.count({ where: { tenantId: tenant.tenant.id } }),
  datasets: await env.db.dataset.count({ where: { tenantId: tenant.tenant.id } }),
  jobs: await env.db.backupJob.count({ where: { tenantId: tenant.tenant.id } }),
  storedChunks: await env.db.storedChunk.count({ where: { tenantId: tenant.tenant.id } }),
});

beforeAll(async () => {
  env = await startTestStack();
  first = await seed('chunks-a');
  second = await seed('chunks-b');
}, 300_000);

afterAll(async () => {
  await env?.stop();
}, 60_000);

describe('the chunk protocol', () => {
  it('answers missing, stores what is PUT in the intake space, then answers nothing missing; PUT again is harmless', async () => {
    const chunks = await chunksOf(randomData(3 * MIB));
    const hashes = chunks.map((chunk) => chunk.hash);
    expect(await missing(first, hashes)).toEqual(hashes);
    for (const chunk of chunks) expect((await putChunk(first, chunk.hash, chunk.bytes)).status).toBe(201);
    expect(await missing(first, hashes)).toEqual([]);

    const dir = await chunkDirOf(env.db, first.tenant.id, primarySpaceOf(first));
    for (const chunk of chunks) expect((await readChunk(dir, chunk.hash)).equals(chunk.bytes)).toBe(true);
    const rows = await env.db.storedChunk.count({ where: { tenantId: first.tenant.id, hash: { in: hashes } } });
    expect(rows).toBe(chunks.length);
    // Idempotent: 200, nothing written or recorded twice.
    const [again] = chunks;
    expect((await putChunk(first, again?.hash ?? '', again?.bytes ?? Buffer.alloc(0))).status).toBe(200);
    expect(await env.db.storedChunk.count({ where: { tenantId: first.tenant.id, hash: { in: hashes } } })).toBe(rows);
  });

  it("answers another tenant's chunk as missing, and stores a separate copy when that tenant sends it", async () => {
    const [chunk] = await chunksOf(randomData(300 * 1024));
    if (chunk === undefined) throw new Error('no chunk');
    expect((await putChunk(first, chunk.hash, chunk.bytes)).status).toBe(201);
    expect(await missing(first, [chunk.hash])).toEqual([]);
    expect(await missing(second, [chunk.hash])).toEqual([chunk.hash]);
    expect((await putChunk(second, chunk.hash, chunk.bytes)).status).toBe(201);
    expect(await missing(second, [chunk.hash])).toEqual([]);
    const firstDir = await chunkDirOf(env.db, first.tenant.id, primarySpaceOf(first));
    const secondDir = await chunkDirOf(env.db, second.tenant.id, primarySpaceOf(second));
    expect(firstDir).not.toBe(secondDir);
    expect((await readChunk(secondDir, chunk.hash)).equals(chunk.bytes)).toBe(true);
    expect((await readChunk(firstDir, chunk.hash)).equals(chunk.bytes)).toBe(true);
  });

  it('refuses bytes that do not hash to their id with BAD_USER_INPUT, storing nothing', async () => {
    const bytes = randomData(64 * 1024);
    const claimed = sha256(randomBytes(32));
    const before = await footprint(first);
    const refused = await putChunk(first, claimed, bytes);
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('BAD_USER_INPUT');
    expect(refused.body.error?.message).toContain(sha256(bytes));
    const dir = await chunkDirOf(env.db, first.tenant.id, primarySpaceOf(first));
    expect((await chunkFiles(dir)).has(claimed)).toBe(false);
    expect(await footprint(first)).toEqual(before);
    // A body over 4 MiB and a malformed id are refused the same way.
    const large = await putChunk(first, sha256(randomData(16)), randomData(4 * MIB + 1));
    expect([large.status, large.body.error?.code]).toEqual([413, 'BAD_USER_INPUT']);
    const malformed = await putChunk(first, 'not-a-hash', bytes);
    expect([malformed.status, malformed.body.error?.code]).toEqual([400, 'BAD_USER_INPUT']);
    expect(await footprint(first)).toEqual(before);
  });

  it('caps missingChunks at 10,000 hashes and counts each in the request budget', async () => {
    const tooMany = Array.from({ length: 10_001 }, () => sha256(randomBytes(8)));
    const capped = await gql(env.apiUrl, first.apiKey, MISSING, { hashes: tooMany });
    expect(capped.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(capped.errors?.[0]?.message).toContain('at most 10000');
    // 25,000 short strings fit in a body but not in the budget of 20,000: refused before anything runs.
    const overBudget = await gql(env.apiUrl, first.apiKey, MISSING, { hashes: Array(25_000).fill('x') });
    expect(overBudget.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'cost' });
    expect((await gql(env.apiUrl, first.apiKey, MISSING, { hashes: ['x'] })).errors?.[0]?.message).toContain(
      'not a chunk id',
    );
  });

  it('backs up a manifest whose chunks are stored, as a complete chunked upload', async () => {
    const bytes = randomData(5 * MIB);
    const chunks = await chunksOf(bytes);
    await sendMissing(first, chunks);
    const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(env.apiUrl, first.apiKey, REQUEST, {
      input: { datasetKey: 'manifest/object', manifest: objectManifest(bytes, chunks) },
    });
    const job = await env.db.backupJob.findUniqueOrThrow({
      where: { id: requestBackup.id },
      include: { datasetVersion: { include: { upload: true } } },
    });
    const upload = job.datasetVersion.upload;
    expect(upload?.sha256).toBe(sha256(bytes));
    expect(upload?.completedAt).not.toBeNull();
    expect(upload?.intakeSpaceId).toBe(primarySpaceOf(first));
    expect(upload && uploadContentsOf(upload)?.entries[0]?.chunks).toEqual(chunks.map((c) => [c.hash, c.length]));
    expect(await env.db.uploadChunk.count({ where: { uploadId: upload?.id ?? '' } })).toBe(chunks.length);
    // The worker copies it from the intake space like a tus upload; it restores bit-exact.
    await gqlUntil<{ backupJob: { status: string } }>(
      env.apiUrl,
      first.apiKey,
      'query($id: ID!) { backupJob(id: $id) { status } }',
      { id: requestBackup.id },
      ({ backupJob }) => backupJob.status === 'COMPLETED',
      { what: `backup ${requestBackup.id} completing` },
    );
    const restoreId = await restoreAndWait(env.apiUrl, first.apiKey, 'manifest/object');
    const content = await fetch(`${env.apiUrl}/restores/${restoreId}/content`, { headers: auth(first.apiKey) });
    expect(sha256(Buffer.from(await content.arrayBuffer()))).toBe(sha256(bytes));
  });

  it('refuses a manifest naming an absent chunk, or a bad one, with BAD_USER_INPUT and changes nothing', async () => {
    const bytes = randomData(2 * MIB);
    const chunks = await chunksOf(bytes);
    const [kept, ...rest] = chunks;
    if (kept === undefined || rest.length === 0) throw new Error('expected several chunks');
    // Only the first chunk is sent: the second is named as the first missing one.
    await sendMissing(first, [kept]);
    const before = await footprint(first);
    const refuse = async (manifest: unknown, expected: string) => {
      const { errors } = await gql(env.apiUrl, first.apiKey, REQUEST, {
        input: { datasetKey: 'manifest/refused', manifest },
      });
      expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(errors?.[0]?.message).toContain(expected);
      expect(await footprint(first)).toEqual(before);
    };
    await refuse(objectManifest(bytes, chunks), rest[0]?.hash ?? '');

    await sendMissing(first, chunks);
    const stored = await footprint(first);
    before.storedChunks = stored.storedChunks;
    await refuse(objectManifest(bytes, chunks, '../escape'), '".." segment');
    await refuse(objectManifest(bytes, chunks, '/etc/passwd'), 'is absolute');
    await refuse(objectManifest(bytes, chunks, 'nul\u0000byte'), 'control character');
    // An entry's size must be its chunks' lengths; an entry of one chunk hashes to that chunk.
    const wrongSize = objectManifest(bytes, chunks);
    (wrongSize.entries[0] as { size: number }).size += 1;
    await refuse(wrongSize, 'add up to');
    const [single] = chunks;
    const oneChunk = objectManifest(single?.bytes ?? Buffer.alloc(0), [single ?? { hash: '', length: 0 }]);
    (oneChunk.entries[0] as { sha256: string }).sha256 = sha256(randomBytes(4));
    await refuse(oneChunk, 'that chunk');
    // A stored chunk with another length than the manifest gives it.
    const lying = objectManifest(bytes, chunks);
    const refs = (lying.entries[0] as { chunks: { hash: string; length: number }[] }).chunks;
    const [a, b] = refs;
    if (a && b) {
      a.length -= 1;
      b.length += 1;
    }
    await refuse(lying, 'the manifest says');
    // A manifest larger than a request body (1 MiB) is refused before anything runs.
    const huge = {
      kind: 'TREE',
      entries: Array.from({ length: 12_000 }, (_, index) => ({
        path: `f/${index}`,
        mode: '0644',
        mtime: '2026-01-02T03:04:05.000Z',
        size: 0,
        sha256: sha256(Buffer.alloc(0)),
        chunks: [],
      })),
    };
    const response = await fetch(`${env.apiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(first.apiKey) },
      body: JSON.stringify({ query: REQUEST, variables: { input: { datasetKey: 'manifest/huge', manifest: huge } } }),
    });
    const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await footprint(first)).toEqual(before);
  });

  it('re-backs up a 64 MiB file after a 1 % change by sending a few % of its bytes', async () => {
    // Seeded, not random: the bound below is the chunker's on this data, and the same every run.
    const original = seeded(64 * MIB, 'dedup-original');
    const sentFirst = await sendMissing(first, await chunksOf(original));
    expect(sentFirst.reduce((sum, chunk) => sum + chunk.length, 0)).toBe(original.length);
    await gqlOk(env.apiUrl, first.apiKey, REQUEST, {
      input: { datasetKey: 'dedup/disk', manifest: objectManifest(original, await chunksOf(original)) },
    });

    const changed = Buffer.from(original);
    seeded(Math.round(changed.length / 100), 'dedup-edit').copy(changed, 30 * MIB);
    const changedChunks = await chunksOf(changed);
    const sent = await sendMissing(first, changedChunks);
    const sentBytes = sent.reduce((sum, chunk) => sum + chunk.length, 0);
    const share = sentBytes / changed.length;
    console.log(
      `1 % change of 64 MiB: ${sent.length} of ${changedChunks.length} chunks sent, ${sentBytes} bytes (${(share * 100).toFixed(1)} %)`,
    );
    // The edit (0.6 of an average chunk) touches one or two chunks, and the chunker finds the old boundaries again
    // within a chunk or two after it: at most 5 of about 55 chunks.
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThanOrEqual(5);
    expect(share).toBeLessThan(0.03);
    const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(env.apiUrl, first.apiKey, REQUEST, {
      input: { datasetKey: 'dedup/disk', manifest: objectManifest(changed, changedChunks) },
    });
    const job = await env.db.backupJob.findUniqueOrThrow({
      where: { id: requestBackup.id },
      include: { datasetVersion: true },
    });
    expect(job.datasetVersion.number).toBe(2);
    expect(job.datasetVersion.sha256).toBe(sha256(changed));
  });
});

import http from 'node:http';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { type SeededTenant, seedTenant, uploadContentsOf } from '@echelon/db';
import {
  backUpAndWait,
  freePort,
  httpOk,
  randomData,
  restoreAndWait,
  startTestStack,
  startTsProcess,
  type TestStack,
  uploadBytes,
  waitFor,
} from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, chunkDirOf, chunksOf, MIB, primarySpaceOf, readChunk, sha256, TUS } from './intake-helpers.js';

/**
 * Streaming tus intake: the bytes of an upload go through the chunker into the tenant's intake space as they
 * arrive; nothing is staged on the API host; an upload's offset lives in PostgreSQL, so a cut-off PATCH resumes
 * from its last recorded chunk, on this API process or another one.
 */

let env: TestStack;
let tenant: SeededTenant;
let secondUrl: string;
let stopSecond: () => Promise<void>;
const secondLog: string[] = [];

async function createUpload(url: string, length: number, metadata = ''): Promise<string> {
  const response = await fetch(`${url}/uploads`, {
    method: 'POST',
    headers: {
      ...TUS,
      ...auth(tenant.apiKey),
      'upload-length': String(length),
      ...(metadata ? { 'upload-metadata': metadata } : {}),
    },
  });
  expect(response.status).toBe(201);
  return (response.headers.get('location') ?? '').split('/').pop() ?? '';
}

async function patch(url: string, uploadId: string, offset: number, body: Buffer): Promise<Response> {
  const response = await fetch(`${url}/uploads/${uploadId}`, {
    method: 'PATCH',
    headers: {
      ...TUS,
      ...auth(tenant.apiKey),
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
    },
    body: new Uint8Array(body),
  });
  await response.arrayBuffer();
  return response;
}

async function headOffset(url: string, uploadId: string): Promise<number> {
  const response = await fetch(`${url}/uploads/${uploadId}`, {
    method: 'HEAD',
    headers: { ...TUS, ...auth(tenant.apiKey) },
  });
  expect(response.status).toBe(200);
  return Number(response.headers.get('upload-offset'));
}

/** A PATCH that announces `announced` bytes, sends `sent` and is cut off (the connection dropped). */
function cutOffPatch(url: string, uploadId: string, offset: number, announced: number, sent: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const request = http.request(`${url}/uploads/${uploadId}`, {
      method: 'PATCH',
      headers: {
        ...TUS,
        ...auth(tenant.apiKey),
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
        'content-length': String(announced),
      },
    });
    request.on('error', () => resolve());
    request.on('response', (response) => {
      response.resume();
      resolve();
    });
    request.write(sent, () =>
      setTimeout(() => {
        request.destroy();
        resolve();
      }, 1_000),
    );
  });
}

/** The ends of the content-defined chunks of `bytes`: the only offsets a resume may start from. */
async function chunkEnds(bytes: Buffer): Promise<number[]> {
  let end = 0;
  return (await chunksOf(bytes)).map((chunk) => {
    end += chunk.length;
    return end;
  });
}

const recordedChunks = (uploadId: string) =>
  env.db.uploadChunk.findMany({ where: { uploadId }, orderBy: { seq: 'asc' }, select: { hash: true, length: true } });

beforeAll(async () => {
  env = await startTestStack();
  tenant = await seedTenant(env.db, {
    slug: `intake-${Date.now()}`,
    name: 'Intake',
    storageRoot: path.join(env.dataDir, 'intake'),
    storage: [{ name: 'primary', spaces: [{ name: 'main', capacityBytes: 4 * 1024 * MIB }] }],
    copies: 1,
    delaySeconds: 0,
  });
  const port = await freePort();
  const second = startTsProcess('api-2', 'apps/api/src/main.ts', {
    env: { ...env.stack.childEnv, ECHELON_API_PORT: String(port) },
    log: (line) => secondLog.push(line),
  });
  stopSecond = () => second.stop();
  secondUrl = `http://127.0.0.1:${port}`;
  await waitFor('the second API', httpOk(`${secondUrl}/health`), { timeoutMs: 120_000, exited: second.exited });
}, 300_000);

afterAll(async () => {
  await stopSecond?.();
  await env?.stop();
}, 60_000);

describe('streaming tus intake', () => {
  it('lands a 20 MiB upload sent in several PATCHes as chunks in the intake space, with nothing staged', async () => {
    const bytes = randomData(20 * MIB + 12345);
    const uploadId = await uploadBytes(env.apiUrl, tenant.apiKey, bytes, 5 * MIB);

    const upload = await env.db.upload.findUniqueOrThrow({ where: { id: uploadId } });
    expect(upload.stagingPath).toBeNull();
    expect(upload.intakeSpaceId).toBe(primarySpaceOf(tenant));
    expect(upload.completedAt).not.toBeNull();
    expect(upload.sha256).toBe(sha256(bytes));
    expect(Number(upload.sizeBytes)).toBe(bytes.length);

    // The same boundaries as chunking the whole file at once: PATCH boundaries do not move them.
    const expected = (await chunksOf(bytes)).map(({ hash, length }) => ({ hash, length }));
    expect(expected.length).toBeGreaterThan(10);
    expect(await recordedChunks(uploadId)).toEqual(expected);
    const contents = uploadContentsOf(upload);
    expect(contents?.kind).toBe('object');
    expect(contents?.entries).toHaveLength(1);
    const [entry] = contents?.entries ?? [];
    expect(entry).toMatchObject({ path: 'data.bin', mode: '0644', size: bytes.length, sha256: sha256(bytes) });
    expect(entry?.chunks).toEqual(expected.map(({ hash, length }) => [hash, length]));

    // Every chunk is a file in the tenant's intake space, indexed there, and together they are the upload.
    const dir = await chunkDirOf(env.db, tenant.tenant.id, upload.intakeSpaceId as string);
    const pieces = await Promise.all(expected.map((chunk) => readChunk(dir, chunk.hash)));
    expect(Buffer.concat(pieces).equals(bytes)).toBe(true);
    const indexed = await env.db.storedChunk.count({
      where: { spaceId: upload.intakeSpaceId as string, hash: { in: expected.map((chunk) => chunk.hash) } },
    });
    expect(indexed).toBe(new Set(expected.map((chunk) => chunk.hash)).size);
    // Nothing of it on the API host's disk.
    const staged = await readdir(env.stack.config.stagingDir).catch(() => [] as string[]);
    expect(staged.filter((file) => file.startsWith(uploadId))).toEqual([]);
  });

  it('answers HEAD with the end of the last recorded chunk after a cut-off PATCH, and resumes from there', async () => {
    const bytes = randomData(20 * MIB);
    const uploadId = await createUpload(env.apiUrl, bytes.length);
    await cutOffPatch(env.apiUrl, uploadId, 0, bytes.length, bytes.subarray(0, 9 * MIB));

    const offset = await headOffset(env.apiUrl, uploadId);
    const ends = await chunkEnds(bytes);
    // A chunk end, short of what was sent: only the unfinished tail was lost.
    expect(ends).toContain(offset);
    expect(offset).toBeGreaterThan(4 * MIB);
    expect(offset).toBeLessThanOrEqual(9 * MIB);
    const recorded = await recordedChunks(uploadId);
    expect(recorded.reduce((sum, chunk) => sum + chunk.length, 0)).toBe(offset);
    // The second process reads the same offset from PostgreSQL.
    expect(await headOffset(secondUrl, uploadId)).toBe(offset);

    const resumed = await patch(env.apiUrl, uploadId, offset, bytes.subarray(offset));
    expect(resumed.status).toBe(204);
    expect(resumed.headers.get('upload-offset')).toBe(String(bytes.length));
    const upload = await env.db.upload.findUniqueOrThrow({ where: { id: uploadId } });
    expect(upload.completedAt).not.toBeNull();
    expect(upload.sha256).toBe(sha256(bytes));
    expect((await recordedChunks(uploadId)).map((chunk) => chunk.hash)).toEqual(
      (await chunksOf(bytes)).map((chunk) => chunk.hash),
    );
  });

  it('resumes through a second API process, which rebuilds the sha256 from the stored chunks', async () => {
    const bytes = randomData(12 * MIB + 777);
    const uploadId = await createUpload(
      env.apiUrl,
      bytes.length,
      `filename ${Buffer.from('../etc/passwd').toString('base64')}`,
    );
    // A PATCH that ends normally: this process keeps the tail and answers with every byte it received.
    const first = await patch(env.apiUrl, uploadId, 0, bytes.subarray(0, 8 * MIB));
    expect(first.status).toBe(204);
    expect(first.headers.get('upload-offset')).toBe(String(8 * MIB));

    // The other process holds no tail: the received offset is a conflict there, HEAD says where to resume.
    expect((await patch(secondUrl, uploadId, 8 * MIB, bytes.subarray(8 * MIB))).status).toBe(409);
    const offset = await headOffset(secondUrl, uploadId);
    expect(await chunkEnds(bytes)).toContain(offset);
    expect(offset).toBeLessThan(8 * MIB);
    expect(offset).toBeGreaterThan(0);

    const resumed = await patch(secondUrl, uploadId, offset, bytes.subarray(offset));
    expect(resumed.status).toBe(204);
    expect(resumed.headers.get('upload-offset')).toBe(String(bytes.length));
    const upload = await env.db.upload.findUniqueOrThrow({ where: { id: uploadId } });
    expect(upload.sha256).toBe(sha256(bytes));
    expect(secondLog.some((line) => line.includes(`rebuilt the sha256 of upload ${uploadId}`))).toBe(true);
    // A filename that is no valid entry path is not used as one.
    expect(uploadContentsOf(upload)?.entries[0]?.path).toBe('data');
    // The first process's tail is stale now: it answers the recorded end, and the upload is complete there too.
    expect(await headOffset(env.apiUrl, uploadId)).toBe(bytes.length);
  });

  it('backs up a tus upload from its intake space and restores it bit-exact', async () => {
    const bytes = randomData(9 * MIB + 4321);
    const jobId = await backUpAndWait(env.apiUrl, tenant.apiKey, 'intake/e2e', bytes);
    const job = await env.db.backupJob.findUniqueOrThrow({
      where: { id: jobId },
      include: { replicas: true, datasetVersion: { include: { upload: true } } },
    });
    expect(job.datasetVersion.upload?.stagingPath).toBeNull();
    expect(job.replicas.every((replica) => replica.manifestId !== null)).toBe(true);
    const restoreId = await restoreAndWait(env.apiUrl, tenant.apiKey, 'intake/e2e');
    const content = await fetch(`${env.apiUrl}/restores/${restoreId}/content`, { headers: auth(tenant.apiKey) });
    expect(content.status).toBe(200);
    const restored = Buffer.from(await content.arrayBuffer());
    expect(restored.length).toBe(bytes.length);
    expect(sha256(restored)).toBe(sha256(bytes));
  });
});

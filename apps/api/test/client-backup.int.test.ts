import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { backupPath, type Connection, scanSource } from '@echelon/client';
import { type SeededTenant, seedTenant, tenantDb } from '@echelon/db';
import { gqlUntil, randomData, restoreAndWait, startTestStack, type TestStack } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MIB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('the client: a tree through the chunk protocol and POST /manifests', () => {
  let env: TestStack;
  let seeded: SeededTenant;
  let connection: Connection;

  const waitFor = (jobId: string) =>
    gqlUntil<{ backupJob: { status: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'query($id: ID!) { backupJob(id: $id) { status } }',
      { id: jobId },
      ({ backupJob }) => backupJob.status === 'COMPLETED',
      { what: `backup ${jobId} completing`, timeoutMs: 180_000 },
    );

  const post = (body: unknown, key = seeded.apiKey) =>
    fetch(`${env.apiUrl}/manifests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    // A small manifest budget, so that the test below can spend it (the other tests send a few MiB at most).
    env = await startTestStack({ env: { ECHELON_MANIFEST_MIB_PER_MINUTE: '12' } });
    seeded = await seedTenant(env.db, {
      slug: 'client-backup',
      name: 'Client backup',
      storageRoot: path.join(env.dataDir, 'storage'),
      storage: ['one', 'two'].map((name) => ({ name, spaces: [{ name: 'main', capacityBytes: 1024 * MIB }] })),
      copies: 2,
      delaySeconds: 0,
    });
    connection = { apiUrl: env.apiUrl, apiKey: seeded.apiKey };
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  it('backs up a tree whose manifest is larger than a GraphQL body, restores it whole, and sends only changes', async () => {
    const tree = path.join(env.dataDir, 'source');
    const files = new Map<string, Buffer>();
    for (let index = 0; index < 5000; index++) {
      const relative = `dir-${index % 50}/a-rather-long-file-name-to-make-the-manifest-big-${index}.txt`;
      const bytes = Buffer.from(`file ${index}\n`.repeat(1 + (index % 7)));
      files.set(relative, bytes);
    }
    files.set('big/disk.img', randomData(6 * MIB));
    for (const [relative, bytes] of files) {
      await mkdir(path.dirname(path.join(tree, relative)), { recursive: true });
      await writeFile(path.join(tree, relative), bytes);
    }
    const first = await backupPath(connection, tree, { datasetKey: 'tree' });
    expect(first.source.entries).toHaveLength(files.size);
    const manifestBytes = Buffer.byteLength(JSON.stringify(first.source.entries));
    expect(manifestBytes).toBeGreaterThan(1024 * 1024);
    expect(first.sentChunks).toBe(first.chunkCount);
    await waitFor(first.jobId);

    const restoreId = await restoreAndWait(env.apiUrl, seeded.apiKey, 'tree');
    const response = await fetch(`${env.apiUrl}/restores/${restoreId}/content`, {
      headers: { authorization: `Bearer ${seeded.apiKey}` },
    });
    expect(response.status).toBe(200);
    const into = path.join(env.dataDir, 'restored');
    await mkdir(into, { recursive: true });
    await writeFile(path.join(env.dataDir, 'tree.tar'), Buffer.from(await response.arrayBuffer()));
    execFileSync('tar', ['-xf', path.join(env.dataDir, 'tree.tar'), '-C', into]);
    for (const [relative, bytes] of files) {
      expect(sha256(await readFile(path.join(into, relative))), relative).toBe(sha256(bytes));
    }

    // One small file changed and one byte of the image: the second backup sends two or three chunks.
    await writeFile(path.join(tree, 'dir-3/a-rather-long-file-name-to-make-the-manifest-big-3.txt'), 'changed\n');
    const image = files.get('big/disk.img') as Buffer;
    image[3 * MIB] = (image[3 * MIB] ?? 0) ^ 1;
    await writeFile(path.join(tree, 'big/disk.img'), image);
    const second = await backupPath(connection, tree, { datasetKey: 'tree' });
    expect(second.sentChunks).toBeGreaterThanOrEqual(2);
    expect(second.sentChunks).toBeLessThanOrEqual(3);
    expect(second.sentBytes).toBeLessThan(4 * MIB + 100);
    await waitFor(second.jobId);
  }, 400_000);

  it('charges POST /manifests bodies to a per-key budget of MiB a minute before reading them: 429 beyond it', async () => {
    const other = await seedTenant(env.db, {
      slug: 'manifest-budget',
      name: 'Manifest budget',
      storageRoot: path.join(env.dataDir, 'storage-budget'),
      storage: [{ name: 'one', spaces: [{ name: 'main', capacityBytes: 64 * MIB }] }],
      copies: 1,
      delaySeconds: 0,
    });
    const db = tenantDb(env.db, other.tenant.id);
    // Valid JSON of a bit over 5 MiB (6 MiB of budget each): parsed, then refused as a manifest.
    const padded = JSON.stringify({ datasetKey: 'padded', kind: 'object', entries: [], pad: 'x'.repeat(5 * MIB) });
    const first = await post(padded, other.apiKey);
    expect(first.status).toBe(400);
    const second = await post(padded, other.apiKey);
    expect(second.status).toBe(400);
    const third = await post(padded, other.apiKey);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await third.json()) as { error: { code: string; message: string; limit: string } };
    expect(body.error).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'rate' });
    expect(body.error.message).toContain('12 MiB a minute');
    // Another key's budget is its own.
    const theirs = await post(padded);
    expect(theirs.status).toBe(400);
    // A body without a Content-Length (chunked) cannot be charged first: 411.
    const streamed = await fetch(`${env.apiUrl}/manifests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.apiKey}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{}'));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(411);
    expect(await db.upload.count({ where: { tenantId: other.tenant.id } })).toBe(0);
  });

  it('refuses bad manifests on POST /manifests with typed errors, and records nothing', async () => {
    const db = tenantDb(env.db, seeded.tenant.id);
    const before = await db.upload.count({ where: { tenantId: seeded.tenant.id } });
    const small = path.join(env.dataDir, 'small.bin');
    await writeFile(small, 'small\n');
    const scanned = await scanSource(small, { onChunks: async () => undefined });
    const entry = scanned.entries[0] as (typeof scanned.entries)[number];
    const valid = { datasetKey: 'small', kind: 'object', entries: [entry] };
    const codeOf = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

    const stranger = await post(valid, 'ek_not-a-key');
    expect(stranger.status).toBe(401);
    const notJson = await post('{"datasetKey":');
    expect(notJson.status).toBe(400);
    expect(await codeOf(notJson)).toBe('BAD_USER_INPUT');
    // The chunk was never sent: the manifest names a chunk the tenant does not hold.
    const absent = await post(valid);
    expect(absent.status).toBe(400);
    const absentBody = (await absent.json()) as { error: { code: string; message: string } };
    expect(absentBody.error.code).toBe('BAD_USER_INPUT');
    expect(absentBody.error.message).toContain(entry.chunks[0]?.[0] as string);
    for (const bad of ['../escape', '/etc/passwd', 'a\u0000b']) {
      const refused = await post({ ...valid, kind: 'tree', entries: [{ ...entry, path: bad }] });
      expect(refused.status).toBe(400);
      expect(await codeOf(refused)).toBe('BAD_USER_INPUT');
    }
    const wrongShape = await post({ ...valid, entries: [{ ...entry, chunks: [{ hash: 'x' }] }] });
    expect(await codeOf(wrongShape)).toBe('BAD_USER_INPUT');
    expect(await db.upload.count({ where: { tenantId: seeded.tenant.id } })).toBe(before);

    // A batch of chunks (POST /chunks): one chunk whose bytes are not its id refuses all of it, nothing stored.
    const good = Buffer.from('a good chunk\n');
    const liar = Buffer.from('these bytes are not the id they claim\n');
    const batch = (parts: [string, Buffer][]) =>
      fetch(`${env.apiUrl}/chunks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${seeded.apiKey}` },
        body: Buffer.concat(parts.flatMap(([hash, bytes]) => [Buffer.from(`${hash}:${bytes.length}\n`), bytes])),
      });
    const storedBefore = await db.storedChunk.count();
    const refused = await batch([
      [sha256(good), good],
      [sha256(good), liar],
    ]);
    expect(refused.status).toBe(400);
    expect(await codeOf(refused)).toBe('BAD_USER_INPUT');
    const garbled = await fetch(`${env.apiUrl}/chunks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${seeded.apiKey}` },
      body: 'no header here',
    });
    expect(await codeOf(garbled)).toBe('BAD_USER_INPUT');
    const short = await fetch(`${env.apiUrl}/chunks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${seeded.apiKey}` },
      body: Buffer.concat([Buffer.from(`${sha256(good)}:999\n`), good]),
    });
    expect(await codeOf(short)).toBe('BAD_USER_INPUT');
    expect(await db.storedChunk.count()).toBe(storedBefore);
    const anonymous = await fetch(`${env.apiUrl}/chunks`, { method: 'POST', body: good });
    expect(anonymous.status).toBe(401);
    // The single-chunk route too answers a stranger before it reads the body.
    const strangerPut = await fetch(`${env.apiUrl}/chunks/${sha256(good)}`, { method: 'PUT', body: good });
    expect(strangerPut.status).toBe(401);
    expect(await codeOf(strangerPut)).toBe('UNAUTHENTICATED');
    const accepted = await batch([[sha256(good), good]]);
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { chunks: { written: boolean }[] }).chunks).toEqual([
      { hash: sha256(good), length: good.length, written: true },
    ]);
    expect(await db.storedChunk.count()).toBe(storedBefore + 1);
  });
});

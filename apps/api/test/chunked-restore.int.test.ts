import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type SeededTenant, seedTenant, tenantDb } from '@echelon/db';
import { gqlOk, gqlUntil, randomData, restoreAndWait, startTestStack, type TestStack } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageChunkedUpload } from './chunked-upload.js';

const MIB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The tree every test restores: two big files (several chunks each), a small one, in two directories. */
const FILES = [
  { path: 'alpha.bin', bytes: randomData(6 * MIB + 17), mode: '0640', mtime: '2026-11-30T08:00:00.000Z' },
  {
    path: 'docs/notes.txt',
    bytes: Buffer.from('restore me, bit for bit\n'),
    mode: '0600',
    mtime: '2026-10-01T00:00:00.000Z',
  },
  { path: 'docs/deep/beta.bin', bytes: randomData(5 * MIB + 3), mode: '0755', mtime: '2026-09-15T12:30:00.000Z' },
];

describe('restores of chunked versions', () => {
  let env: TestStack;
  let seeded: SeededTenant;
  let restoreId: string;
  let objectBytes: Buffer;
  let objectRestoreId: string;

  const download = (id: string, query = '', headers: Record<string, string> = {}) =>
    fetch(`${env.apiUrl}/restores/${id}/content${query}`, {
      headers: { authorization: `Bearer ${seeded.apiKey}`, ...headers },
    });

  const backUp = async (datasetKey: string, uploadId: string) => {
    const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
      { input: { datasetKey, uploadId } },
    );
    await gqlUntil<{ backupJob: { status: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'query($id: ID!) { backupJob(id: $id) { status } }',
      { id: requestBackup.id },
      ({ backupJob }) => backupJob.status === 'COMPLETED',
      { what: `backup of ${datasetKey} completing`, timeoutMs: 120_000 },
    );
  };

  beforeAll(async () => {
    env = await startTestStack();
    seeded = await seedTenant(env.db, {
      slug: 'chunked-restore',
      name: 'Chunked restore',
      storageRoot: path.join(env.dataDir, 'storage'),
      storage: ['one', 'two', 'three'].map((name) => ({ name, spaces: [{ name: 'main', capacityBytes: 1024 * MIB }] })),
      copies: 3,
      delaySeconds: 0,
    });
    const intakeSpaceId = seeded.storageSystems[0]?.spaces[0]?.id as string;
    const tree = await stageChunkedUpload(env.db, seeded, { intakeSpaceId, kind: 'tree', files: FILES });
    await backUp('tree', tree.uploadId);
    restoreId = await restoreAndWait(env.apiUrl, seeded.apiKey, 'tree');
    objectBytes = randomData(9 * MIB + 5);
    const object = await stageChunkedUpload(env.db, seeded, {
      intakeSpaceId,
      kind: 'object',
      files: [{ path: 'data', bytes: objectBytes }],
    });
    await backUp('object', object.uploadId);
    objectRestoreId = await restoreAndWait(env.apiUrl, seeded.apiKey, 'object');
  }, 300_000);

  afterAll(async () => {
    await env?.stop();
  });

  it('sends a whole tree as a tar that unpacks to the same files, modes and mtimes', async () => {
    const response = await download(restoreId);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-tar');
    const archive = Buffer.from(await response.arrayBuffer());
    expect(Number(response.headers.get('content-length'))).toBe(archive.length);
    const into = path.join(env.dataDir, 'untarred');
    await mkdir(into, { recursive: true });
    await writeFile(path.join(env.dataDir, 'tree.tar'), archive);
    execFileSync('tar', ['-xf', path.join(env.dataDir, 'tree.tar'), '-C', into]);
    for (const file of FILES) {
      const restored = path.join(into, file.path);
      expect(sha256(await readFile(restored))).toBe(sha256(file.bytes));
      const info = await stat(restored);
      expect((info.mode & 0o7777).toString(8).padStart(4, '0')).toBe(file.mode);
      expect(info.mtime.toISOString()).toBe(file.mtime);
    }
    expect((await readdir(into, { recursive: true })).filter((name) => !String(name).includes('/')).sort()).toEqual([
      'alpha.bin',
      'docs',
    ]);
  });

  it('restores one file, a subtree, and byte ranges of a file', async () => {
    const beta = FILES[2]?.bytes as Buffer;
    const one = await download(restoreId, `?path=${encodeURIComponent('docs/deep/beta.bin')}`);
    expect(one.status).toBe(200);
    expect(one.headers.get('accept-ranges')).toBe('bytes');
    expect(sha256(Buffer.from(await one.arrayBuffer()))).toBe(sha256(beta));

    // A range across a chunk boundary, an open-ended one, a suffix, and one past the end.
    const from = 1_000_000;
    const to = 3 * MIB + 12_345;
    const ranged = await download(restoreId, '?path=docs/deep/beta.bin', { range: `bytes=${from}-${to}` });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes ${from}-${to}/${beta.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(beta.subarray(from, to + 1))).toBe(true);
    const tail = await download(restoreId, '?path=docs/deep/beta.bin', { range: `bytes=${beta.length - 100}-` });
    expect(Buffer.from(await tail.arrayBuffer()).equals(beta.subarray(beta.length - 100))).toBe(true);
    const suffix = await download(restoreId, '?path=docs/deep/beta.bin', { range: 'bytes=-10' });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(beta.subarray(beta.length - 10))).toBe(true);
    const beyond = await download(restoreId, '?path=docs/deep/beta.bin', { range: `bytes=${beta.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${beta.length}`);

    const subtree = await download(restoreId, '?path=docs');
    expect(subtree.headers.get('content-type')).toBe('application/x-tar');
    const into = path.join(env.dataDir, 'subtree');
    await mkdir(into, { recursive: true });
    await writeFile(path.join(env.dataDir, 'subtree.tar'), Buffer.from(await subtree.arrayBuffer()));
    execFileSync('tar', ['-xf', path.join(env.dataDir, 'subtree.tar'), '-C', into]);
    expect((await readdir(into, { recursive: true })).map(String).sort()).toEqual([
      'docs',
      'docs/deep',
      'docs/deep/beta.bin',
      'docs/notes.txt',
    ]);

    for (const bad of ['../etc/passwd', '/etc/passwd', 'docs/../alpha.bin']) {
      const refused = await download(restoreId, `?path=${encodeURIComponent(bad)}`);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('BAD_USER_INPUT');
    }
    const absent = await download(restoreId, '?path=nope');
    expect(absent.status).toBe(404);
  });

  it('restores an object whole and by range', async () => {
    const whole = await download(objectRestoreId);
    expect(whole.headers.get('repr-digest')).toBe(
      `sha-256=:${createHash('sha256').update(objectBytes).digest('base64')}:`,
    );
    expect(Buffer.from(await whole.arrayBuffer()).equals(objectBytes)).toBe(true);
    const middle = await download(objectRestoreId, '', { range: 'bytes=4194300-4194400' });
    expect(middle.status).toBe(206);
    expect(Buffer.from(await middle.arrayBuffer()).equals(objectBytes.subarray(4194300, 4194401))).toBe(true);
  });

  it('reads a corrupt chunk from another copy, returns the right bytes, and records the bad chunk', async () => {
    const db = tenantDb(env.db, seeded.tenant.id);
    const job = await db.restoreJob.findFirstOrThrow({
      where: { id: objectRestoreId },
      include: { fromReplica: true },
    });
    const first = job.fromReplica;
    if (first === null || first.spaceId === null) throw new Error('the restore names no copy');
    const system = seeded.storageSystems.find((candidate) => candidate.id === first.storageSystemId);
    if (system === undefined) throw new Error("the restore's copy is on no system of the tenant");
    const root = (system.config as { root: string }).root;
    const space = system.spaces.find((candidate) => candidate.id === first.spaceId)?.name as string;
    const chunkDir = path.join(root, space, 'tenants', seeded.tenant.id, 'chunks');
    // A chunk in the middle of the object: flip one byte of it on the copy the restore reads first.
    const upload = await db.upload.findFirstOrThrow({ where: { versions: { some: { id: job.datasetVersionId } } } });
    const chunks = (upload.contents as { entries: { chunks: [string, number][] }[] }).entries[0]?.chunks ?? [];
    const victim = chunks[Math.floor(chunks.length / 2)]?.[0] as string;
    const file = path.join(chunkDir, victim.slice(0, 2), victim);
    const bytes = await readFile(file);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(file, bytes);

    const response = await download(objectRestoreId);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(objectBytes)).toBe(true);
    const held = await db.storedChunk.findFirst({ where: { spaceId: first.spaceId, hash: victim } });
    expect(held).toBeNull();
    const events = await db.replicaEvent.findMany({ where: { replicaId: first.id }, orderBy: { id: 'asc' } });
    expect(events.at(-1)?.message).toContain(`chunk ${victim}`);
    // The next download does not trip over it again: the index sends it straight to a good copy.
    const again = await download(objectRestoreId, '', { range: 'bytes=0-99' });
    expect(Buffer.from(await again.arrayBuffer()).equals(objectBytes.subarray(0, 100))).toBe(true);
  });
});

import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { completeUpload, recordUpload, type SeededTenant, seedTenant, type StorageSeed, tenantDb } from '@echelon/db';
import { objectKeyFor } from '@echelon/storage';
import { gqlOk, randomData, type ServiceProcess, startTestStack, type TestStack } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder } from './chunked-layout.js';
import { killHard, poll } from './process-support.js';
import { stageChunkedUpload, type UploadedFile } from './chunked-upload.js';

const MIB = 1024 * 1024;
/** Slow enough that a copy of a few dozen MiB can be interrupted in the middle. */
const COPY_RATE_LIMIT = 4 * MIB;
const DATASET = 'chunked/data';

const STORAGE: StorageSeed[] = [
  { name: 'primary', spaces: [{ name: 'main', capacityBytes: 256 * MIB }] },
  { name: 'second', spaces: [{ name: 'main', capacityBytes: 256 * MIB }] },
  { name: 'third', spaces: [{ name: 'main', capacityBytes: 256 * MIB }] },
];

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface ManifestOnDisk {
  sha256: string;
  version: number;
  entries: { path: string; sha256: string; size: number; chunks: [string, number][] }[];
}

describe('chunked copies (real stack: embedded PostgreSQL, Temporal dev server, worker, API, FILESYSTEM storage)', () => {
  let env: TestStack;
  let counter = 0;

  beforeAll(async () => {
    env = await startTestStack({ env: { ECHELON_COPY_RATE_LIMIT: String(COPY_RATE_LIMIT) } });
  }, 240_000);

  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  const tenant = (options: { copies: number; delaySeconds: number }) => {
    const slug = `chunked-${Date.now()}-${counter++}`;
    return seedTenant(env.db, {
      slug,
      name: 'Chunked copies',
      storageRoot: path.join(env.dataDir, `storage-${slug}`),
      storage: STORAGE.slice(0, Math.max(options.copies, 2)),
      ...options,
    });
  };

  const spaceOf = (seeded: SeededTenant, systemName: string) => {
    const system = seeded.storageSystems.find((candidate) => candidate.name === systemName);
    const space = system?.spaces[0];
    if (system === undefined || space === undefined) throw new Error(`no system ${systemName}`);
    const root = (system.config as { root: string }).root;
    return { id: space.id, dir: path.join(root, space.name, 'tenants', seeded.tenant.id) };
  };
  const spaceById = (seeded: SeededTenant, spaceId: string | null) => {
    const system = seeded.storageSystems.find((candidate) => candidate.spaces.some((space) => space.id === spaceId));
    if (system === undefined) throw new Error(`no space ${spaceId}`);
    return { name: system.name, ...spaceOf(seeded, system.name) };
  };
  const chunkFile = (spaceDir: string, hash: string) => path.join(spaceDir, 'chunks', hash.slice(0, 2), hash);
  const manifestFile = (spaceDir: string, version: number) =>
    path.join(spaceDir, 'manifests', encodeURIComponent(DATASET), `${version}.json`);

  const storedCount = (seeded: SeededTenant, spaceId: string) =>
    env.db.$queryRaw<{ count: bigint; bytes: bigint | null }[]>`
      SELECT count(*) AS count, sum(length)::bigint AS bytes FROM stored_chunks
       WHERE tenant_id = ${seeded.tenant.id}::uuid AND space_id = ${spaceId}::uuid`.then(([row]) => ({
      count: Number(row?.count ?? 0),
      bytes: Number(row?.bytes ?? 0),
    }));
  const isStored = async (seeded: SeededTenant, spaceId: string, hash: string) =>
    (
      await env.db.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM stored_chunks WHERE tenant_id = ${seeded.tenant.id}::uuid
           AND space_id = ${spaceId}::uuid AND hash = ${hash}`
    )[0]?.n === 1n;

  const replicasOf = (jobId: string) => env.db.replica.findMany({ where: { jobId }, orderBy: { order: 'asc' } });
  const eventsOf = (replicaId: string) =>
    env.db.replicaEvent.findMany({ where: { replicaId }, orderBy: { id: 'asc' } });
  /** What the last attempt of a replica reported writing: "wrote N chunks (B bytes)". */
  const writtenBy = async (replicaId: string) => {
    const verifying = (await eventsOf(replicaId)).filter((event) => event.status === 'VERIFYING').at(-1);
    const match = /^wrote (\d+) chunks \((\d+) bytes\)/.exec(verifying?.message ?? '');
    if (match === null) throw new Error(`replica ${replicaId} reported no chunks written: ${verifying?.message}`);
    return { chunks: Number(match[1]), bytes: Number(match[2]), message: verifying?.message ?? '' };
  };

  async function requestBackup(seeded: SeededTenant, uploadId: string): Promise<string> {
    const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
      { input: { datasetKey: DATASET, uploadId } },
    );
    return requestBackup.id;
  }

  const finished = (jobId: string, timeoutMs = 120_000) =>
    poll(
      `job ${jobId} finished`,
      async () => {
        const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: jobId } });
        return job.status === 'RUNNING' || job.status === 'PENDING' ? undefined : job;
      },
      timeoutMs,
    );

  async function backUp(seeded: SeededTenant, files: UploadedFile[], kind: 'object' | 'tree' = 'object') {
    const upload = await stageChunkedUpload(env.db, seeded, {
      intakeSpaceId: spaceOf(seeded, 'primary').id,
      kind,
      files,
    });
    const jobId = await requestBackup(seeded, upload.uploadId);
    return { upload, jobId };
  }

  /**
   * Every replica COMPLETED with its manifest committed: the same canonical manifest file in each space (its
   * sha256 the recorded manifest id), every chunk it names on disk and verifying, the index holding each of them,
   * and the chunks, concatenated, the version's bytes.
   */
  async function expectCommitted(
    seeded: SeededTenant,
    jobId: string,
    version: number,
    files: UploadedFile[],
    /** Systems whose chunks are not read back (damaged on purpose). */
    { unread = [] }: { unread?: string[] } = {},
  ) {
    const replicas = await replicasOf(jobId);
    const manifests = new Set<string>();
    for (const replica of replicas) {
      expect(replica.status, `${replica.order}: ${replica.lastError}`).toBe('COMPLETED');
      expect(replica.manifestId).toMatch(/^[0-9a-f]{64}$/);
      expect(replica.objectKey).toBeNull();
      const space = spaceById(seeded, replica.spaceId);
      const text = await readFile(manifestFile(space.dir, version), 'utf8');
      expect(sha256(Buffer.from(text)), `manifest of ${space.name}`).toBe(replica.manifestId);
      manifests.add(text);
      const manifest = JSON.parse(text) as ManifestOnDisk;
      expect(replica.checksum).toBe(manifest.sha256);
      const byPath = new Map(files.map((file) => [file.path, file.bytes]));
      if (unread.includes(space.name)) continue;
      for (const entry of manifest.entries) {
        const pieces: Buffer[] = [];
        for (const [hash, length] of entry.chunks) {
          const bytes = await readFile(chunkFile(space.dir, hash));
          expect(sha256(bytes), `chunk ${hash} on ${space.name}`).toBe(hash);
          expect(bytes.length).toBe(length);
          expect(await isStored(seeded, space.id, hash), `index of ${space.name} holds ${hash}`).toBe(true);
          pieces.push(bytes);
        }
        expect(Buffer.concat(pieces).equals(byPath.get(entry.path) as Buffer), `${entry.path} on ${space.name}`).toBe(
          true,
        );
      }
    }
    // Every replica committed byte-identical manifests.
    expect(manifests.size).toBe(1);
    return replicas;
  }

  it('three copies of a chunked version, then a second version with a small change writes only its new chunks', async () => {
    const seeded = await tenant({ copies: 3, delaySeconds: 0 });
    const data = randomData(12 * MIB);
    const first = await backUp(seeded, [{ path: 'data', bytes: data }]);
    expect((await finished(first.jobId)).status).toBe('COMPLETED');
    const replicas = await expectCommitted(seeded, first.jobId, 1, [{ path: 'data', bytes: data }]);
    const chunkCount = new Set(first.upload.chunks.map((chunk) => chunk.hash)).size;
    expect(chunkCount).toBeGreaterThan(5);
    for (const replica of replicas) {
      const space = spaceById(seeded, replica.spaceId);
      expect(await storedCount(seeded, space.id)).toEqual({ count: chunkCount, bytes: data.length });
      // The intake stored the chunks in the primary's space: the primary copies none; each secondary all.
      expect((await writtenBy(replica.id)).chunks).toBe(replica.order === 0 ? 0 : chunkCount);
      expect(Number(replica.bytesCopied)).toBe(data.length);
    }
    const secondaries = replicas.filter((replica) => replica.order > 0).map((r) => spaceById(seeded, r.spaceId));
    const mtimes = new Map<string, number>();
    for (const space of secondaries) {
      for (const { hash } of first.upload.chunks) {
        mtimes.set(`${space.name}/${hash}`, (await stat(chunkFile(space.dir, hash))).mtimeMs);
      }
    }

    // Version 2: 4 KiB changed in the middle.
    const changed = Buffer.from(data);
    randomData(4096).copy(changed, 6 * MIB);
    const second = await backUp(seeded, [{ path: 'data', bytes: changed }]);
    expect((await finished(second.jobId)).status).toBe('COMPLETED');
    const replicas2 = await expectCommitted(seeded, second.jobId, 2, [{ path: 'data', bytes: changed }]);
    const known = new Set(first.upload.chunks.map((chunk) => chunk.hash));
    const fresh = second.upload.chunks.filter((chunk) => !known.has(chunk.hash));
    const freshBytes = fresh.reduce((sum, chunk) => sum + chunk.length, 0);
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.length).toBeLessThanOrEqual(3);
    expect(second.upload.written).toEqual(fresh);
    for (const replica of replicas2) {
      const space = spaceById(seeded, replica.spaceId);
      const written = await writtenBy(replica.id);
      expect(written.chunks, written.message).toBe(replica.order === 0 ? 0 : fresh.length);
      expect(written.bytes).toBe(replica.order === 0 ? 0 : freshBytes);
      expect((await storedCount(seeded, space.id)).count).toBe(chunkCount + fresh.length);
    }
    // The chunks version 1 wrote were not written again.
    for (const space of secondaries) {
      for (const { hash } of first.upload.chunks) {
        expect((await stat(chunkFile(space.dir, hash))).mtimeMs).toBe(mtimes.get(`${space.name}/${hash}`));
      }
      // Version 1's manifest is still there, unchanged.
      const text = await readFile(manifestFile(space.dir, 1), 'utf8');
      expect(replicas.map((replica) => replica.manifestId)).toContain(sha256(Buffer.from(text)));
    }

    // A restore picks a replica by its committed manifest, without reading the version; one whose manifest is
    // not the one it committed is passed over, and why is said.
    const restore = async () => {
      const { requestRestore } = await gqlOk<{ requestRestore: { id: string } }>(
        env.apiUrl,
        seeded.apiKey,
        'mutation($input: RequestRestoreInput!) { requestRestore(input: $input) { id } }',
        { input: { datasetKey: DATASET } },
      );
      return poll('the restore finished', async () => {
        const job = await env.db.restoreJob.findUniqueOrThrow({ where: { id: requestRestore.id } });
        return job.status === 'COMPLETED' || job.status === 'FAILED' ? job : undefined;
      });
    };
    const restored = await restore();
    expect(restored.status, restored.lastError ?? '').toBe('COMPLETED');
    expect(restored.lastError).toBeNull();
    const chosen = replicas2.find((replica) => replica.id === restored.fromReplicaId);
    expect(chosen?.manifestId).toMatch(/^[0-9a-f]{64}$/);
    const chosenSpace = spaceById(seeded, chosen?.spaceId ?? null);
    const file = manifestFile(chosenSpace.dir, 2);
    // Still a valid, canonical manifest, but not the one this replica committed: another entry mode.
    const tampered = (await readFile(file, 'utf8')).replace('"mode":"0644"', '"mode":"0600"');
    await writeFile(file, tampered);
    const fallback = await restore();
    expect(fallback.status, fallback.lastError ?? '').toBe('COMPLETED');
    expect(fallback.fromReplicaId).not.toBe(chosen?.id);
    expect(fallback.lastError).toContain(chosenSpace.name);
    expect(fallback.lastError).toContain(
      `the ${chosen?.role.toLowerCase()} copy on ${chosenSpace.name} does not verify`,
    );
    expect(fallback.lastError).toContain(`not the ${chosen?.manifestId} it committed`);
    expect(fallback.lastError).not.toContain(env.dataDir);
  }, 240_000);

  it('a tree of files is copied as one manifest naming each file', async () => {
    const seeded = await tenant({ copies: 2, delaySeconds: 0 });
    const files: UploadedFile[] = [
      { path: 'docs/report.bin', bytes: randomData(3 * MIB) },
      { path: 'docs/small.txt', bytes: Buffer.from('hello\n') },
      { path: 'photos/a.raw', bytes: randomData(2 * MIB), mode: '0600' },
    ];
    const { jobId } = await backUp(seeded, files, 'tree');
    expect((await finished(jobId)).status).toBe('COMPLETED');
    await expectCommitted(seeded, jobId, 1, files);
  }, 120_000);

  it('kill -9 of the worker in the middle of a secondary: the copy resumes with the chunks already stored', async () => {
    const seeded = await tenant({ copies: 2, delaySeconds: 0 });
    const data = randomData(32 * MIB);
    const { upload, jobId } = await backUp(seeded, [{ path: 'data', bytes: data }]);
    const total = new Set(upload.chunks.map((chunk) => chunk.hash)).size;
    const secondarySpace = spaceOf(seeded, 'second');
    // Copying at 4 MiB/s, flushed and recorded every 2 s: kill once some, not all, chunks are recorded.
    const recordedAtKill = await poll('a part of the secondary recorded', async () => {
      const { count } = await storedCount(seeded, secondarySpace.id);
      return count >= 4 ? count : undefined;
    });
    await killHard(env.stack.processes.get('worker') as ServiceProcess, 'worker.ts');
    const killedAt = Date.now();
    const [, atKill] = await replicasOf(jobId);
    expect(atKill?.status).toBe('COPYING');
    const onDiskAtKill = (await filesUnder(path.join(secondarySpace.dir, 'chunks'))).filter(
      (file) => !file.includes(`${path.sep}.partial${path.sep}`),
    );
    expect(recordedAtKill).toBeLessThan(total);
    expect(onDiskAtKill.length).toBeLessThan(total);
    // Nothing is committed before all its chunks: no manifest yet.
    expect(await filesUnder(path.join(secondarySpace.dir, 'manifests'))).toEqual([]);

    await env.stack.startService('worker');
    expect((await finished(jobId, 180_000)).status).toBe('COMPLETED');
    const replicas = await expectCommitted(seeded, jobId, 1, [{ path: 'data', bytes: data }]);
    const secondary = replicas[1];
    expect(secondary?.attempts).toBe(2);
    const written = await writtenBy(secondary?.id as string);
    // The second attempt wrote only what the first had not: never from byte 0.
    expect(written.chunks).toBe(total - onDiskAtKill.length);
    expect(written.chunks).toBeLessThanOrEqual(total - recordedAtKill);
    const copying = (await eventsOf(secondary?.id as string)).filter((event) =>
      event.message?.startsWith('attempt 2:'),
    );
    expect(copying).toHaveLength(1);
    expect(copying[0]?.message).toMatch(new RegExp(`copying (\\d+) of ${total} chunks`));
    expect(Number(/copying (\d+) of/.exec(copying[0]?.message ?? '')?.[1])).toBeLessThanOrEqual(total - recordedAtKill);
    // The chunks on disk at the kill are the very files the first attempt wrote.
    for (const file of onDiskAtKill) expect((await stat(file)).mtimeMs).toBeLessThan(killedAt);
    expect(await storedCount(seeded, secondarySpace.id)).toEqual({ count: total, bytes: data.length });
  }, 300_000);

  /** Overwrites a chunk file with other bytes of the same length. */
  const corrupt = async (file: string) => {
    const bytes = await readFile(file);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
  };

  it('a chunk corrupt on the primary is read from another replica, and the index forgets it there', async () => {
    const seeded = await tenant({ copies: 3, delaySeconds: 4 });
    const data = randomData(6 * MIB);
    const { upload, jobId } = await backUp(seeded, [{ path: 'data', bytes: data }]);
    const bad = upload.chunks[1]?.hash as string;
    const primarySpace = spaceOf(seeded, 'primary');
    // Once the first secondary holds every chunk, and before the second starts (4 s later), a chunk rots.
    await poll('the first secondary COMPLETED', async () =>
      (await replicasOf(jobId))[1]?.status === 'COMPLETED' ? true : undefined,
    );
    expect((await replicasOf(jobId))[2]?.status).not.toBe('COPYING');
    await corrupt(chunkFile(primarySpace.dir, bad));
    expect((await finished(jobId)).status).toBe('COMPLETED');
    // The primary's own chunk file stays corrupt (scrub's work): its chunks are not read back.
    const replicas = await expectCommitted(seeded, jobId, 1, [{ path: 'data', bytes: data }], { unread: ['primary'] });
    const last = replicas[2];
    expect(last?.status).toBe('COMPLETED');
    const lastSpace = spaceById(seeded, last?.spaceId ?? null);
    expect(sha256(await readFile(chunkFile(lastSpace.dir, bad)))).toBe(bad);
    expect(await isStored(seeded, primarySpace.id, bad)).toBe(false);
    const written = await writtenBy(last?.id as string);
    expect(written.message).toContain(`chunk ${bad} was corrupt on primary/main (forgotten there)`);
  }, 180_000);

  it('a chunk corrupt on the only space that holds it: the secondary fails, naming the chunk', async () => {
    const seeded = await tenant({ copies: 2, delaySeconds: 4 });
    const data = randomData(3 * MIB);
    const { upload, jobId } = await backUp(seeded, [{ path: 'data', bytes: data }]);
    const bad = upload.chunks[0]?.hash as string;
    const primarySpace = spaceOf(seeded, 'primary');
    await poll('the primary COMPLETED', async () =>
      (await replicasOf(jobId))[0]?.status === 'COMPLETED' ? true : undefined,
    );
    await corrupt(chunkFile(primarySpace.dir, bad));
    await finished(jobId);
    const [, secondary] = await replicasOf(jobId);
    expect(secondary?.status).toBe('FAILED');
    expect(secondary?.lastError).toContain(`chunk ${bad} is held whole by no other backup space`);
    expect(secondary?.lastError).toContain('corrupt on primary/main');
    expect(secondary?.manifestId).toBeNull();
    expect(await filesUnder(path.join(spaceOf(seeded, 'second').dir, 'manifests'))).toEqual([]);
    expect(await isStored(seeded, primarySpace.id, bad)).toBe(false);
  }, 120_000);

  it('a whole-object version (a staged file, no contents) is copied and restored as before', async () => {
    const seeded = await tenant({ copies: 3, delaySeconds: 0 });
    const data = randomData(3 * MIB);
    const stagingPath = path.join(env.dataDir, `staged-${randomUUID()}`);
    await writeFile(stagingPath, data);
    await writeFile(`${stagingPath}.json`, '{}');
    const uploadId = randomUUID();
    const scoped = tenantDb(env.db, seeded.tenant.id);
    await recordUpload(scoped, {
      id: uploadId,
      tenantId: seeded.tenant.id,
      identityId: seeded.adminIdentityId,
      sizeBytes: data.length,
      stagingPath,
    });
    await completeUpload(scoped, uploadId, sha256(data));
    const jobId = await requestBackup(seeded, uploadId);
    expect((await finished(jobId)).status).toBe('COMPLETED');
    const version = await env.db.datasetVersion.findFirstOrThrow({
      where: { tenantId: seeded.tenant.id, dataset: { key: DATASET } },
    });
    const key = objectKeyFor({ tenantId: seeded.tenant.id, datasetId: version.datasetId, version: version.number });
    const replicas = await replicasOf(jobId);
    expect(replicas).toHaveLength(3);
    for (const replica of replicas) {
      expect(replica.status, replica.lastError ?? '').toBe('COMPLETED');
      expect(replica.manifestId).toBeNull();
      expect(replica.objectKey).toBe(key);
      expect(replica.checksum).toBe(sha256(data));
      const space = spaceById(seeded, replica.spaceId);
      expect(sha256(await readFile(path.join(path.dirname(path.dirname(space.dir)), key))), space.name).toBe(
        sha256(data),
      );
      // Nothing of the chunk store: a whole object stays one.
      expect(await storedCount(seeded, space.id)).toEqual({ count: 0, bytes: 0 });
    }
    // The primary holds the version: the staged file and tus's metadata beside it are gone.
    await expect(stat(stagingPath)).rejects.toThrow(/ENOENT/);
    await expect(stat(`${stagingPath}.json`)).rejects.toThrow(/ENOENT/);

    // The restore reads each copy through and hashes it; one whose bytes changed is passed over.
    const newest = [...replicas].sort((a, b) => (b.completedAt?.getTime() ?? 0) - (a.completedAt?.getTime() ?? 0))[0];
    const newestSpace = spaceById(seeded, newest?.spaceId ?? null);
    await corrupt(path.join(path.dirname(path.dirname(newestSpace.dir)), key));
    const { requestRestore } = await gqlOk<{ requestRestore: { id: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'mutation($input: RequestRestoreInput!) { requestRestore(input: $input) { id } }',
      { input: { datasetKey: DATASET } },
    );
    const restored = await poll('the restore finished', async () => {
      const job = await env.db.restoreJob.findUniqueOrThrow({ where: { id: requestRestore.id } });
      return job.status === 'COMPLETED' || job.status === 'FAILED' ? job : undefined;
    });
    expect(restored.status, restored.lastError ?? '').toBe('COMPLETED');
    expect(restored.fromReplicaId).not.toBe(newest?.id);
    expect(restored.lastError).toContain(`the secondary copy on ${newestSpace.name} does not verify`);
    // Its listing (what a client checks what it writes against) is the one object, with the version's sha256.
    const listing = await fetch(`${env.apiUrl}/restores/${requestRestore.id}/manifest`, {
      headers: { authorization: `Bearer ${seeded.apiKey}` },
    });
    expect(listing.status).toBe(200);
    const restoredVersion = await env.db.datasetVersion.findUniqueOrThrow({
      where: { id: restored.datasetVersionId },
    });
    expect(await listing.json()).toEqual({
      kind: 'object',
      sha256: restoredVersion.sha256,
      entries: [
        {
          path: 'data',
          mode: '0644',
          mtime: restoredVersion.createdAt.toISOString(),
          size: Number(restoredVersion.sizeBytes),
          sha256: restoredVersion.sha256,
        },
      ],
    });
  }, 120_000);

  it('cancelBackup in the middle of a chunked secondary: the copy stops, nothing is committed', async () => {
    const seeded = await tenant({ copies: 2, delaySeconds: 0 });
    const data = randomData(32 * MIB);
    const { upload, jobId } = await backUp(seeded, [{ path: 'data', bytes: data }]);
    const total = new Set(upload.chunks.map((chunk) => chunk.hash)).size;
    const secondarySpace = spaceOf(seeded, 'second');
    await poll('a part of the secondary recorded', async () =>
      (await storedCount(seeded, secondarySpace.id)).count >= 4 ? true : undefined,
    );
    await gqlOk(env.apiUrl, seeded.apiKey, 'mutation($id: ID!) { cancelBackup(id: $id) { id } }', { id: jobId });
    const job = await poll('the job CANCELLED', async () => {
      const current = await env.db.backupJob.findUniqueOrThrow({ where: { id: jobId } });
      return current.status === 'CANCELLED' ? current : undefined;
    });
    expect(job.status).toBe('CANCELLED');
    const [primary, secondary] = await replicasOf(jobId);
    expect(primary?.status).toBe('COMPLETED');
    expect(secondary?.status).toBe('CANCELLED');
    expect(secondary?.manifestId).toBeNull();
    expect(await filesUnder(path.join(secondarySpace.dir, 'manifests'))).toEqual([]);
    // The copy has stopped: no chunk lands after the cancel (those stored stay, content-addressed and harmless).
    const chunkFiles = async () =>
      (await filesUnder(path.join(secondarySpace.dir, 'chunks'))).filter(
        (file) => !file.includes(`${path.sep}.partial${path.sep}`),
      ).length;
    const atCancel = await chunkFiles();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await chunkFiles()).toBe(atCancel);
    expect(atCancel).toBeLessThan(total);
  }, 120_000);
});

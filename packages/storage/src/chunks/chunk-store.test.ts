import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDomainError } from '@echelon/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChunkCorruptError,
  ChunkMissingError,
  FilesystemChunkStore,
  STALE_TEMPORARY_MS,
  sha256Hex,
} from './chunk-store.js';
import { seededBytes } from './test-support.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'echelon-chunks-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const storeFor = (tenantId: string = randomUUID(), space = 'space-a') =>
  new FilesystemChunkStore({ root, space, tenantId });

function chunk(seed: number, length = 300 * 1024): { hash: string; bytes: Buffer } {
  const bytes = seededBytes(length, seed);
  return { hash: sha256Hex(bytes), bytes };
}

describe('FilesystemChunkStore', () => {
  it('stores a chunk under <space>/tenants/<tenant>/chunks/<2 hex>/<hash> and reads it back', async () => {
    const tenantId = randomUUID();
    const store = storeFor(tenantId);
    const { hash, bytes } = chunk(1);
    expect(await store.has(hash)).toBe(false);
    expect(await store.put(hash, bytes)).toEqual({ written: true });
    expect(await store.has(hash)).toBe(true);
    expect((await store.get(hash)).equals(bytes)).toBe(true);
    const file = path.join(root, 'space-a', 'tenants', tenantId, 'chunks', hash.slice(0, 2), hash);
    expect((await readFile(file)).equals(bytes)).toBe(true);
    expect(await readdir(path.join(root, 'space-a', 'tenants', tenantId, 'chunks', '.partial'))).toEqual([]);
  });

  it('does not rewrite a chunk that is already there', async () => {
    const store = storeFor();
    const { hash, bytes } = chunk(2);
    await store.put(hash, bytes);
    const file = store.chunkPath(hash);
    const past = new Date('2020-01-01T00:00:00Z');
    await utimes(file, past, past);
    expect(await store.put(hash, bytes)).toEqual({ written: false });
    const { mtime } = await stat(file);
    expect(mtime.toISOString()).toBe(past.toISOString());
  });

  it('refuses bytes that do not hash to the id, and stores nothing', async () => {
    const store = storeFor();
    const { hash } = chunk(3);
    const error = await store.put(hash, chunk(4).bytes).catch((caught: unknown) => caught);
    expect(isDomainError(error) && error.code === 'BAD_USER_INPUT' && error.details.chunk === hash).toBe(true);
    expect(await store.has(hash)).toBe(false);
  });

  it('detects a corrupt chunk on get and names it', async () => {
    const store = storeFor();
    const { hash, bytes } = chunk(5);
    await store.put(hash, bytes);
    const damaged = Buffer.from(bytes);
    damaged[1000] = damaged[1000]! ^ 0x01;
    await writeFile(store.chunkPath(hash), damaged);
    const error = await store.get(hash).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChunkCorruptError);
    expect((error as ChunkCorruptError).hash).toBe(hash);
    expect((error as ChunkCorruptError).actual).toBe(sha256Hex(damaged));
  });

  it('answers a missing chunk with ChunkMissingError', async () => {
    const { hash } = chunk(6);
    const error = await storeFor()
      .get(hash)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChunkMissingError);
    expect((error as ChunkMissingError).hash).toBe(hash);
  });

  it('stores one copy when many writers put the same chunk at once, and counts it written once', async () => {
    const store = storeFor();
    const { hash, bytes } = chunk(7, 4 * 1024 * 1024);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => storeFor(store.location.tenantId).put(hash, bytes)),
    );
    expect(results.filter((result) => result.written)).toHaveLength(1);
    expect((await store.get(hash)).equals(bytes)).toBe(true);
    expect(await readdir(path.join(store.directory, '.partial'))).toEqual([]);
  });

  it('keeps one tenant’s chunks invisible to another tenant’s store', async () => {
    const mine = storeFor();
    const theirs = storeFor();
    const { hash, bytes } = chunk(8);
    await mine.put(hash, bytes);
    expect(await theirs.has(hash)).toBe(false);
    expect(await theirs.missing([hash])).toEqual([hash]);
    await expect(theirs.get(hash)).rejects.toBeInstanceOf(ChunkMissingError);
    // Nor across spaces of the same tenant.
    expect(await storeFor(mine.location.tenantId, 'space-b').has(hash)).toBe(false);
  });

  it('lists the missing chunks in order, once each', async () => {
    const store = storeFor();
    const present = chunk(9);
    await store.put(present.hash, present.bytes);
    const absent = [chunk(10).hash, chunk(11).hash];
    expect(await store.missing([absent[1]!, present.hash, absent[0]!, absent[1]!])).toEqual([absent[1], absent[0]]);
  });

  it('deletes a chunk, after which it can be put again (how a damaged chunk is repaired)', async () => {
    const store = storeFor();
    const { hash, bytes } = chunk(12);
    await store.put(hash, bytes);
    await store.delete(hash);
    expect(await store.has(hash)).toBe(false);
    expect(await store.put(hash, bytes)).toEqual({ written: true });
  });

  it('ignores a killed write’s temporary file and removes it once stale', async () => {
    const store = storeFor();
    const { hash, bytes } = chunk(13);
    const partial = path.join(store.directory, '.partial');
    await mkdir(partial, { recursive: true });
    const leftover = path.join(partial, `${hash}.${randomUUID()}`);
    await writeFile(leftover, bytes.subarray(0, 1000));
    const other = chunk(14);
    const freshOfAnother = path.join(partial, `${other.hash}.${randomUUID()}`);
    await writeFile(freshOfAnother, other.bytes.subarray(0, 10));
    const old = new Date(Date.now() - STALE_TEMPORARY_MS - 60_000);
    await utimes(leftover, old, old);

    expect(await store.has(hash)).toBe(false);
    await expect(store.get(hash)).rejects.toBeInstanceOf(ChunkMissingError);
    expect(await store.put(hash, bytes)).toEqual({ written: true });
    expect((await store.get(hash)).equals(bytes)).toBe(true);
    // The stale leftover is gone; a fresh temporary file may be a live writer's and stays.
    expect(await readdir(partial)).toEqual([path.basename(freshOfAnother)]);
  });

  it('refuses ids and tenants that could name a path outside the store', async () => {
    const store = storeFor();
    for (const bad of ['../../etc/passwd', 'A'.repeat(64), `${'a'.repeat(63)}/`, 'a'.repeat(65), '']) {
      await expect(store.has(bad)).rejects.toSatisfy(
        (error) => isDomainError(error) && error.code === 'BAD_USER_INPUT',
      );
    }
    expect(() => storeFor('../other-tenant')).toThrow(/not a UUID/);
    expect(() => new FilesystemChunkStore({ root, space: '../escape', tenantId: randomUUID() })).toThrow();
  });
});

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from './chunk-store.js';
import { FilesystemChunkRepository } from './repository.js';
import { seededBytes } from './test-support.js';

const TENANT = '0b4c3c2e-8f7a-4d2e-9a51-2f7e1c9d3b10';

describe('FilesystemChunkRepository', () => {
  let root: string;
  let repository: FilesystemChunkRepository;
  const chunkFiles = async () =>
    (await readdir(path.join(root, 'space', 'tenants', TENANT, 'chunks'), { recursive: true }).catch(() => []))
      .map(String)
      .filter((name) => /^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(name));

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'echelon-repository-'));
    repository = new FilesystemChunkRepository({ root, space: 'space', tenantId: TENANT });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('names nothing of a batch until flush, then every chunk at once, each counted written once', async () => {
    const chunks = Array.from({ length: 40 }, (_, index) => seededBytes(1000 + index, index));
    for (const bytes of chunks) await repository.put(sha256Hex(bytes), bytes);
    // A repeat within the batch is one chunk.
    await repository.put(sha256Hex(chunks[0] as Buffer), chunks[0] as Buffer);
    expect(await chunkFiles()).toEqual([]);
    const stored = await repository.flush();
    expect(stored).toHaveLength(40);
    expect(stored.every((chunk) => chunk.written && chunk.location === null)).toBe(true);
    expect((await chunkFiles()).sort()).toEqual(
      chunks.map((bytes) => `${sha256Hex(bytes).slice(0, 2)}/${sha256Hex(bytes)}`).sort(),
    );
    for (const bytes of chunks)
      expect((await repository.get({ hash: sha256Hex(bytes), length: bytes.length })).equals(bytes)).toBe(true);
    // No temporary is left behind, and a chunk already there is reported, not written again.
    expect(await readdir(path.join(root, 'space', 'tenants', TENANT, 'chunks', '.partial'))).toEqual([]);
    await repository.put(sha256Hex(chunks[1] as Buffer), chunks[1] as Buffer);
    expect(await repository.flush()).toEqual([
      { hash: sha256Hex(chunks[1] as Buffer), length: (chunks[1] as Buffer).length, location: null, written: false },
    ]);
  });

  it('takes puts concurrently: a chunk put twice at once is written once, and the batch is whole', async () => {
    const chunks = Array.from({ length: 24 }, (_, index) => seededBytes(20_000 + index, 100 + index));
    const puts = [...chunks, ...chunks.slice(0, 6)].map((bytes) => repository.put(sha256Hex(bytes), bytes));
    await Promise.all(puts);
    const stored = await repository.flush();
    expect(stored.map((chunk) => chunk.hash).sort()).toEqual(chunks.map((bytes) => sha256Hex(bytes)).sort());
    expect(stored.every((chunk) => chunk.written)).toBe(true);
    for (const bytes of chunks)
      expect((await repository.get({ hash: sha256Hex(bytes), length: bytes.length })).equals(bytes)).toBe(true);
    expect(await readdir(path.join(root, 'space', 'tenants', TENANT, 'chunks', '.partial'))).toEqual([]);
  });

  it('refuses bytes that do not hash to their id and stores nothing', async () => {
    const bytes = seededBytes(5000, 7);
    await expect(repository.put('0'.repeat(64), bytes)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await repository.flush()).toEqual([]);
    expect(await chunkFiles()).toEqual([]);
  });
});

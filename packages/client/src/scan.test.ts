import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildManifest, chunkStream, MIN_CHUNK_SIZE, validateManifest } from '@echelon/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SourceChunk, scanSource } from './scan.js';

const seeded = (length: number, seed: number): Buffer => {
  const out = Buffer.allocUnsafe(length);
  let counter = 0;
  for (let offset = 0; offset < length; offset += 32) {
    createHash('sha256').update(`${seed}:${counter++}`).digest().copy(out, offset);
  }
  return out;
};

describe('scanSource', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'echelon-scan-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('cuts a file into the chunks the server cuts, in bounded batches, and describes it as an object', async () => {
    const bytes = seeded(9 * 1024 * 1024 + 123, 1);
    const file = path.join(dir, 'disk.img');
    await writeFile(file, bytes);
    await chmod(file, 0o640);
    const batches: SourceChunk[][] = [];
    const scanned = await scanSource(file, {
      batchBytes: 2 * 1024 * 1024,
      onChunks: async (chunks) => {
        batches.push(chunks);
      },
    });
    const expected: [string, number][] = [];
    for await (const chunk of chunkStream([bytes])) expected.push([chunk.hash, chunk.length]);
    expect(expected.length).toBeGreaterThan(3);
    expect(scanned.kind).toBe('object');
    expect(scanned.entries).toHaveLength(1);
    const [entry] = scanned.entries;
    expect(entry?.path).toBe('disk.img');
    expect(entry?.mode).toBe('0640');
    expect(entry?.size).toBe(bytes.length);
    expect(entry?.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(entry?.chunks).toEqual(expected);
    // Every chunk is handed over once, with its own bytes, and no batch grows past one chunk over the limit.
    const handed = batches.flat();
    expect(handed.map((chunk) => [chunk.hash, chunk.length])).toEqual(expected);
    for (const chunk of handed) expect(createHash('sha256').update(chunk.bytes).digest('hex')).toBe(chunk.hash);
    for (const batch of batches.slice(0, -1)) {
      const size = batch.reduce((sum, chunk) => sum + chunk.length, 0);
      expect(size).toBeGreaterThanOrEqual(2 * 1024 * 1024);
      expect(size - (batch.at(-1)?.length ?? 0)).toBeLessThan(2 * 1024 * 1024);
    }
  });

  it('walks a tree in byte order of its paths, keeps modes and mtimes, skips links, and makes a valid manifest', async () => {
    const tree = path.join(dir, 'tree');
    await mkdir(path.join(tree, 'b', 'deep'), { recursive: true });
    await mkdir(path.join(tree, 'A'), { recursive: true });
    await writeFile(path.join(tree, 'b', 'deep', 'z.bin'), seeded(MIN_CHUNK_SIZE * 3, 2));
    await writeFile(path.join(tree, 'A', 'small.txt'), 'hello\n');
    await writeFile(path.join(tree, 'empty'), '');
    await chmod(path.join(tree, 'A', 'small.txt'), 0o755);
    const mtime = new Date('2026-01-02T03:04:05.000Z');
    await utimes(path.join(tree, 'empty'), mtime, mtime);
    await symlink('/etc/passwd', path.join(tree, 'link'));
    const scanned = await scanSource(tree, { onChunks: async () => undefined });
    expect(scanned.kind).toBe('tree');
    expect(scanned.entries.map((entry) => entry.path)).toEqual(['A/small.txt', 'b/deep/z.bin', 'empty']);
    expect(scanned.entries[0]?.mode).toBe('0755');
    expect(scanned.entries[2]).toMatchObject({ size: 0, chunks: [], mtime: mtime.toISOString() });
    expect(scanned.skipped).toEqual([{ path: 'link', reason: 'a symbolic link' }]);
    const manifest = buildManifest({
      tenantId: '0b4c3c2e-8f7a-4d2e-9a51-2f7e1c9d3b10',
      datasetKey: 'tree',
      version: 1,
      kind: 'tree',
      entries: scanned.entries,
    });
    expect(validateManifest(manifest).entries).toHaveLength(3);
  });
});

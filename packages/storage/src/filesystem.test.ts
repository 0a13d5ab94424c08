import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChecksumMismatchError, sha256Meter } from './adapter.js';
import { FilesystemStorage, realLocation, safeRelativePath } from './filesystem.js';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('FilesystemStorage', () => {
  let root: string;
  let storage: FilesystemStorage;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'echelon-fs-'));
    storage = new FilesystemStorage(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes, verifies and commits an object, reporting progress and the verify step', async () => {
    const bytes = randomBytes(300_000);
    const progress: number[] = [];
    let verified = false;
    const result = await storage.write(
      'space',
      'a/b/data',
      Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
      {
        expectedSha256: sha(bytes),
        expectedBytes: bytes.length,
        onProgress: (written) => progress.push(written),
        onVerifying: () => {
          verified = true;
        },
      },
    );
    expect(result).toEqual({ sha256: sha(bytes), bytes: bytes.length });
    expect(progress.at(-1)).toBe(bytes.length);
    expect(verified).toBe(true);
    expect(await readFile(path.join(root, 'space', 'a', 'b', 'data'))).toEqual(bytes);
    expect(await readdir(path.join(root, 'space', 'a', 'b'))).toEqual(['data']);
    expect(await storage.stat('space', 'a/b/data')).toEqual({ sha256: sha(bytes), bytes: bytes.length });
  });

  it('leaves nothing behind when the bytes do not match the expected checksum', async () => {
    const bytes = randomBytes(1000);
    await expect(
      storage.write('space', 'x/data', Readable.from([bytes]), {
        expectedSha256: sha(Buffer.from('other')),
        expectedBytes: 1000,
      }),
    ).rejects.toBeInstanceOf(ChecksumMismatchError);
    expect(await readdir(path.join(root, 'space', 'x'))).toEqual([]);
    expect(await storage.stat('space', 'x/data')).toBeUndefined();
  });

  it('leaves nothing behind when the source fails half-way', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(100));
        this.destroy(new Error('source went away'));
      },
    });
    await expect(
      storage.write('space', 'y/data', failing, { expectedSha256: 'x', expectedBytes: 1000 }),
    ).rejects.toThrow('source went away');
    expect(await readdir(path.join(root, 'space', 'y'))).toEqual([]);
  });

  it('refuses keys that would leave their space', () => {
    for (const key of ['../etc/passwd', 'a/../../b', '', 'a//b', './a']) {
      expect(() => safeRelativePath(key)).toThrow(/not a valid object key/);
    }
    expect(safeRelativePath('tenants/t/datasets/d/v1/data')).toBe(
      path.join('tenants', 't', 'datasets', 'd', 'v1', 'data'),
    );
  });

  it('reads back what it wrote and reports a missing object as NOT_FOUND', async () => {
    const bytes = Buffer.from('hello');
    await storage.write('s', 'k', Readable.from([bytes]), { expectedSha256: sha(bytes), expectedBytes: 5 });
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.read('s', 'k')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello');
    await expect(storage.read('s', 'missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('sha256Meter', () => {
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        into.push(chunk);
        done();
      },
    });

  it('passes the bytes through unchanged, reporting progress, and gives their sha256 and length', async () => {
    const data = randomBytes(200_000);
    const seen: number[] = [];
    const out: Buffer[] = [];
    const meter = sha256Meter({ onProgress: (bytes) => seen.push(bytes) });
    await pipeline(Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]), meter, sink(out));
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(meter.result()).toEqual({ sha256: sha(data), bytes: data.length });
    expect(seen).toEqual([70_000, 200_000]);
  });

  it('fails a stream whose bytes do not have the expected sha256 before its last chunk, and passes one that does', async () => {
    const data = randomBytes(1000);
    const received: Buffer[] = [];
    const chunks = [data.subarray(0, 400), data.subarray(400, 800), data.subarray(800)];
    await expect(
      pipeline(Readable.from(chunks), sha256Meter({ expectSha256: sha(Buffer.from('other')) }), sink(received)),
    ).rejects.toBeInstanceOf(ChecksumMismatchError);
    // The reader never had all of it.
    expect(Buffer.concat(received).length).toBeLessThan(data.length);
    await expect(pipeline(Readable.from([data]), sha256Meter({ expectSha256: sha(data) }), sink([]))).resolves.toBe(
      undefined,
    );
  });
});

describe('realLocation', () => {
  it('follows links in the existing part of a path and keeps the missing rest', async () => {
    const base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'echelon-real-')));
    try {
      await mkdir(path.join(base, 'inside', 'deep'), { recursive: true });
      await symlink('/etc', path.join(base, 'escape'));
      await symlink(path.join(base, 'inside'), path.join(base, 'alias'));
      await writeFile(path.join(base, 'file'), 'x');
      expect(await realLocation(path.join(base, 'escape', 'not', 'yet'))).toBe('/etc/not/yet');
      expect(await realLocation(path.join(base, 'alias', 'deep', 'new'))).toBe(path.join(base, 'inside/deep/new'));
      expect(await realLocation(path.join(base, 'missing', 'a', '..', 'b'))).toBe(path.join(base, 'missing/b'));
      // Below a file nothing can be created; where it would be is still answered, and creating it fails later.
      expect(await realLocation(path.join(base, 'file', 'x'))).toBe(path.join(base, 'file/x'));
      await symlink(path.join(base, 'loop'), path.join(base, 'loop'));
      await expect(realLocation(path.join(base, 'loop', 'x'))).rejects.toMatchObject({ code: 'ELOOP' });
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDomainError } from '@echelon/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChecksumMismatchError } from '../adapter.js';
import { ChunkCorruptError, FilesystemChunkStore, sha256Hex } from './chunk-store.js';
import { chunkStream } from './chunker.js';
import {
  buildManifest,
  InvalidManifestError,
  listManifestVersions,
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestEntry,
  manifestId,
  manifestPath,
  readManifest,
  reassemble,
  serializeManifest,
  treeSha256,
  validateManifest,
  writeManifest,
} from './manifest.js';
import { seededBytes } from './test-support.js';

const SMALL = { minSize: 256, averageSize: 1024, maxSize: 4096 };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'echelon-manifests-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Chunks `bytes` into `store` and describes them as an entry. */
async function storeEntry(store: FilesystemChunkStore, entryPath: string, bytes: Buffer): Promise<ManifestEntry> {
  const chunks: ManifestEntry['chunks'] = [];
  for await (const chunk of chunkStream([bytes], SMALL)) {
    await store.put(chunk.hash, chunk.bytes);
    chunks.push([chunk.hash, chunk.length]);
  }
  return {
    path: entryPath,
    mode: '0644',
    mtime: '2025-03-01T10:00:00.000Z',
    size: bytes.length,
    sha256: sha256Hex(bytes),
    chunks,
  };
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

function setup() {
  const tenantId = randomUUID();
  const location = { root, space: 'space-a', tenantId };
  return { tenantId, location, store: new FilesystemChunkStore(location) };
}

async function objectVersion(version = 1) {
  const context = setup();
  const bytes = seededBytes(50_000, version);
  const entry = await storeEntry(context.store, 'report.bin', bytes);
  const manifest = buildManifest({
    tenantId: context.tenantId,
    datasetKey: 'finance/reports',
    version,
    createdAt: '2025-03-01T10:00:01.000Z',
    kind: 'object',
    entries: [entry],
  });
  return { ...context, bytes, manifest };
}

describe('manifest', () => {
  it('serializes canonically: sorted keys, entries in byte order of their paths, the same bytes every time', () => {
    const tenantId = randomUUID();
    const empty = sha256Hex(Buffer.alloc(0));
    const entry = (entryPath: string): ManifestEntry => ({
      sha256: empty,
      chunks: [],
      size: 0,
      mtime: '2025-03-01T10:00:00Z',
      mode: '0600',
      path: entryPath,
    });
    const manifest = buildManifest({
      tenantId,
      datasetKey: 'home',
      version: 3,
      createdAt: '2025-03-01T10:00:00Z',
      kind: 'tree',
      entries: [entry('b'), entry('a/z'), entry('B'), entry('é')],
    });
    const text = serializeManifest(manifest);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.startsWith('{"createdAt":')).toBe(true);
    expect(manifest.entries.map((item) => item.path)).toEqual(['B', 'a/z', 'b', 'é']);
    const shuffled = { ...manifest, entries: [...manifest.entries].reverse() };
    expect(serializeManifest(shuffled)).toBe(text);
    expect(manifestId(shuffled)).toBe(sha256Hex(Buffer.from(text)));
    expect(manifest.sha256).toBe(treeSha256(manifest.entries));
  });

  it('derives a tree’s sha256 from the sha256sum listing of its files', () => {
    const entries = [
      { path: 'b.txt', sha256: 'b'.repeat(64) },
      { path: 'a.txt', sha256: 'a'.repeat(64) },
    ];
    expect(treeSha256(entries)).toBe(sha256Hex(Buffer.from(`${'a'.repeat(64)}  a.txt\n${'b'.repeat(64)}  b.txt\n`)));
  });

  it('refuses malformed manifests with InvalidManifestError naming the field', async () => {
    const { manifest } = await objectVersion();
    const entry = manifest.entries[0]!;
    const cases: [string, unknown][] = [
      ['format', { ...manifest, format: 'echelon.manifest/2' }],
      ['document', { ...manifest, extra: 1 }],
      ['tenantId', { ...manifest, tenantId: 'tenant-1' }],
      ['datasetKey', { ...manifest, datasetKey: '../x' }],
      ['version', { ...manifest, version: 0 }],
      ['createdAt', { ...manifest, createdAt: 'yesterday' }],
      ['kind', { ...manifest, kind: 'folder' }],
      ['sha256', { ...manifest, sha256: 'A'.repeat(64) }],
      ['entries[0].path', { ...manifest, entries: [{ ...entry, path: '../etc/passwd' }] }],
      ['entries[0].path', { ...manifest, entries: [{ ...entry, path: '/etc/passwd' }] }],
      ['entries[0].path', { ...manifest, entries: [{ ...entry, path: 'a//b' }] }],
      ['entries[0].path', { ...manifest, entries: [{ ...entry, path: 'a\u0000b' }] }],
      ['entries[0].path', { ...manifest, entries: [{ ...entry, path: 'line\nbreak' }] }],
      ['entries[0].mode', { ...manifest, entries: [{ ...entry, mode: 644 }] }],
      [
        'entries[0].chunks[0][0]',
        { ...manifest, entries: [{ ...entry, chunks: [['xyz', 10], ...entry.chunks.slice(1)] }] },
      ],
      ['entries[0].chunks[0][1]', { ...manifest, entries: [{ ...entry, chunks: [[entry.chunks[0]![0], 0]] }] }],
      ['entries[0].size', { ...manifest, entries: [{ ...entry, size: entry.size + 1 }] }],
      ['sha256', { ...manifest, sha256: 'c'.repeat(64) }],
      ['entries', { ...manifest, entries: [entry, entry] }],
      ['entries', { ...manifest, kind: 'tree', entries: [entry, { ...entry, path: 'report.bin/inner' }] }],
    ];
    for (const [field, value] of cases) {
      let error: unknown;
      try {
        validateManifest(value);
      } catch (caught) {
        error = caught;
      }
      expect(error, `${field}: ${JSON.stringify(value).slice(0, 200)}`).toBeInstanceOf(InvalidManifestError);
      expect((error as InvalidManifestError).field).toBe(field);
      expect((error as InvalidManifestError).code).toBe('BAD_USER_INPUT');
    }
    expect(validateManifest(JSON.parse(serializeManifest(manifest)))).toEqual(manifest);
    expect(manifest.format).toBe(MANIFEST_FORMAT);
  });

  it('commits a manifest last and reads it back from the layout alone', async () => {
    const { location, store, manifest, tenantId, bytes } = await objectVersion();
    const committed = await writeManifest(location, manifest, store);
    expect(committed.file).toBe(
      path.join(root, 'space-a', 'tenants', tenantId, 'manifests', 'finance%2Freports', '1.json'),
    );
    expect(committed.file).toBe(manifestPath(location, 'finance/reports', 1));
    expect(committed.id).toBe(sha256Hex(await readFile(committed.file)));
    const read = await readManifest(location, 'finance/reports', 1);
    expect(read).toEqual({ manifest, id: committed.id });
    expect(await listManifestVersions(location, 'finance/reports')).toEqual([1]);
    // A store built from nothing but the location restores the bytes.
    expect((await collect(reassemble(read.manifest, new FilesystemChunkStore(location)))).equals(bytes)).toBe(true);
  });

  it('is idempotent for the same manifest and refuses a different one for the same version', async () => {
    const { location, store, manifest } = await objectVersion();
    expect((await writeManifest(location, manifest, store)).written).toBe(true);
    expect((await writeManifest(location, manifest, store)).written).toBe(false);
    const other = buildManifest({ ...manifest, createdAt: '2025-03-02T00:00:00.000Z' });
    await expect(writeManifest(location, other, store)).rejects.toSatisfy(
      (error) => isDomainError(error) && error.code === 'CONFLICT',
    );
  });

  it('refuses to commit a manifest that names a chunk the tenant lacks, and names the chunk', async () => {
    const { location, store, manifest } = await objectVersion();
    const lost = manifest.entries[0]!.chunks[2]![0];
    await store.delete(lost);
    const error = await writeManifest(location, manifest, store).catch((caught: unknown) => caught);
    expect(isDomainError(error) && error.code === 'BAD_USER_INPUT' && error.details.chunk === lost).toBe(true);
    await expect(readManifest(location, 'finance/reports', 1)).rejects.toSatisfy(
      (caught) => isDomainError(caught) && caught.code === 'NOT_FOUND',
    );
    // Another tenant's store holding the chunks does not count.
    const { manifest: foreign } = await objectVersion();
    await expect(writeManifest(location, foreign, store)).rejects.toSatisfy(
      (caught) => isDomainError(caught) && caught.code === 'BAD_USER_INPUT',
    );
  });

  it('refuses a manifest file that was altered on storage', async () => {
    const { location, store, manifest } = await objectVersion();
    const { file, id } = await writeManifest(location, manifest, store);
    const text = await readFile(file, 'utf8');
    const size = manifest.entries[0]!.size;
    await writeFile(file, text.replace(`"size":${size}`, `"size":${size + 1}`));
    await expect(readManifest(location, 'finance/reports', 1)).rejects.toBeInstanceOf(InvalidManifestError);
    // Still a valid manifest, but not the one committed: only the recorded id tells.
    await writeFile(file, text.replace('"mode":"0644"', '"mode":"0755"'));
    expect((await readManifest(location, 'finance/reports', 1)).manifest.entries[0]!.mode).toBe('0755');
    await expect(readManifest(location, 'finance/reports', 1, { expectedId: id })).rejects.toBeInstanceOf(
      ChecksumMismatchError,
    );
    await writeFile(file, `${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    await expect(readManifest(location, 'finance/reports', 1)).rejects.toThrow(/canonical/);
  });

  it('reassembles one file of a tree and verifies it whole', async () => {
    const { location, store, tenantId } = setup();
    const files = { 'docs/a.txt': seededBytes(9000, 21), 'docs/b.txt': seededBytes(1, 22), empty: Buffer.alloc(0) };
    const entries = await Promise.all(Object.entries(files).map(([name, bytes]) => storeEntry(store, name, bytes)));
    const manifest = buildManifest({ tenantId, datasetKey: 'home', version: 7, kind: 'tree', entries });
    await writeManifest(location, manifest, store);
    const { manifest: read } = await readManifest(location, 'home', 7);
    for (const [name, bytes] of Object.entries(files)) {
      expect((await collect(reassemble(read, store, name))).equals(bytes)).toBe(true);
    }
    await expect(collect(reassemble(read, store))).rejects.toThrow(/needs the path/);
    await expect(collect(reassemble(read, store, 'docs'))).rejects.toThrow(/not an entry/);
  });

  it('fails a restore on a corrupt chunk, naming it', async () => {
    const { store, manifest } = await objectVersion();
    const [hash] = manifest.entries[0]!.chunks[1]!;
    const damaged = await readFile(store.chunkPath(hash));
    damaged[0] = damaged[0]! ^ 0xff;
    await writeFile(store.chunkPath(hash), damaged);
    const error = await collect(reassemble(manifest, store)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChunkCorruptError);
    expect((error as ChunkCorruptError).hash).toBe(hash);
  });

  it('holds back the last chunk when the whole entry does not match its sha256', async () => {
    const { store, manifest } = await objectVersion();
    const entry = manifest.entries[0]!;
    // Two chunks swapped: each is intact, the sizes add up, only the whole hash can tell.
    const swapped = [entry.chunks[1]!, entry.chunks[0]!, ...entry.chunks.slice(2)];
    const wrong: Manifest = { ...manifest, entries: [{ ...entry, chunks: swapped }] };
    let received = 0;
    const error = await (async () => {
      for await (const part of reassemble(wrong, store)) received += part.length;
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect(received).toBeLessThan(entry.size);
  });
});

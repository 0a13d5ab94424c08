import { createHash, randomUUID } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type S3TestServer, startS3Server } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChecksumMismatchError } from '../adapter.js';
import { chunkRepositoryFor } from '../index.js';
import { ChunkCorruptError, ChunkMissingError, type ChunkStore } from './chunk-store.js';
import { chunkStream } from './chunker.js';
import {
  buildManifest,
  type ChunkRef,
  type Manifest,
  type ManifestEntry,
  reassemble,
  serializeManifest,
} from './manifest.js';
import type { StoredChunk } from './repository.js';
import { S3ChunkRepository } from './s3-repository.js';
import { seededBytes } from './test-support.js';

const MIB = 1024 * 1024;
const BUCKET = 'backups';
/** rclone serves on loopback, which S3 endpoints may reach only when the platform allows it. */
const LOOPBACK = { privateEndpoints: ['127.0.0.1'] };
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A plain client with the server's credentials: what an operator restoring by hand (or an attacker) uses. */
function plainClient(server: S3TestServer): S3Client {
  const config = server.config();
  return new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function objectBytes(client: S3Client, key: string, range?: string): Promise<Buffer> {
  const output = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range }));
  const parts: Buffer[] = [];
  for await (const part of output.Body as Readable) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function keysUnder(client: S3Client, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) keys.push(object.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}

/** Every file under the bucket's directory: what the server really holds. */
async function filesIn(server: S3TestServer, prefix: string): Promise<string[]> {
  const root = path.join(server.dir, BUCKET);
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .filter((file) => file.startsWith(prefix))
    .sort();
}

/** Cuts `bytes` into chunks and puts each; returns the entry's chunk list (stream order). */
async function putBytes(repository: S3ChunkRepository, bytes: Buffer): Promise<ChunkRef[]> {
  const refs: ChunkRef[] = [];
  for await (const chunk of chunkStream([bytes])) {
    await repository.put(chunk.hash, chunk.bytes);
    refs.push([chunk.hash, chunk.length]);
  }
  return refs;
}

const entryOf = (entryPath: string, bytes: Buffer, chunks: ChunkRef[]): ManifestEntry => ({
  path: entryPath,
  mode: '0644',
  mtime: '2025-03-01T10:00:00.000Z',
  size: bytes.length,
  sha256: sha(bytes),
  chunks,
});

function manifestOf(
  tenantId: string,
  datasetKey: string,
  version: number,
  entries: ManifestEntry[],
  createdAt = '2025-03-01T10:05:00.000Z',
): Manifest {
  return buildManifest({
    tenantId,
    datasetKey,
    version,
    createdAt,
    kind: entries.length === 1 && entries[0]!.path === 'data' ? 'object' : 'tree',
    entries,
  });
}

/** The repository as a ChunkStore for `reassemble`, reading each chunk at the location its flush returned. */
function storeOf(repository: S3ChunkRepository, stored: Map<string, StoredChunk>): ChunkStore {
  const address = (hash: string) => {
    const chunk = stored.get(hash);
    return { hash, length: chunk?.length ?? 0, location: chunk?.location ?? null };
  };
  return {
    has: (hash) => repository.has(address(hash)),
    get: (hash) => repository.get(address(hash)),
    put: async () => {
      throw new Error('reading only');
    },
    missing: (hashes) => repository.missingOnStorage(hashes),
    delete: (hash) => repository.delete(address(hash)),
  };
}

const byHash = (chunks: StoredChunk[]) => new Map(chunks.map((chunk) => [chunk.hash, chunk]));
/** An index that holds exactly what flush returned: the database's role, without the database. */
const indexOf = (stored: Map<string, StoredChunk>) => async (hashes: readonly string[]) =>
  [...new Set(hashes)].filter((hash) => !stored.has(hash));
const nothingMissing = async () => [] as string[];

async function sha256Of(chunks: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * A pass-through proxy in front of the real server that, while `isFlipping`, flips one byte in every whole-object
 * GET of a pack: what a repository reads back then differs from what it sent, as after a store's silent damage.
 */
async function startFlippingProxy(
  target: string,
): Promise<{ endpoint: string; isFlipping: boolean; close(): Promise<void> }> {
  const upstream = new URL(target);
  const state = { isFlipping: false };
  const proxy: Server = createServer((incoming, outgoing) => {
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        const isPackRead = incoming.method === 'GET' && /\/packs\//.test(incoming.url ?? '') && !incoming.headers.range;
        if (!state.isFlipping || !isPackRead || answer.statusCode !== 200) {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
          return;
        }
        const parts: Buffer[] = [];
        answer.on('data', (part: Buffer) => parts.push(part));
        answer.on('end', () => {
          const body = Buffer.concat(parts);
          body[Math.floor(body.length / 2)]! ^= 0x01;
          outgoing.writeHead(200, answer.headers);
          outgoing.end(body);
        });
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    get isFlipping() {
      return state.isFlipping;
    },
    set isFlipping(value: boolean) {
      state.isFlipping = value;
    },
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}

describe('S3ChunkRepository against a real S3 API (rclone serve s3)', { timeout: 120_000 }, () => {
  let server: S3TestServer;
  let client: S3Client;
  const repositoryFor = (tenantId: string) =>
    chunkRepositoryFor({ id: 'system-s3', kind: 'S3', config: server.config() }, BUCKET, tenantId, {
      s3: LOOPBACK,
    }) as S3ChunkRepository;

  beforeAll(async () => {
    server = await startS3Server({ buckets: [BUCKET] });
    client = plainClient(server);
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await server?.close();
  }, 30_000);

  it('packs 300 MiB of chunks into a few dozen verified PUTs, reads every chunk back and reassembles the bytes', {
    timeout: 300_000,
  }, async () => {
    const tenantId = randomUUID();
    const repository = repositoryFor(tenantId);
    const bytes = seededBytes(300 * MIB, 11);
    const writeStart = performance.now();
    const refs = await putBytes(repository, bytes);
    const stored = await repository.flush();
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const writes = { ...repository.requests };

    expect(stored.map((chunk) => chunk.hash)).toEqual(refs.map(([hash]) => hash));
    expect(stored.every((chunk) => chunk.written && /^[0-9a-f]{64}@\d+$/.test(chunk.location ?? ''))).toBe(true);
    // ~1.15 MiB chunks in 16 MiB packs: 19 packs for 300 MiB, each one PUT and one verifying GET.
    expect(writes.PUT).toBeGreaterThanOrEqual(10);
    expect(writes.PUT).toBeLessThanOrEqual(24);
    expect(writes.GET).toBe(writes.PUT);
    expect(await filesIn(server, `tenants/${tenantId}/packs/`)).toHaveLength(writes.PUT);
    const packs = new Set(stored.map((chunk) => chunk.location!.split('@')[0]));
    expect(packs.size).toBe(writes.PUT);

    const manifest = manifestOf(tenantId, 'vm/disk0', 1, [entryOf('data', bytes, refs)]);
    const committed = await repository.commitManifest(manifest, indexOf(byHash(stored)));
    expect(committed.written).toBe(true);
    const { manifest: read } = await repository.readManifest('vm/disk0', 1, { expectedId: committed.id });
    const readStart = performance.now();
    const getsBefore = repository.requests.GET;
    // reassemble gets every chunk (each re-hashed by the repository) and checks the whole entry's sha256.
    expect(await sha256Of(reassemble(read, storeOf(repository, byHash(stored))))).toBe(sha(bytes));
    const readSeconds = (performance.now() - readStart) / 1000;
    expect(repository.requests.GET - getsBefore).toBe(refs.length);

    const perGiB = (count: number) => ((count * 1024) / 300).toFixed(0);
    console.log(
      `S3 packs: ${refs.length} chunks of 300 MiB in ${writes.PUT} packs: ${perGiB(writes.PUT)} PUTs and ` +
        `${perGiB(writes.GET)} GETs per GiB to write (verified); write ${(300 / writeSeconds).toFixed(0)} MiB/s ` +
        `(chunking included), read ${(300 / readSeconds).toFixed(0)} MiB/s (${refs.length} ranged GETs, ` +
        `${repository.requests.LIST} LISTs in all)`,
    );
  });

  it('commits a manifest only over stored chunks, never replaces it, and reads it back checked', async () => {
    const tenantId = randomUUID();
    const repository = repositoryFor(tenantId);
    const first = seededBytes(3 * MIB, 21);
    const second = seededBytes(2 * MIB, 22);
    const firstRefs = await putBytes(repository, first);
    const stored = byHash(await repository.flush());
    // The second file's chunks are put but not flushed: they are not durable, so nothing may name them.
    const secondRefs = await putBytes(repository, second);
    const manifest = manifestOf(tenantId, 'home/alice', 1, [
      entryOf('a.bin', first, firstRefs),
      entryOf('b.bin', second, secondRefs),
    ]);
    // The index claims everything is there; the storage check still refuses.
    await expect(repository.commitManifest(manifest, nothingMissing)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { chunk: secondRefs[0]![0], missingChunks: secondRefs.length },
    });
    // The storage holds them all but the index does not know them: refused too.
    for (const chunk of await repository.flush()) stored.set(chunk.hash, chunk);
    await expect(
      repository.commitManifest(manifest, async (hashes) => hashes.filter((hash) => hash === secondRefs.at(-1)![0])),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { chunk: secondRefs.at(-1)![0] } });
    expect(await keysUnder(client, `tenants/${tenantId}/manifests/`)).toEqual([]);

    const committed = await repository.commitManifest(manifest, indexOf(stored));
    const key = `tenants/${tenantId}/manifests/home%2Falice/1.json`;
    expect(committed).toEqual({
      id: sha(Buffer.from(serializeManifest(manifest))),
      file: `${BUCKET}/${key}`,
      written: true,
    });
    expect((await objectBytes(client, key)).toString()).toBe(serializeManifest(manifest));
    expect(await repository.commitManifest(manifest, indexOf(stored))).toMatchObject({ written: false });
    const other = manifestOf(tenantId, 'home/alice', 1, [entryOf('a.bin', first, firstRefs)]);
    await expect(repository.commitManifest(other, indexOf(stored))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await objectBytes(client, key)).toString()).toBe(serializeManifest(manifest));

    expect(await repository.readManifest('home/alice', 1, { expectedId: committed.id })).toEqual({
      manifest,
      id: committed.id,
    });
    await expect(repository.readManifest('home/alice', 2)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // The file on the server changed: against the recorded id, and in ways the document itself shows.
    const changed = serializeManifest({ ...manifest, createdAt: '2025-03-02T00:00:00.000Z' });
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: changed }));
    await expect(repository.readManifest('home/alice', 1, { expectedId: committed.id })).rejects.toBeInstanceOf(
      ChecksumMismatchError,
    );
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: ` ${serializeManifest(manifest)}` }));
    await expect(repository.readManifest('home/alice', 1)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('canonical'),
    });
    const elsewhere = `tenants/${tenantId}/manifests/home%2Falice/2.json`;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: elsewhere, Body: serializeManifest(manifest) }));
    await expect(repository.readManifest('home/alice', 2)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('not what its place says'),
    });
  });

  it('names a corrupted chunk of a pack, still reads the others, and repairs it into a new pack', async () => {
    const tenantId = randomUUID();
    const repository = repositoryFor(tenantId);
    const bytes = seededBytes(4 * MIB, 31);
    await putBytes(repository, bytes);
    const stored = await repository.flush();
    expect(stored.length).toBeGreaterThanOrEqual(3);
    const [packFile] = await filesIn(server, `tenants/${tenantId}/packs/`);
    const damaged = stored[1]!;
    const offset = Number(damaged.location!.split('@')[1]);
    const handle = await open(path.join(server.dir, BUCKET, packFile!), 'r+');
    try {
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, offset + 1000);
      await handle.write(Buffer.from([byte[0]! ^ 0x01]), 0, 1, offset + 1000);
    } finally {
      await handle.close();
    }

    const failure = await repository.get(damaged).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ChunkCorruptError);
    expect(failure).toMatchObject({ hash: damaged.hash });
    for (const chunk of stored.filter((candidate) => candidate !== damaged)) {
      expect(sha(await repository.get(chunk))).toBe(chunk.hash);
    }

    // Repair: delete the bad copy (a tombstone: the pack keeps its other chunks), put the good bytes again.
    await repository.delete(damaged);
    expect(await repository.has(damaged)).toBe(false);
    await expect(repository.get(damaged)).rejects.toBeInstanceOf(ChunkMissingError);
    expect(await repository.has(stored[0]!)).toBe(true);
    // One pack from offset 0: the chunk's offset in the pack is its offset in the stream.
    const good = bytes.subarray(offset, offset + damaged.length);
    expect(sha(good)).toBe(damaged.hash);
    await repository.put(damaged.hash, good);
    const [repaired] = await repository.flush();
    expect(repaired).toMatchObject({ hash: damaged.hash, written: true });
    expect(repaired!.location!.split('@')[0]).not.toBe(damaged.location!.split('@')[0]);
    expect(sha(await repository.get(repaired!))).toBe(damaged.hash);
    // A fresh instance, from the storage alone, finds only the good copy.
    const fresh = repositoryFor(tenantId);
    expect(sha(await fresh.get({ hash: damaged.hash, length: damaged.length }))).toBe(damaged.hash);
    expect(await fresh.has(damaged)).toBe(false);

    // Once every chunk of the old pack is deleted, the pack and its tombstones go.
    for (const chunk of stored.filter((candidate) => candidate !== damaged)) await repository.delete(chunk);
    expect(await filesIn(server, `tenants/${tenantId}/`)).toEqual([
      repository.packKey(repaired!.location!.split('@')[0]!),
    ]);
  });

  it('refuses bytes that do not hash to their id and stores nothing', async () => {
    const tenantId = randomUUID();
    const repository = repositoryFor(tenantId);
    const bytes = seededBytes(512 * 1024, 41);
    const otherId = sha(seededBytes(512 * 1024, 42));
    await expect(repository.put(otherId, bytes)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { chunk: otherId },
    });
    await expect(repository.put('not-a-hash', bytes)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await repository.flush()).toEqual([]);
    expect(repository.requests.PUT).toBe(0);
    expect(await filesIn(server, `tenants/${tenantId}/`)).toEqual([]);
    expect(await repository.has({ hash: otherId, length: bytes.length })).toBe(false);
  });

  it('fails a flush whose pack reads back other than it was sent, and leaves no pack behind', async () => {
    const proxy = await startFlippingProxy(server.endpoint);
    try {
      const tenantId = randomUUID();
      const repository = chunkRepositoryFor(
        { id: 'system-s3', kind: 'S3', config: { ...server.config(), endpoint: proxy.endpoint } },
        BUCKET,
        tenantId,
        { s3: LOOPBACK },
      ) as S3ChunkRepository;
      const bytes = seededBytes(3 * MIB, 71);
      proxy.isFlipping = true;
      await putBytes(repository, bytes);
      await expect(repository.flush()).rejects.toBeInstanceOf(ChecksumMismatchError);
      expect(repository.requests.PUT).toBe(1);
      expect(await filesIn(server, `tenants/${tenantId}/`)).toEqual([]);
      // Nothing put before the failure is returned later: the caller puts it again.
      expect(await repository.flush()).toEqual([]);
      proxy.isFlipping = false;
      const refs = await putBytes(repository, bytes);
      expect((await repository.flush()).map((chunk) => chunk.hash)).toEqual(refs.map(([hash]) => hash));
      expect(await filesIn(server, `tenants/${tenantId}/packs/`)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('restores a version from the storage alone: packs listed, their trailing indexes parsed, no database', async () => {
    const tenantId = randomUUID();
    const repository = repositoryFor(tenantId);
    const files = { 'docs/report.bin': seededBytes(6 * MIB + 123, 51), 'photos/cat.jpg': seededBytes(700_000, 52) };
    const entries: ManifestEntry[] = [];
    for (const [entryPath, bytes] of Object.entries(files)) {
      entries.push(entryOf(entryPath, bytes, await putBytes(repository, bytes)));
    }
    const stored = byHash(await repository.flush());
    await repository.commitManifest(manifestOf(tenantId, 'home/bob', 3, entries), indexOf(stored));

    // From here on only a plain S3 client and the documented format (docs/data-layout.md, "S3").
    const prefix = `tenants/${tenantId}/`;
    const where = new Map<string, { key: string; offset: number; length: number }>();
    for (const key of await keysUnder(client, `${prefix}packs/`)) {
      const pack = await objectBytes(client, key);
      expect(sha(pack)).toBe(key.split('/').pop());
      const trailer = pack.subarray(pack.length - 93).toString();
      const match = /^echelon\.pack\/1 (\d{12}) ([0-9a-f]{64})\n$/.exec(trailer);
      expect(match).not.toBeNull();
      const indexLength = Number(match![1]);
      const index = pack.subarray(pack.length - 93 - indexLength, pack.length - 93);
      expect(sha(index)).toBe(match![2]);
      for (const line of index.toString().trim().split('\n')) {
        const [hash, offset, length] = line.split(' ');
        where.set(hash!, { key, offset: Number(offset), length: Number(length) });
      }
    }
    const manifestKeys = await keysUnder(client, `${prefix}manifests/`);
    expect(manifestKeys).toEqual([`${prefix}manifests/home%2Fbob/3.json`]);
    const manifest = JSON.parse((await objectBytes(client, manifestKeys[0]!)).toString()) as Manifest;
    for (const entry of manifest.entries) {
      const parts: Buffer[] = [];
      for (const [hash, length] of entry.chunks) {
        const at = where.get(hash)!;
        expect(at.length).toBe(length);
        const part = await objectBytes(client, at.key, `bytes=${at.offset}-${at.offset + at.length - 1}`);
        expect(sha(part)).toBe(hash);
        parts.push(part);
      }
      const restored = Buffer.concat(parts);
      expect(sha(restored)).toBe(entry.sha256);
      expect(restored.equals(files[entry.path as keyof typeof files])).toBe(true);
    }

    // A repository with no locations (nothing from a database) finds the chunks through the same indexes.
    const fresh = repositoryFor(tenantId);
    const { manifest: read } = await fresh.readManifest('home/bob', 3);
    expect(await sha256Of(reassemble(read, storeOf(fresh, new Map()), 'docs/report.bin'))).toBe(
      sha(files['docs/report.bin']),
    );
  });

  it("keeps tenants apart on one bucket: one tenant's chunks, packs and manifests are nothing to another", async () => {
    const alice = randomUUID();
    const bob = randomUUID();
    const aliceRepository = repositoryFor(alice);
    const bobRepository = repositoryFor(bob);
    const bytes = seededBytes(2 * MIB, 61);
    const refs = await putBytes(aliceRepository, bytes);
    const aliceStored = await aliceRepository.flush();

    for (const chunk of aliceStored) {
      expect(await bobRepository.has(chunk)).toBe(false);
      expect(await bobRepository.has({ hash: chunk.hash, length: chunk.length })).toBe(false);
      await expect(bobRepository.get(chunk)).rejects.toBeInstanceOf(ChunkMissingError);
      await expect(bobRepository.get({ hash: chunk.hash, length: chunk.length })).rejects.toBeInstanceOf(
        ChunkMissingError,
      );
    }
    await expect(
      bobRepository.commitManifest(manifestOf(bob, 'shared', 1, [entryOf('data', bytes, refs)]), nothingMissing),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { chunk: refs[0]![0] } });
    await expect(
      bobRepository.commitManifest(manifestOf(alice, 'shared', 1, [entryOf('data', bytes, refs)]), nothingMissing),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'tenantId' } });
    // Deleting through bob's repository touches nothing of alice's.
    for (const chunk of aliceStored) await bobRepository.delete(chunk);
    for (const chunk of aliceStored) expect(await aliceRepository.has(chunk)).toBe(true);

    // The same bytes stored by bob are his own pack under his own prefix.
    await putBytes(bobRepository, bytes);
    const bobStored = await bobRepository.flush();
    expect(bobStored.every((chunk) => chunk.written)).toBe(true);
    expect(await filesIn(server, `tenants/${bob}/packs/`)).toHaveLength(1);
    expect(await filesIn(server, `tenants/${alice}/packs/`)).toHaveLength(1);
    expect(await filesIn(server, `tenants/${bob}/tombstones/`)).toEqual([]);
  });
});

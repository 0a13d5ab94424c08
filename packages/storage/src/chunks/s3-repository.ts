import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DomainError, isUuid, validateDatasetKey } from '@echelon/domain';
import { ChecksumMismatchError } from '../adapter.js';
import type { S3Storage } from '../s3.js';
import { ChunkCorruptError, ChunkMissingError, requireChunkHash, sha256Hex } from './chunk-store.js';
import { MAX_CHUNK_SIZE } from './chunker.js';
import {
  type CommittedManifest,
  chunkHashesOf,
  InvalidManifestError,
  type Manifest,
  serializeManifest,
  validateManifest,
} from './manifest.js';
import type { ChunkAddress, ChunkRepository, StoredChunk } from './repository.js';
import {
  PACK_TRAILER_BYTES,
  PackBuilder,
  type PackEntry,
  PackFormatError,
  packLocation,
  parsePackIndex,
  parsePackLocation,
  parsePackTrailer,
  type SealedPack,
} from './s3-pack.js';

/** The requests a repository sent (an SDK retry of one request counts once), and the bytes it moved. */
export interface S3RequestCounts {
  PUT: number;
  GET: number;
  HEAD: number;
  LIST: number;
  DELETE: number;
  bytesSent: number;
  bytesReceived: number;
}

type RequestKind = 'PUT' | 'GET' | 'HEAD' | 'LIST' | 'DELETE';

/** A live copy of a chunk that a pack's index lists. */
interface CataloguedCopy {
  location: string;
  length: number;
}

/** The tail fetched to read a pack's index: the trailer and, for all but huge indexes, the whole index. */
const TAIL_BYTES = 64 * 1024;
/** Pack tails read at once when the catalogue is built. */
const CATALOGUE_CONCURRENCY = 8;
const PACK_KEY = /\/packs\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

interface S3ErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}
const statusOf = (error: unknown): number | undefined => (error as S3ErrorShape | undefined)?.$metadata?.httpStatusCode;
const isNotFound = (error: unknown): boolean =>
  statusOf(error) === 404 ||
  (error as S3ErrorShape | undefined)?.name === 'NoSuchKey' ||
  (error as S3ErrorShape | undefined)?.name === 'NotFound';
const isPreconditionFailed = (error: unknown): boolean =>
  statusOf(error) === 412 || (error as S3ErrorShape | undefined)?.name === 'PreconditionFailed';
const isInvalidRange = (error: unknown): boolean => statusOf(error) === 416;

async function bodyBytes(output: GetObjectCommandOutput): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of output.Body as Readable) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

export interface S3ChunkRepositoryLocation {
  /** The S3 storage system, whose client (address guard included) and error mapping this repository uses. */
  storage: S3Storage;
  /** The backup space: one bucket. */
  bucket: string;
  tenantId: string;
}

/**
 * One tenant's chunks and manifests in one bucket, chunks packed (docs/data-layout.md, "S3"):
 * `tenants/<tenantId>/packs/<2 hex>/<pack id>`, `tenants/<tenantId>/tombstones/<pack id>/<chunk hash>` and
 * `tenants/<tenantId>/manifests/<datasetKey, URI-encoded>/<version>.json`. Every key starts with the tenant's
 * prefix, so tenants never share a chunk or a pack.
 *
 * `put` gathers chunks into an open pack; a full pack (16 MiB) is written while the next one fills, at most one
 * write in flight; `flush` writes the rest and returns every chunk put since the last flush with its location
 * `<pack id>@<offset>`. If a pack write fails, `flush` throws and forgets every chunk put since the last flush: put
 * them again (packs that did land are harmless duplicates). Not safe for concurrent `flush` calls on one instance.
 */
export class S3ChunkRepository implements ChunkRepository {
  readonly description: string;
  readonly requests: S3RequestCounts = { PUT: 0, GET: 0, HEAD: 0, LIST: 0, DELETE: 0, bytesSent: 0, bytesReceived: 0 };
  readonly bucket: string;
  readonly tenantId: string;
  /** `tenants/<tenantId>/`: every key this repository touches starts with it. */
  readonly prefix: string;
  private readonly storage: S3Storage;
  private readonly client: S3Client;
  private open = new PackBuilder();
  /** Chunks of the open pack in put order (a chunk put twice before its pack is written appears twice). */
  private openPuts: { hash: string; length: number; written: boolean }[] = [];
  /** Durable since the last flush. */
  private durable: StoredChunk[] = [];
  /** The last pack write started; it waits for the one before, so a failure carries on to `flush`. */
  private writing: Promise<void> | undefined;
  /** Where this instance knows a live copy of a chunk is: packs it wrote, and the catalogue once loaded. */
  private readonly known = new Map<string, string>();
  private catalogue: Promise<Map<string, CataloguedCopy[]>> | undefined;
  private readonly packIndexes = new Map<string, Promise<PackEntry[] | undefined>>();
  private readonly tombstoneSets = new Map<string, Promise<Set<string>>>();

  constructor(location: S3ChunkRepositoryLocation) {
    if (!isUuid(location.tenantId)) {
      throw new DomainError('BAD_USER_INPUT', `tenant id "${location.tenantId.slice(0, 60)}" is not a UUID`, {
        field: 'tenantId',
      });
    }
    this.storage = location.storage;
    // One client construction and one address guard for every S3 use: the adapter's own client. s3.ts keeps it
    // private; element access is the type-checked way in (a rename there fails the build here).
    // biome-ignore lint/complexity/useLiteralKeys: a private member of S3Storage, see above
    this.client = location.storage['client'];
    this.bucket = location.bucket;
    this.tenantId = location.tenantId.toLowerCase();
    this.prefix = `tenants/${this.tenantId}/`;
    this.description = `${location.storage.endpoint}/${location.bucket}`;
  }

  packKey(packId: string): string {
    return `${this.prefix}packs/${packId.slice(0, 2)}/${packId}`;
  }

  private tombstonePrefix(packId: string): string {
    return `${this.prefix}tombstones/${packId}/`;
  }

  manifestKey(datasetKey: string, version: number): string {
    validateDatasetKey(datasetKey);
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new DomainError('BAD_USER_INPUT', `version ${version} is not a whole number from 1`, { field: 'version' });
    }
    return `${this.prefix}manifests/${encodeURIComponent(datasetKey)}/${version}.json`;
  }

  /** Sends one request, counted; auth and configuration refusals become STORAGE_UNAVAILABLE, as S3Storage's do. */
  private async send<T>(kind: RequestKind, request: (client: S3Client) => Promise<T>, where: string): Promise<T> {
    this.requests[kind]++;
    try {
      return await request(this.client);
    } catch (error) {
      // biome-ignore lint/complexity/useLiteralKeys: S3Storage's private error mapping, shared rather than copied
      throw this.storage['refusal'](error, where);
    }
  }

  private async getObject(key: string, range?: string): Promise<{ bytes: Buffer; total: number } | undefined> {
    try {
      const output = await this.send(
        'GET',
        (client) =>
          client.send(
            new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range === undefined ? {} : { Range: range }) }),
          ),
        `the read of ${this.bucket}/${key}`,
      );
      const bytes = await bodyBytes(output);
      this.requests.bytesReceived += bytes.length;
      const total = Number(/\/(\d+)$/.exec(output.ContentRange ?? '')?.[1] ?? bytes.length);
      return { bytes, total };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async putObject(key: string, body: Buffer, options: { ifNoneMatch?: boolean } = {}): Promise<void> {
    await this.send(
      'PUT',
      (client) =>
        client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentLength: body.length,
            ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          }),
        ),
      `the write of ${this.bucket}/${key}`,
    );
    this.requests.bytesSent += body.length;
  }

  private async deleteObject(key: string): Promise<void> {
    await this.send(
      'DELETE',
      (client) => client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
      `the removal of ${this.bucket}/${key}`,
    );
  }

  private async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.send(
        'LIST',
        (client) =>
          client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
        `the listing of ${this.bucket}/${prefix}`,
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  // ── chunks ──────────────────────────────────────────────────────────────────────────────────────────

  async put(hash: string, bytes: Uint8Array): Promise<void> {
    requireChunkHash(hash);
    if (bytes.length < 1 || bytes.length > MAX_CHUNK_SIZE) {
      throw new DomainError('BAD_USER_INPUT', `chunk ${hash} has ${bytes.length} bytes: a chunk has 1 to 4 MiB`, {
        chunk: hash,
      });
    }
    const actual = sha256Hex(bytes);
    if (actual !== hash) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `chunk ${hash} was sent with bytes that hash to ${actual}: send the chunk's own bytes`,
        { chunk: hash },
      );
    }
    if (this.open.offsetOf(hash) !== undefined) {
      this.openPuts.push({ hash, length: bytes.length, written: false });
      return;
    }
    // Dedup against what this instance knows; earlier packs are the index's to know (asking the storage would mean
    // reading every pack's index), and a chunk stored twice is only a duplicate, never wrong.
    const location = this.known.get(hash);
    if (location !== undefined) {
      this.durable.push({ hash, length: bytes.length, location, written: false });
      return;
    }
    if (!this.open.canTake(bytes.length)) await this.seal();
    this.open.add(hash, bytes);
    this.openPuts.push({ hash, length: bytes.length, written: true });
    if (this.open.isFull) await this.seal();
  }

  /** Starts writing the open pack and waits for the write before it: one write in flight while the next pack fills. */
  private async seal(): Promise<void> {
    const pack = this.open.seal();
    const puts = this.openPuts;
    this.open = new PackBuilder();
    this.openPuts = [];
    const previous = this.writing;
    const current = (async () => {
      await previous;
      await this.writePack(pack);
      for (const put of puts) {
        const location = packLocation(pack.id, this.offsetIn(pack, put.hash));
        this.durable.push({ ...put, location });
        this.known.set(put.hash, location);
      }
    })();
    // A failure is reported by the next seal or by flush, whichever awaits it first.
    current.catch(() => undefined);
    this.writing = current;
    await previous;
  }

  private offsetIn(pack: SealedPack, hash: string): number {
    return pack.entries.find((entry) => entry.hash === hash)!.offset;
  }

  /**
   * One PUT, then a GET of the whole pack re-hashed against its id. Why a read-back rather than a checksum header:
   * S3-compatible stores differ in what they check. rclone's S3 server, for one, stores and echoes back an
   * `x-amz-checksum-sha256` that does not match the body, so an echoed checksum proves nothing there; the
   * read-back checks the bytes a restore will get, on any store, for one GET per 16 MiB (the pack is still in
   * memory, so nothing is re-read from the source). A pack that did not land right is deleted and the write fails.
   */
  private async writePack(pack: SealedPack): Promise<void> {
    const key = this.packKey(pack.id);
    await this.putObject(key, pack.bytes);
    const landed = await this.getObject(key);
    const actual = landed === undefined ? 'nothing' : `${sha256Hex(landed.bytes)} (${landed.bytes.length} bytes)`;
    if (landed === undefined || landed.bytes.length !== pack.bytes.length || sha256Hex(landed.bytes) !== pack.id) {
      await this.deleteObject(key).catch(() => undefined);
      throw new ChecksumMismatchError(`${pack.id} (${pack.bytes.length} bytes)`, actual, `${this.bucket}/${key}`);
    }
    this.packIndexes.set(pack.id, Promise.resolve(pack.entries));
    this.tombstoneSets.set(pack.id, Promise.resolve(new Set()));
  }

  async flush(): Promise<StoredChunk[]> {
    try {
      if (this.open.count > 0) await this.seal();
      await this.writing;
    } catch (error) {
      this.open = new PackBuilder();
      this.openPuts = [];
      this.durable = [];
      throw error;
    } finally {
      this.writing = undefined;
    }
    const done = this.durable;
    this.durable = [];
    return done;
  }

  async get(chunk: ChunkAddress): Promise<Buffer> {
    requireChunkHash(chunk.hash);
    if (chunk.location !== undefined && chunk.location !== null) return this.getAt(chunk, chunk.location);
    // No location (not expected: the index records one): every live copy the packs' indexes name, until one reads.
    const copies = (await this.loadCatalogue()).get(chunk.hash) ?? [];
    let failure: unknown = new ChunkMissingError(chunk.hash, this.description);
    for (const copy of copies) {
      try {
        return await this.getAt({ hash: chunk.hash, length: copy.length }, copy.location);
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  }

  /** A ranged GET of the chunk's bytes in its pack, re-hashed. */
  private async getAt(chunk: ChunkAddress, location: string): Promise<Buffer> {
    const { packId, offset } = parsePackLocation(location);
    const key = this.packKey(packId);
    const where = `${this.bucket}/${key}@${offset}`;
    if ((await this.tombstonesOf(packId)).has(chunk.hash)) throw new ChunkMissingError(chunk.hash, where);
    const length = Math.max(1, chunk.length);
    let landed: { bytes: Buffer } | undefined;
    try {
      landed = await this.getObject(key, `bytes=${offset}-${offset + length - 1}`);
    } catch (error) {
      // The pack is shorter than the index said: what is there is not the chunk.
      if (isInvalidRange(error)) throw new ChunkCorruptError(chunk.hash, sha256Hex(Buffer.alloc(0)), where);
      throw error;
    }
    if (landed === undefined) throw new ChunkMissingError(chunk.hash, where);
    const actual = sha256Hex(landed.bytes);
    if (actual !== chunk.hash) throw new ChunkCorruptError(chunk.hash, actual, where);
    return landed.bytes;
  }

  /** Whether the pack named by the location lists the chunk there and it is not deleted (not verified: `get` is). */
  async has(chunk: ChunkAddress): Promise<boolean> {
    requireChunkHash(chunk.hash);
    if (chunk.location === undefined || chunk.location === null) {
      return ((await this.loadCatalogue()).get(chunk.hash) ?? []).length > 0;
    }
    return this.isLiveAt(chunk.hash, chunk.location, chunk.length);
  }

  private async isLiveAt(hash: string, location: string, length?: number): Promise<boolean> {
    const { packId, offset } = parsePackLocation(location);
    const entries = await this.packIndexOf(packId);
    const listed = entries?.some(
      (entry) => entry.hash === hash && entry.offset === offset && (length === undefined || entry.length === length),
    );
    return listed === true && !(await this.tombstonesOf(packId)).has(hash);
  }

  /**
   * Deleting a chunk of a pack writes a tombstone, `tombstones/<pack id>/<chunk hash>` (empty): packs are never
   * rewritten, so every other chunk keeps its location. `has` and `get` honour tombstones; once every chunk of a
   * pack is tombstoned the pack is deleted, then its tombstones. A repair deletes the bad copy and puts the good
   * bytes again: they go into a new pack, and the index records the new location.
   */
  async delete(chunk: ChunkAddress): Promise<void> {
    requireChunkHash(chunk.hash);
    const locations =
      chunk.location === undefined || chunk.location === null
        ? ((await this.loadCatalogue()).get(chunk.hash) ?? []).map((copy) => copy.location)
        : [chunk.location];
    for (const location of locations) {
      const { packId } = parsePackLocation(location);
      const entries = await this.packIndexOf(packId);
      if (entries === undefined || !entries.some((entry) => entry.hash === chunk.hash)) continue;
      await this.putObject(`${this.tombstonePrefix(packId)}${chunk.hash}`, Buffer.alloc(0));
      // Re-listed rather than taken from a cache, so a pack whose last chunks several writers delete is reclaimed.
      const tombstones = this.listTombstones(packId);
      this.tombstoneSets.set(packId, tombstones);
      const deleted = await tombstones;
      if (entries.every((entry) => deleted.has(entry.hash))) {
        await this.deleteObject(this.packKey(packId));
        for (const hash of deleted) await this.deleteObject(`${this.tombstonePrefix(packId)}${hash}`);
      }
    }
    if (this.known.has(chunk.hash) && (chunk.location == null || this.known.get(chunk.hash) === chunk.location)) {
      this.known.delete(chunk.hash);
    }
    const catalogued = await this.catalogue;
    const rest = catalogued?.get(chunk.hash)?.filter((copy) => !locations.includes(copy.location));
    if (catalogued !== undefined) catalogued.set(chunk.hash, rest ?? []);
  }

  private async listTombstones(packId: string): Promise<Set<string>> {
    const prefix = this.tombstonePrefix(packId);
    return new Set((await this.listKeys(prefix)).map((key) => key.slice(prefix.length)));
  }

  private tombstonesOf(packId: string): Promise<Set<string>> {
    let found = this.tombstoneSets.get(packId);
    if (found === undefined) {
      found = this.listTombstones(packId);
      found.catch(() => this.tombstoneSets.delete(packId));
      this.tombstoneSets.set(packId, found);
    }
    return found;
  }

  /** A pack's index, read from its tail (undefined: no such pack); cached, packs never change. */
  private packIndexOf(packId: string): Promise<PackEntry[] | undefined> {
    let found = this.packIndexes.get(packId);
    if (found === undefined) {
      found = this.readPackIndex(packId);
      found.catch(() => this.packIndexes.delete(packId));
      this.packIndexes.set(packId, found);
    }
    return found;
  }

  private async readPackIndex(packId: string): Promise<PackEntry[] | undefined> {
    const key = this.packKey(packId);
    const where = `${this.bucket}/${key}`;
    const tail = await this.getObject(key, `bytes=-${TAIL_BYTES}`);
    if (tail === undefined) return undefined;
    if (tail.bytes.length < PACK_TRAILER_BYTES) throw new PackFormatError(where, `it has only ${tail.total} bytes`);
    const { indexLength, indexSha256 } = parsePackTrailer(
      tail.bytes.subarray(tail.bytes.length - PACK_TRAILER_BYTES),
      tail.total,
      where,
    );
    let index: Buffer;
    if (indexLength + PACK_TRAILER_BYTES <= tail.bytes.length) {
      const end = tail.bytes.length - PACK_TRAILER_BYTES;
      index = tail.bytes.subarray(end - indexLength, end);
    } else {
      const start = tail.total - PACK_TRAILER_BYTES - indexLength;
      const read = await this.getObject(key, `bytes=${start}-${start + indexLength - 1}`);
      if (read === undefined) return undefined;
      index = read.bytes;
    }
    return parsePackIndex(index, indexSha256, tail.total, where);
  }

  /**
   * Every live chunk copy the tenant's packs hold, from the storage alone: one LIST per 1,000 packs, one ranged
   * GET per pack tail, one LIST of the tombstones. Loaded once per instance, only when a question cannot be
   * answered from a location or from what this instance wrote. A pack whose tail does not parse is left out (its
   * chunks count as missing, which is the safe answer).
   */
  private loadCatalogue(): Promise<Map<string, CataloguedCopy[]>> {
    if (this.catalogue === undefined) {
      this.catalogue = this.readCatalogue();
      this.catalogue.catch(() => {
        this.catalogue = undefined;
      });
    }
    return this.catalogue;
  }

  private async readCatalogue(): Promise<Map<string, CataloguedCopy[]>> {
    const packIds = (await this.listKeys(`${this.prefix}packs/`))
      .map((key) => PACK_KEY.exec(key)?.[2])
      .filter((id): id is string => id !== undefined);
    const tombstones = new Set(
      (await this.listKeys(`${this.prefix}tombstones/`)).map((key) => key.slice(`${this.prefix}tombstones/`.length)),
    );
    const catalogue = new Map<string, CataloguedCopy[]>();
    let next = 0;
    const worker = async () => {
      while (next < packIds.length) {
        const packId = packIds[next++]!;
        const entries = await this.packIndexOf(packId).catch((error: unknown) => {
          if (error instanceof PackFormatError) return undefined;
          throw error;
        });
        for (const entry of entries ?? []) {
          if (tombstones.has(`${packId}/${entry.hash}`)) continue;
          const list = catalogue.get(entry.hash) ?? [];
          list.push({ location: packLocation(packId, entry.offset), length: entry.length });
          catalogue.set(entry.hash, list);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CATALOGUE_CONCURRENCY, packIds.length) }, worker));
    for (const [hash, copies] of catalogue) if (!this.known.has(hash)) this.known.set(hash, copies[0]!.location);
    return catalogue;
  }

  /** The hashes of `hashes` with no live copy on storage, first occurrences in order, each once. */
  async missingOnStorage(hashes: readonly string[]): Promise<string[]> {
    const unique = [...new Set(hashes)];
    for (const hash of unique) requireChunkHash(hash);
    const unknown = unique.filter((hash) => !this.known.has(hash));
    if (unknown.length === 0) return [];
    const catalogue = await this.loadCatalogue();
    return unknown.filter((hash) => (catalogue.get(hash) ?? []).length === 0);
  }

  // ── manifests ───────────────────────────────────────────────────────────────────────────────────────

  /**
   * Commits a version: every chunk it names must be in the index (`missing`) and on storage (written by this
   * instance, or listed by a pack's index and not deleted), else BAD_USER_INPUT naming the first that is not.
   * A manifest is never replaced. The PUT carries `If-None-Match: *`, which AWS S3 and most stores honour, but
   * some ignore it (rclone's S3 server overwrites), so the key is read first and read back after: an existing
   * manifest is compared byte for byte (the same: a no-op; another: CONFLICT). Two writers that both find the key
   * free may both PUT; that race is safe because every replica commits the manifest the upload's record
   * determines, and identical manifests are byte-identical (canonical form), so the later PUT writes the same bytes.
   * A different manifest for one version could only come from a bug, and the read-back then reports CONFLICT to
   * whichever writer lost.
   */
  async commitManifest(
    manifest: Manifest,
    missing: (hashes: readonly string[]) => Promise<string[]>,
  ): Promise<CommittedManifest> {
    const text = serializeManifest(manifest);
    if (manifest.tenantId.toLowerCase() !== this.tenantId) {
      throw new DomainError('BAD_USER_INPUT', `manifest of tenant ${manifest.tenantId} cannot go to another tenant`, {
        field: 'tenantId',
      });
    }
    const hashes = chunkHashesOf(manifest);
    const unindexed = new Set(await missing(hashes));
    const absentHere = new Set(await this.missingOnStorage(hashes));
    const absent = hashes.filter((hash) => unindexed.has(hash) || absentHere.has(hash));
    if (absent.length > 0) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `manifest names chunk ${absent[0]} (and ${absent.length - 1} more) that the tenant has not stored: upload them first`,
        { chunk: absent[0], missingChunks: absent.length },
      );
    }
    const key = this.manifestKey(manifest.datasetKey, manifest.version);
    const file = `${this.bucket}/${key}`;
    const id = sha256Hex(Buffer.from(text));
    const compare = (existing: Buffer, written: boolean): CommittedManifest => {
      if (existing.toString('utf8') !== text) {
        throw new DomainError(
          'CONFLICT',
          `version ${manifest.version} of ${manifest.datasetKey} is already committed with manifest ${sha256Hex(existing)}`,
          { file },
        );
      }
      return { id, file, written };
    };
    const before = await this.getObject(key);
    if (before !== undefined) return compare(before.bytes, false);
    let isWritten = true;
    try {
      await this.putObject(key, Buffer.from(text), { ifNoneMatch: true });
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
      isWritten = false;
    }
    const after = await this.getObject(key);
    if (after === undefined) throw new Error(`${file} is not there right after it was written`);
    return compare(after.bytes, isWritten);
  }

  /**
   * A committed manifest, from the storage alone, checked as on FILESYSTEM: its sha256 is `expectedId` when given
   * (ChecksumMismatchError otherwise), it is valid, about the tenant, dataset and version its key says, and in
   * canonical form (InvalidManifestError otherwise).
   */
  async readManifest(
    datasetKey: string,
    version: number,
    options: { expectedId?: string } = {},
  ): Promise<{ manifest: Manifest; id: string }> {
    const key = this.manifestKey(datasetKey, version);
    const file = `${this.bucket}/${key}`;
    const found = await this.getObject(key);
    if (found === undefined) {
      throw new DomainError('NOT_FOUND', `version ${version} of ${datasetKey} has no manifest on this replica`);
    }
    const id = sha256Hex(found.bytes);
    if (options.expectedId !== undefined && options.expectedId !== id) {
      throw new ChecksumMismatchError(options.expectedId, id, file);
    }
    const text = found.bytes.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new InvalidManifestError('document', `${file} is not JSON: ${(error as Error).message}`);
    }
    const manifest = validateManifest(parsed);
    if (manifest.tenantId !== this.tenantId || manifest.datasetKey !== datasetKey || manifest.version !== version) {
      throw new InvalidManifestError(
        'document',
        `${file} describes ${manifest.tenantId}/${manifest.datasetKey} v${manifest.version}, not what its place says`,
      );
    }
    if (serializeManifest(manifest) !== text) {
      throw new InvalidManifestError(
        'document',
        `${file} is not in canonical form: it was not written by commitManifest`,
      );
    }
    return { manifest, id };
  }
}

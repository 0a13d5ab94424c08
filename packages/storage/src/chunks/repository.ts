import { eachLimited } from './limited.js';
import { syncFileSystem } from './syncfs.js';
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DomainError } from '@echelon/domain';
import {
  type ChunkStore,
  FilesystemChunkStore,
  sha256Hex,
  syncDirectory,
  type TenantSpaceLocation,
} from './chunk-store.js';
import {
  type CommittedManifest,
  chunkHashesOf,
  type Manifest,
  buildManifest,
  type ManifestEntry,
  readManifest,
  writeManifest,
} from './manifest.js';

/** A chunk as the index records it: `location` says where inside the space when the store packs chunks. */
export interface ChunkAddress {
  hash: string;
  length: number;
  /** Opaque to everyone but the repository that returned it (S3 packs: "<pack>@<offset>"); null: one file per chunk. */
  location?: string | null;
}

/** A chunk now durable in the repository. */
export interface StoredChunk {
  hash: string;
  length: number;
  location: string | null;
  /** False when the chunk was there already: nothing was written, so no bytes count against capacity. */
  written: boolean;
}

/**
 * One tenant's chunks and manifests in one backup space, on any kind of storage (docs/data-layout.md). Chunks are
 * addressed by their sha256 and verified both ways: `put` refuses bytes that do not hash to their id (BAD_USER_INPUT,
 * nothing stored) and checks that what it wrote landed whole (S3 reads each pack back over the wire; a local file's
 * size is checked, since reading it back would only read the page cache); `get` re-hashes (ChunkCorruptError,
 * ChunkMissingError), and the scrub re-reads every chunk on its schedule.
 *
 * `put` may buffer (S3 packs several chunks into one object): a chunk is durable only once a `flush` returned it.
 * Callers record in the index only what `flush` returned, so the index never names a chunk that is not there.
 */
export interface ChunkRepository {
  /** "<system>/<space>" or the like, for messages. */
  readonly description: string;
  /**
   * `isHashed`: the caller has just hashed these very bytes to `hash` (the chunker cut them, or a verified read
   * returned them), so the id check is not done twice; that what was written landed whole is still checked.
   */
  put(hash: string, bytes: Uint8Array, options?: { isHashed?: boolean }): Promise<void>;
  /** Writes whatever `put` buffered; returns every chunk made durable since the last flush. */
  flush(): Promise<StoredChunk[]>;
  get(chunk: ChunkAddress): Promise<Buffer>;
  /** Whether the chunk is on storage (not verified: `get` verifies). */
  has(chunk: ChunkAddress): Promise<boolean>;
  delete(chunk: ChunkAddress): Promise<void>;
  /**
   * The commit point of a version on this replica: every chunk the manifest names must be present (`missing`
   * answers which are not, from the index or the storage; BAD_USER_INPUT naming the first otherwise). Committing
   * the very same manifest again is a no-op; a different one for the same version is a CONFLICT.
   */
  commitManifest(
    manifest: Manifest,
    missing: (hashes: readonly string[]) => Promise<string[]>,
  ): Promise<CommittedManifest>;
  /** A committed manifest, from the storage alone; NOT_FOUND when the version has none here. */
  readManifest(
    datasetKey: string,
    version: number,
    options?: { expectedId?: string },
  ): Promise<{ manifest: Manifest; id: string }>;
}

/** How many chunk files a flush syncs at once. */
const SYNC_CONCURRENCY = 16;
/** From this many chunks in a batch, one syncfs(2) of the file system beats an fsync per file and directory. */
const SYNCFS_FROM_CHUNKS = 8;

/**
 * The FILESYSTEM repository: one file per chunk, manifests as files (the layout of docs/data-layout.md). `put`
 * writes each chunk to a temporary file (puts may run concurrently, and the disk is fastest when a few do); `flush` makes the batch
 * durable at once — every file fsynced (in parallel, so the disk commits them together instead of one journal
 * commit per chunk), linked under its name, each directory touched fsynced once — which is what makes small
 * files fast. Until `flush` returns, nothing of the batch is named: a crash leaves only temporaries.
 */
export class FilesystemChunkRepository implements ChunkRepository {
  readonly description: string;
  private readonly store: FilesystemChunkStore;
  private readonly partialDirectory: string;
  private pending: StoredChunk[] = [];
  private staged: { hash: string; length: number; temporary: string; target: string }[] = [];
  private readonly stagedHashes = new Set<string>();
  /** The temporaries' directory, made (and cleared of a crashed writer's leftovers) by the first put. */
  private prepared: Promise<void> | undefined;

  constructor(readonly location: TenantSpaceLocation) {
    this.store = new FilesystemChunkStore(location);
    this.description = `${location.root}/${location.space}`;
    this.partialDirectory = path.join(this.store.directory, '.partial');
  }

  async put(hash: string, bytes: Uint8Array, options: { isHashed?: boolean } = {}): Promise<void> {
    const target = this.store.chunkPath(hash);
    const actual = options.isHashed === true ? hash : sha256Hex(bytes);
    if (actual !== hash) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `chunk ${hash} was sent with bytes that hash to ${actual}: send the chunk's own bytes`,
        { chunk: hash },
      );
    }
    // Claimed before the first await: concurrent puts of one chunk write it once.
    if (this.stagedHashes.has(hash)) return;
    this.stagedHashes.add(hash);
    try {
      if (await this.store.has(hash)) {
        this.stagedHashes.delete(hash);
        this.pending.push({ hash, length: bytes.length, location: null, written: false });
        return;
      }
      this.prepared ??= this.prepare();
      await this.prepared.catch((error: unknown) => {
        this.prepared = undefined;
        throw error;
      });
      const temporary = path.join(this.partialDirectory, `${hash}.${randomUUID()}`);
      const handle = await open(temporary, 'wx');
      try {
        await handle.writeFile(bytes);
        // The bytes were hashed against the id before this write (here or by the caller that says so); what is
        // left to check is that all of them landed. Reading them back would read the page cache, the very pages
        // just written: disk faults are found by reading the chunk after it left the cache (every read verifies,
        // and the scrub re-reads every chunk on its schedule).
        const { size } = await handle.stat();
        if (size !== bytes.length) {
          throw new Error(`chunk ${hash}: ${temporary} holds ${size} of its ${bytes.length} bytes after the write`);
        }
      } catch (error) {
        await handle.close();
        await rm(temporary, { force: true });
        throw error;
      }
      await handle.close();
      this.staged.push({ hash, length: bytes.length, temporary, target });
    } catch (error) {
      this.stagedHashes.delete(hash);
      throw error;
    }
  }

  private async prepare(): Promise<void> {
    await mkdir(this.partialDirectory, { recursive: true });
    await this.store.removeStaleTemporaries();
  }

  async flush(): Promise<StoredChunk[]> {
    const staged = this.staged;
    this.staged = [];
    this.stagedHashes.clear();
    try {
      // Many small chunks: one syncfs for the data, one for the names (see below), instead of one fsync each.
      const isBulk = staged.length >= SYNCFS_FROM_CHUNKS && (await syncFileSystem(this.partialDirectory));
      if (!isBulk) {
        await eachLimited(staged, SYNC_CONCURRENCY, async (chunk) => {
          const handle = await open(chunk.temporary, 'r+');
          try {
            await handle.sync();
          } finally {
            await handle.close();
          }
        });
      }
      const directories = new Set<string>();
      for (const chunk of staged) {
        await mkdir(path.dirname(chunk.target), { recursive: true });
        // link(2) never replaces an existing name: of two writers of one chunk exactly one names it and reports
        // it written, so the bytes a space holds are counted once.
        const isWritten = await link(chunk.temporary, chunk.target).then(
          () => true,
          async (error: NodeJS.ErrnoException) => {
            if (error.code === 'EEXIST') return false;
            if (error.code === 'EPERM' || error.code === 'ENOTSUP' || error.code === 'EOPNOTSUPP') {
              // No hard links here: same bytes under the same name, so replacing a concurrent writer's file
              // changes nothing a reader sees.
              await rename(chunk.temporary, chunk.target);
              return true;
            }
            throw error;
          },
        );
        if (isWritten) directories.add(path.dirname(chunk.target));
        this.pending.push({ hash: chunk.hash, length: chunk.length, location: null, written: isWritten });
      }
      if (!isBulk || !(await syncFileSystem(this.partialDirectory))) {
        await eachLimited([...directories], SYNC_CONCURRENCY, (directory) => syncDirectory(directory));
      }
    } finally {
      await Promise.all(staged.map((chunk) => rm(chunk.temporary, { force: true })));
    }
    const done = this.pending;
    this.pending = [];
    return done;
  }

  get(chunk: ChunkAddress): Promise<Buffer> {
    return this.store.get(chunk.hash);
  }

  has(chunk: ChunkAddress): Promise<boolean> {
    return this.store.has(chunk.hash);
  }

  delete(chunk: ChunkAddress): Promise<void> {
    return this.store.delete(chunk.hash);
  }

  async commitManifest(
    manifest: Manifest,
    missing: (hashes: readonly string[]) => Promise<string[]>,
  ): Promise<CommittedManifest> {
    // The index says what should be there; the directory is checked too (cheap here), so a manifest on storage
    // never names a chunk that is not.
    const checked: ChunkStore = {
      has: (hash) => this.store.has(hash),
      put: (hash, bytes) => this.store.put(hash, bytes),
      get: (hash) => this.store.get(hash),
      delete: (hash) => this.store.delete(hash),
      missing: async (hashes) => {
        const unindexed = new Set(await missing(hashes));
        const absent = new Set(await this.store.missing(hashes));
        return [...new Set(hashes)].filter((hash) => unindexed.has(hash) || absent.has(hash));
      },
    };
    return writeManifest(this.location, manifest, checked);
  }

  readManifest(datasetKey: string, version: number, options: { expectedId?: string } = {}) {
    return readManifest(this.location, datasetKey, version, options);
  }
}

/** The manifest of a dataset version, built from what its upload recorded: every replica commits this same one. */
export function versionManifest(input: {
  tenantId: string;
  datasetKey: string;
  version: number;
  createdAt: Date;
  contents: { kind: Manifest['kind']; entries: ManifestEntry[] };
}): Manifest {
  return buildManifest({
    tenantId: input.tenantId.toLowerCase(),
    datasetKey: input.datasetKey,
    version: input.version,
    createdAt: input.createdAt.toISOString(),
    kind: input.contents.kind,
    entries: input.contents.entries,
  });
}

/** Every [hash, length] a manifest names, each once, in first-use order. */
export function chunkRefsOf(manifest: Manifest): { hash: string; length: number }[] {
  const lengths = new Map<string, number>();
  for (const entry of manifest.entries) for (const [hash, length] of entry.chunks) lengths.set(hash, length);
  return chunkHashesOf(manifest).map((hash) => ({ hash, length: lengths.get(hash) as number }));
}

/** Bad input for a repository's factory: the system cannot hold chunks (yet). */
export function unsupportedRepository(kind: string): never {
  throw new DomainError('STORAGE_UNAVAILABLE', `${kind} storage cannot hold chunked versions`);
}

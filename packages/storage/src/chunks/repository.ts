import { DomainError } from '@echelon/domain';
import { type ChunkStore, FilesystemChunkStore, type TenantSpaceLocation } from './chunk-store.js';
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
 * nothing stored) and re-reads what it wrote; `get` re-hashes (ChunkCorruptError, ChunkMissingError).
 *
 * `put` may buffer (S3 packs several chunks into one object): a chunk is durable only once a `flush` returned it.
 * Callers record in the index only what `flush` returned, so the index never names a chunk that is not there.
 */
export interface ChunkRepository {
  /** "<system>/<space>" or the like, for messages. */
  readonly description: string;
  put(hash: string, bytes: Uint8Array): Promise<void>;
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

/** The FILESYSTEM repository: one file per chunk, manifests as files (the layout of docs/data-layout.md). */
export class FilesystemChunkRepository implements ChunkRepository {
  readonly description: string;
  private readonly store: FilesystemChunkStore;
  private pending: StoredChunk[] = [];

  constructor(readonly location: TenantSpaceLocation) {
    this.store = new FilesystemChunkStore(location);
    this.description = `${location.root}/${location.space}`;
  }

  async put(hash: string, bytes: Uint8Array): Promise<void> {
    const { written } = await this.store.put(hash, bytes);
    this.pending.push({ hash, length: bytes.length, location: null, written });
  }

  async flush(): Promise<StoredChunk[]> {
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

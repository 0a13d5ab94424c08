import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { DomainError, isUuid } from '@echelon/domain';
import { safeRelativePath } from '../filesystem.js';

const CHUNK_HASH = /^[0-9a-f]{64}$/;

/** Temporary files live in their own directory, so nothing that lists or reads chunks can mistake one for a chunk. */
const PARTIAL_DIRECTORY = '.partial';
/**
 * A temporary file this old belongs to a writer that died: a live write of one chunk takes well under a second.
 * Only stale ones are removed, so concurrent writers of one chunk never delete each other's files.
 */
export const STALE_TEMPORARY_MS = 15 * 60 * 1000;
/** How often `put` starts over when a temporary file vanished under it (a slower-than-stale writer). */
const PUT_ATTEMPTS = 3;
/** File systems without hard links answer these; there the chunk is renamed into place instead. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);
/** How many existence checks `missing` keeps in flight. */
const LOOKUP_CONCURRENCY = 32;

export const isChunkHash = (value: unknown): value is string => typeof value === 'string' && CHUNK_HASH.test(value);

/** A chunk id is 64 lowercase hex digits: anything else names no file, so no path can be built from it. */
export function requireChunkHash(value: unknown, field = 'chunk'): string {
  if (!isChunkHash(value)) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `${field} "${String(value).slice(0, 80)}" is not a chunk id: use a sha256 as 64 lowercase hex digits`,
      { field },
    );
  }
  return value;
}

/** The chunk is not in this store (for a tenant, another tenant's chunk is missing too). */
export class ChunkMissingError extends Error {
  override readonly name = 'ChunkMissingError';
  constructor(
    readonly hash: string,
    readonly where: string,
  ) {
    super(`chunk ${hash} is missing from ${where}`);
  }
}

/** The stored bytes no longer hash to the chunk's id: the copy at `where` is damaged and must be repaired. */
export class ChunkCorruptError extends Error {
  override readonly name = 'ChunkCorruptError';
  constructor(
    readonly hash: string,
    readonly actual: string,
    readonly where: string,
  ) {
    super(`chunk ${hash} is corrupt at ${where}: its bytes hash to ${actual}`);
  }
}

export interface PutResult {
  /** False when the chunk was already there: nothing was written, so no bytes count against capacity. */
  written: boolean;
}

/**
 * The chunks of one tenant in one backup space, addressed by their sha256. Stores are never shared between
 * tenants: dedup across tenants would tell one what another stores.
 */
export interface ChunkStore {
  has(hash: string): Promise<boolean>;
  /**
   * Stores `bytes` under `hash` atomically, after checking they hash to it (BAD_USER_INPUT otherwise, and nothing
   * is stored). A chunk already present is left as it is. To repair a damaged chunk, `delete` it, then `put`.
   */
  put(hash: string, bytes: Uint8Array): Promise<PutResult>;
  /** The chunk's bytes, verified: ChunkMissingError when absent, ChunkCorruptError when they do not match. */
  get(hash: string): Promise<Buffer>;
  /** The hashes of `hashes` this store lacks, first occurrences in order, without duplicates. */
  missing(hashes: readonly string[]): Promise<string[]>;
  delete(hash: string): Promise<void>;
}

export interface TenantSpaceLocation {
  /** The FILESYSTEM storage system's root directory. */
  root: string;
  /** The backup space: a relative path below the root. */
  space: string;
  tenantId: string;
}

/** `<root>/<space>/tenants/<tenantId>`: everything a tenant has in a backup space, chunks and manifests. */
export function tenantDirectory(location: TenantSpaceLocation): string {
  if (!isUuid(location.tenantId)) {
    throw new DomainError('BAD_USER_INPUT', `tenant id "${location.tenantId.slice(0, 60)}" is not a UUID`, {
      field: 'tenantId',
    });
  }
  return path.join(location.root, safeRelativePath(location.space), 'tenants', location.tenantId.toLowerCase());
}

/**
 * Chunks as files: `<root>/<space>/tenants/<tenantId>/chunks/<first 2 hex>/<hash>`. A write goes to
 * `chunks/.partial/<hash>.<random>`, is fsynced, re-read and re-hashed, and then linked under its name, so a chunk
 * file is always whole and right when it appears; a writer killed half-way leaves only a temporary file, which
 * `has` and `get` never look at and a later `put` removes once it is stale.
 */
export class FilesystemChunkStore implements ChunkStore {
  readonly directory: string;
  private readonly partialDirectory: string;

  constructor(readonly location: TenantSpaceLocation) {
    this.directory = path.join(tenantDirectory(location), 'chunks');
    this.partialDirectory = path.join(this.directory, PARTIAL_DIRECTORY);
  }

  /** Where a chunk lives; throws BAD_USER_INPUT for anything but a sha256 in hex. */
  chunkPath(hash: string): string {
    requireChunkHash(hash);
    return path.join(this.directory, hash.slice(0, 2), hash);
  }

  async has(hash: string): Promise<boolean> {
    return stat(this.chunkPath(hash)).then(
      (found) => found.isFile(),
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return false;
        throw error;
      },
    );
  }

  async put(hash: string, bytes: Uint8Array): Promise<PutResult> {
    const target = this.chunkPath(hash);
    const actual = sha256Hex(bytes);
    if (actual !== hash) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `chunk ${hash} was sent with bytes that hash to ${actual}: send the chunk's own bytes`,
        { chunk: hash },
      );
    }
    for (let attempt = 1; ; attempt++) {
      if (await this.has(hash)) return { written: false };
      await mkdir(this.partialDirectory, { recursive: true });
      await mkdir(path.dirname(target), { recursive: true });
      await this.removeStaleTemporaries();
      const isWritten = await this.writeOnce(hash, bytes, target);
      if (isWritten !== undefined) return { written: isWritten };
      if (attempt >= PUT_ATTEMPTS) {
        throw new Error(`chunk ${hash}: its temporary file vanished ${attempt} times before it could be named`);
      }
    }
  }

  /** True when this call named the chunk, false when another writer did first, undefined when the temporary vanished. */
  private async writeOnce(hash: string, bytes: Uint8Array, target: string): Promise<boolean | undefined> {
    const temporary = path.join(this.partialDirectory, `${hash}.${randomUUID()}`);
    try {
      const handle = await open(temporary, 'wx+');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
        // Read back through the same descriptor: the bytes checked are the bytes that get named.
        const landed = Buffer.allocUnsafe(bytes.length);
        const { bytesRead } = await handle.read(landed, 0, landed.length, 0);
        const landedHash = sha256Hex(landed.subarray(0, bytesRead));
        if (bytesRead !== bytes.length || landedHash !== hash) {
          throw new ChunkCorruptError(hash, landedHash, `${temporary} (just written)`);
        }
      } finally {
        await handle.close();
      }
      // link(2), unlike rename(2), never replaces an existing name: of two writers of one chunk exactly one names
      // it and reports it written, so the bytes a space holds are counted once.
      const isWritten = await link(temporary, target).then(
        () => true,
        async (error: NodeJS.ErrnoException): Promise<boolean | undefined> => {
          if (error.code === 'EEXIST') return false;
          if (error.code === 'ENOENT') return undefined;
          if (error.code !== undefined && NO_HARD_LINKS.has(error.code)) {
            // Same bytes under the same name: replacing a concurrent writer's file changes nothing a reader sees.
            await rename(temporary, target);
            return true;
          }
          throw error;
        },
      );
      if (isWritten) await syncDirectory(path.dirname(target));
      return isWritten;
    } finally {
      await rm(temporary, { force: true });
    }
  }

  async get(hash: string): Promise<Buffer> {
    const file = this.chunkPath(hash);
    const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new ChunkMissingError(hash, this.directory);
      throw error;
    });
    const actual = sha256Hex(bytes);
    if (actual !== hash) throw new ChunkCorruptError(hash, actual, file);
    return bytes;
  }

  async missing(hashes: readonly string[]): Promise<string[]> {
    const unique = [...new Set(hashes)];
    for (const hash of unique) requireChunkHash(hash);
    const isPresent = new Array<boolean>(unique.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length) {
        const index = next++;
        isPresent[index] = await this.has(unique[index]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, unique.length) }, worker));
    return unique.filter((_, index) => !isPresent[index]);
  }

  async delete(hash: string): Promise<void> {
    await rm(this.chunkPath(hash), { force: true });
  }

  /** Removes temporary files that writers killed half-way left behind (only stale ones: see STALE_TEMPORARY_MS). */
  async removeStaleTemporaries(now = Date.now()): Promise<number> {
    const entries = await readdir(this.partialDirectory).catch(() => [] as string[]);
    const removed = await Promise.all(
      entries.map(async (entry) => {
        const file = path.join(this.partialDirectory, entry);
        const found = await stat(file).catch(() => undefined);
        if (found === undefined || now - found.mtimeMs < STALE_TEMPORARY_MS) return false;
        return unlink(file).then(
          () => true,
          () => false,
        );
      }),
    );
    return removed.filter(Boolean).length;
  }
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, constants, mkdir, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '@echelon/domain';
import {
  ChecksumMismatchError,
  type ObjectInfo,
  sha256Meter,
  sha256Of,
  type StorageAdapter,
  type WriteOptions,
  type WriteResult,
} from './adapter.js';

const TEMP_MARKER = '.echelon-partial-';

/**
 * Errors that mean the storage itself is misconfigured or refuses us (retrying cannot help until it is fixed),
 * in words a tenant can act on: the system's own message names paths on the host, which are not the tenant's.
 */
const UNUSABLE_STORAGE: ReadonlyMap<string, string> = new Map([
  ['ENOTDIR', 'a part of its path is a file, not a directory'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'the operation is not permitted'],
  ['EROFS', 'its file system is read-only'],
  ['EISDIR', 'a directory stands where a file must go'],
]);

/**
 * A file-system error that means the storage refuses writes (a mount gone bad, no permission, read-only) as
 * STORAGE_UNAVAILABLE: `cannot write to <where>: <what is wrong> (<errno>); fix the storage, then retry the copy`,
 * with no host path in it. Any other error is returned as it is.
 */
export function unusableStorageError(error: unknown, where: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const words = code === undefined ? undefined : UNUSABLE_STORAGE.get(code);
  if (words === undefined) return error;
  return new DomainError(
    'STORAGE_UNAVAILABLE',
    `cannot write to ${where}: ${words} (${code}); fix the storage, then retry the copy`,
    { errno: code },
  );
}

/** sha256 of a file, streamed. */
export function hashFile(file: string): Promise<ObjectInfo> {
  return sha256Of(createReadStream(file));
}

/**
 * Where `target` really is: the real path of its deepest existing ancestor (every symbolic link resolved), with
 * the rest of `target` below it. What does not exist yet cannot be a link, so this is where creating `target`
 * would land. Errors other than a missing or non-directory component (a loop of links, a directory that cannot
 * be searched) are thrown.
 */
export async function realLocation(target: string): Promise<string> {
  let existing = path.resolve(target);
  const missing: string[] = [];
  for (;;) {
    try {
      return path.join(await realpath(existing), ...missing);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = path.dirname(existing);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === existing) throw error;
      missing.unshift(path.basename(existing));
      existing = parent;
    }
  }
}

/** Keys are relative paths made of safe segments; nothing may climb out of its space. */
export function safeRelativePath(key: string): string {
  const segments = key.split('/');
  if (key.length === 0 || segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new DomainError('BAD_USER_INPUT', `"${key}" is not a valid object key`);
  }
  return path.join(...segments);
}

/**
 * A directory tree: `<root>/<space>/<key>`. Writes go to a temporary file beside the target, are fsynced and
 * verified by re-reading, and only then renamed into place, so a crash never leaves a half-written object
 * under its final name.
 */
export class FilesystemStorage implements StorageAdapter {
  readonly kind = 'FILESYSTEM' as const;

  constructor(readonly root: string) {}

  private objectPath(space: string, key: string): string {
    return path.join(this.root, safeRelativePath(space), safeRelativePath(key));
  }

  async write(space: string, key: string, source: Readable, options: WriteOptions): Promise<WriteResult> {
    const target = this.objectPath(space, key);
    await mkdir(path.dirname(target), { recursive: true }).catch((error: unknown) => {
      throw unusableStorageError(error, `backup space ${space}`);
    });
    // A writer killed mid-copy (kill -9, a lost worker) left its temporary file: this attempt replaces it.
    await removeTemporariesOf(target);
    const temp = `${path.dirname(target)}/${TEMP_MARKER}${path.basename(target)}.${randomUUID()}`;
    try {
      const meter = sha256Meter(options.onProgress ? { onProgress: options.onProgress } : {});
      await pipeline(source, meter, createWriteStream(temp, { flags: 'wx' }), {
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const { sha256: streamed, bytes } = meter.result();
      if (streamed !== options.expectedSha256 || bytes !== options.expectedBytes) {
        throw new ChecksumMismatchError(
          options.expectedSha256,
          `${streamed} (${bytes} bytes)`,
          `${space}/${key} (stream)`,
        );
      }
      const handle = await open(temp, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await options.onVerifying?.();
      const landed = await hashFile(temp);
      if (landed.sha256 !== options.expectedSha256 || landed.bytes !== options.expectedBytes) {
        throw new ChecksumMismatchError(options.expectedSha256, landed.sha256, `${space}/${key}`);
      }
      await rename(temp, target);
      await syncDirectory(path.dirname(target));
      return landed;
    } catch (error) {
      await rm(temp, { force: true });
      throw unusableStorageError(error, `backup space ${space}`);
    }
  }

  async read(space: string, key: string): Promise<Readable> {
    const file = this.objectPath(space, key);
    await access(file, constants.R_OK).catch(() => {
      throw new DomainError('NOT_FOUND', `object ${space}/${key} does not exist on ${this.root}`);
    });
    return createReadStream(file);
  }

  async stat(space: string, key: string): Promise<ObjectInfo | undefined> {
    const file = this.objectPath(space, key);
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    return exists ? hashFile(file) : undefined;
  }

  async remove(space: string, key: string): Promise<void> {
    await rm(this.objectPath(space, key), { force: true });
  }

  /** Removes temporary files a crashed writer left under `space/prefix`. */
  async removeOrphanedTemporaries(space: string, prefix: string): Promise<number> {
    const dir = path.join(this.root, safeRelativePath(space), safeRelativePath(prefix));
    const entries = await readdir(dir).catch(() => [] as string[]);
    const orphans = entries.filter((entry) => entry.startsWith(TEMP_MARKER));
    await Promise.all(orphans.map((entry) => rm(path.join(dir, entry), { force: true })));
    return orphans.length;
  }

  async check(spaces: readonly string[]): Promise<void> {
    for (const space of spaces) {
      const dir = path.join(this.root, safeRelativePath(space));
      try {
        await mkdir(dir, { recursive: true });
        await access(dir, constants.W_OK | constants.R_OK);
      } catch (error) {
        throw new DomainError(
          'STORAGE_UNAVAILABLE',
          `backup space ${space} at ${dir} is not a writable directory: ${(error as Error).message}`,
        );
      }
    }
  }
}

/** Removes earlier attempts' temporary files for `target` (never the committed object itself). */
async function removeTemporariesOf(target: string): Promise<void> {
  const dir = path.dirname(target);
  const prefix = `${TEMP_MARKER}${path.basename(target)}.`;
  const entries = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    entries.filter((entry) => entry.startsWith(prefix)).map((entry) => rm(path.join(dir, entry), { force: true })),
  );
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

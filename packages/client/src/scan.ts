import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile as readWhole } from 'node:fs/promises';
import path from 'node:path';
import { ContentDefinedChunker, type ManifestEntry, validateEntryPath } from '@echelon/storage';

/** A chunk read from the source, with its bytes (held only until its batch has been handled). */
export interface SourceChunk {
  hash: string;
  length: number;
  bytes: Buffer;
}

/** What a scan found: the contents of the version a backup of it makes. */
export interface ScannedSource {
  kind: 'object' | 'tree';
  entries: ManifestEntry[];
  totalBytes: number;
  /** Paths left out, with why (symbolic links, sockets, unreadable names). */
  skipped: { path: string; reason: string }[];
}

/** One regular file a scan will read, and the path its manifest entry gets. */
export interface SourceFile {
  file: string;
  entryPath: string;
  size: number;
}

/** What a source holds before a byte of it is read: its files in manifest order, their total size, what is left out. */
export interface SourceListing {
  kind: 'object' | 'tree';
  files: SourceFile[];
  totalBytes: number;
  skipped: { path: string; reason: string }[];
}

export interface ScanOptions {
  /**
   * Called with the chunks read so far, about `batchBytes` at a time, in stream order; the scan waits for it, so a
   * slow consumer (an upload) holds at most one batch in memory.
   */
  onChunks: (chunks: SourceChunk[]) => Promise<void>;
  /** Default 64 MiB. */
  batchBytes?: number;
  /** The source's listing, once it is walked and before it is read (a progress bar's total). */
  onListed?: (listing: SourceListing) => void;
  /** How much of the source has been read, in bytes. */
  onRead?: (bytes: number) => void;
}

const DEFAULT_BATCH_BYTES = 64 * 1024 * 1024;
const READ_SIZE = 1024 * 1024;
/** Files up to this size are read with one call. */
const READ_WHOLE_BYTES = 4 * 1024 * 1024;

const modeOf = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/**
 * Walks a file or a directory tree without reading it: a single file is an `object` (its entry named after the
 * file, or "data" when the name cannot be an entry path), a directory a `tree` of its regular files with paths
 * relative to it, in byte order of those paths. Symbolic links, special files and names that cannot be entry paths
 * are skipped and listed.
 */
export async function listSource(source: string): Promise<SourceListing> {
  const root = await lstat(source);
  const files: SourceFile[] = [];
  const skipped: SourceListing['skipped'] = [];
  const walk = async (directory: string, prefix: string) => {
    const names = (await readdir(directory)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const file = path.join(directory, name);
      const entryPath = prefix === '' ? name : `${prefix}/${name}`;
      const info = await lstat(file);
      if (info.isDirectory()) await walk(file, entryPath);
      else if (!info.isFile()) {
        skipped.push({ path: entryPath, reason: info.isSymbolicLink() ? 'a symbolic link' : 'not a regular file' });
      } else {
        try {
          validateEntryPath(entryPath);
        } catch (error) {
          skipped.push({ path: entryPath, reason: (error as Error).message });
          continue;
        }
        files.push({ file, entryPath, size: info.size });
      }
    }
  };
  let kind: SourceListing['kind'];
  if (root.isDirectory()) {
    kind = 'tree';
    await walk(source, '');
  } else if (root.isFile()) {
    kind = 'object';
    let entryPath = 'data';
    try {
      entryPath = validateEntryPath(path.basename(source));
    } catch {
      // A name that cannot be an entry path (a newline in it, say) is stored as "data".
    }
    files.push({ file: source, entryPath, size: root.size });
  } else {
    throw new Error(`${source} is neither a regular file nor a directory`);
  }
  return { kind, files, totalBytes: files.reduce((sum, file) => sum + file.size, 0), skipped };
}

/**
 * Reads a file or a directory tree once (see listSource for what it takes in): every regular file goes through the
 * content-defined chunker (the same boundaries the server's intake cuts), each chunk is handed to `onChunks`, and
 * the entries of the version's manifest are returned.
 */
export async function scanSource(source: string, options: ScanOptions): Promise<ScannedSource> {
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  const listing = await listSource(source);
  options.onListed?.(listing);
  const entries: ManifestEntry[] = [];
  let batch: SourceChunk[] = [];
  let batchSize = 0;
  let read = 0;

  const emit = async (chunk: SourceChunk) => {
    batch.push(chunk);
    batchSize += chunk.length;
    if (batchSize >= batchBytes) await drain();
  };
  const drain = async () => {
    if (batch.length === 0) return;
    const handing = batch;
    batch = [];
    batchSize = 0;
    await options.onChunks(handing);
  };

  const readFile = async (file: string, entryPath: string) => {
    const info = await lstat(file);
    const chunker = new ContentDefinedChunker();
    const whole = createHash('sha256');
    const chunks: [string, number][] = [];
    let size = 0;
    // A small file in one read (a tree's thousands of them); a big one streamed, so memory stays bounded.
    const pieces: AsyncIterable<Buffer> | Buffer[] =
      info.size <= READ_WHOLE_BYTES ? [await readWhole(file)] : createReadStream(file, { highWaterMark: READ_SIZE });
    for await (const piece of pieces) {
      whole.update(piece);
      size += piece.length;
      read += piece.length;
      options.onRead?.(read);
      for (const chunk of chunker.push(piece)) {
        chunks.push([chunk.hash, chunk.length]);
        await emit({ hash: chunk.hash, length: chunk.length, bytes: chunk.bytes });
      }
    }
    for (const chunk of chunker.finish()) {
      chunks.push([chunk.hash, chunk.length]);
      await emit({ hash: chunk.hash, length: chunk.length, bytes: chunk.bytes });
    }
    entries.push({
      path: entryPath,
      mode: modeOf(info.mode),
      mtime: info.mtime.toISOString(),
      size,
      sha256: whole.digest('hex'),
      chunks,
    });
  };

  for (const { file, entryPath } of listing.files) await readFile(file, entryPath);
  await drain();
  return { kind: listing.kind, entries, totalBytes: read, skipped: listing.skipped };
}

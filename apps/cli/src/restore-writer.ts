import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, rename, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { type Connection, httpError } from '@echelon/client';
import { treeSha256, validateEntryPath } from '@echelon/storage';
import * as tarStream from 'tar-stream';
import { CliError } from './cli-errors.js';

/** One file of a restored version, as GET /restores/:id/manifest lists it. */
export interface RestoreEntry {
  path: string;
  mode: string;
  mtime: string;
  size: number;
  sha256: string;
}

export interface RestoreManifest {
  kind: 'object' | 'tree';
  sha256: string;
  entries: RestoreEntry[];
}

const authorized = (connection: Connection) => ({ authorization: `Bearer ${connection.apiKey}` });

/**
 * The listing of a completed restore, checked against the version's own sha256 (an object's is its entry's, a
 * tree's the sha256 of its listing), so every file written can be checked against it in turn.
 */
export async function fetchRestoreManifest(
  connection: Connection,
  restoreId: string,
  signal?: AbortSignal,
): Promise<RestoreManifest> {
  const response = await fetch(new URL(`/restores/${restoreId}/manifest`, connection.apiUrl), {
    headers: authorized(connection),
    signal,
  });
  if (!response.ok) throw await httpError(response, `the listing of restore ${restoreId}`);
  const manifest = (await response.json()) as RestoreManifest;
  const expected = manifest.kind === 'object' ? manifest.entries[0]?.sha256 : treeSha256(manifest.entries);
  if (expected !== manifest.sha256 || (manifest.kind === 'object' && manifest.entries.length !== 1)) {
    throw new CliError('NOT_VERIFIED', `the listing of restore ${restoreId} does not match its sha256`);
  }
  for (const entry of manifest.entries) validateEntryPath(entry.path);
  return manifest;
}

/** What a restore writes: the whole version, one file, or a directory's files (the API's `?path=` rule). */
export function selectEntries(manifest: RestoreManifest, wanted: string | undefined): RestoreEntry[] {
  if (wanted === undefined) return manifest.entries;
  const normal = wanted.replace(/^\/+|\/+$/g, '');
  const file = manifest.entries.find((entry) => entry.path === normal);
  if (file !== undefined) return [file];
  const below = manifest.entries.filter((entry) => entry.path.startsWith(`${normal}/`));
  if (below.length === 0) {
    throw new CliError('NOT_FOUND', `"${normal.slice(0, 200)}" is not a file or directory of this version`);
  }
  return below;
}

/** Where an entry lands under the target directory: its path in the version, kept. */
const targetOf = (directory: string, entry: RestoreEntry) => path.join(directory, ...entry.path.split('/'));

/** Refuses (CONFLICT) before anything is written when a file to restore exists and `force` was not given. */
export async function refuseOverwrite(directory: string, entries: readonly RestoreEntry[]): Promise<void> {
  const existing: string[] = [];
  for (const entry of entries) {
    const exists = await lstat(targetOf(directory, entry)).then(
      () => true,
      () => false,
    );
    if (exists) existing.push(targetOf(directory, entry));
  }
  if (existing.length > 0) {
    const more = existing.length > 1 ? ` (and ${existing.length - 1} more)` : '';
    throw new CliError(
      'CONFLICT',
      `${existing[0]} exists${more}: nothing was written; pass --force to overwrite, or restore --to an empty directory`,
      { existing },
    );
  }
}

/**
 * Writes one file from its bytes: into a temporary file beside the target, hashed on the way, and moved into
 * place (with its mode and mtime) only when its size and sha256 are the manifest's. A file that does not verify is
 * removed and never takes the target's name.
 */
async function writeVerified(directory: string, entry: RestoreEntry, bytes: AsyncIterable<Uint8Array>): Promise<void> {
  const target = targetOf(directory, entry);
  await mkdir(path.dirname(target), { recursive: true });
  const partial = `${target}.${randomBytes(4).toString('hex')}.echelon-partial`;
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(piece: Buffer, _encoding, done) {
      hash.update(piece);
      size += piece.length;
      done(null, piece);
    },
  });
  try {
    await pipeline(bytes, meter, createWriteStream(partial, { mode: 0o600 }));
    const sha256 = hash.digest('hex');
    if (size !== entry.size || sha256 !== entry.sha256) {
      throw new CliError(
        'NOT_VERIFIED',
        `${entry.path} arrived as ${size} bytes with sha256 ${sha256}, not the backed-up ${entry.size} bytes with ${entry.sha256}: it was not kept`,
      );
    }
    await chmod(partial, Number.parseInt(entry.mode, 8));
    const mtime = new Date(entry.mtime);
    await utimes(partial, mtime, mtime);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof CliError || (error instanceof Error && error.name === 'AbortError')) throw error;
    throw new CliError(
      'NOT_VERIFIED',
      `the download of ${entry.path} broke off (${(error as Error).message}): it was not kept`,
    );
  }
}

export interface RestoreWriteOptions {
  /** The restore job's download address (GET with the key). */
  downloadUrl: string;
  directory: string;
  /** The version's path to restore, when not the whole version. */
  wanted?: string;
  entries: readonly RestoreEntry[];
  signal?: AbortSignal;
  onFile?: (entry: RestoreEntry) => void;
}

/**
 * Downloads and writes the selected files: one file straight, several as the API's tar, each file verified
 * against the manifest before it takes its name; anything the archive holds that the manifest does not list, or a
 * listed file it lacks, fails the restore as NOT_VERIFIED.
 */
export async function writeRestore(connection: Connection, options: RestoreWriteOptions): Promise<void> {
  const url = new URL(options.downloadUrl, connection.apiUrl);
  if (options.wanted !== undefined) url.searchParams.set('path', options.wanted.replace(/^\/+|\/+$/g, ''));
  const response = await fetch(url, { headers: authorized(connection), signal: options.signal });
  if (!response.ok || response.body === null) throw await httpError(response, 'the restore download');
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  const isArchive = response.headers.get('content-type')?.startsWith('application/x-tar') ?? false;
  if (!isArchive) {
    const [entry] = options.entries;
    if (entry === undefined || options.entries.length !== 1) {
      throw new CliError('NOT_VERIFIED', 'the API sent one file where the listing has several');
    }
    await writeVerified(options.directory, entry, body);
    options.onFile?.(entry);
    return;
  }
  const expected = new Map(options.entries.map((entry) => [entry.path, entry]));
  const extract = tarStream.extract();
  const written = new Set<string>();
  extract.on('entry', (header, stream, next) => {
    const entry = expected.get(header.name);
    const refuse = (message: string) => {
      stream.resume();
      next(new CliError('NOT_VERIFIED', message));
    };
    if (entry === undefined) return refuse(`the archive holds "${header.name}", which the backup does not list`);
    if (header.type !== 'file') return refuse(`the archive holds "${header.name}" as a ${header.type}, not a file`);
    if (written.has(entry.path)) return refuse(`the archive holds "${header.name}" twice`);
    writeVerified(options.directory, entry, stream as AsyncIterable<Uint8Array>).then(
      () => {
        written.add(entry.path);
        options.onFile?.(entry);
        next();
      },
      (error: unknown) => next(error as Error),
    );
  });
  await pipeline(body, extract, { signal: options.signal });
  const missing = options.entries.filter((entry) => !written.has(entry.path));
  if (missing.length > 0) {
    throw new CliError('NOT_VERIFIED', `the archive lacks ${missing.length} listed files, ${missing[0]?.path} first`);
  }
}

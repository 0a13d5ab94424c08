import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { DomainError, isDomainError, isUuid, validateDatasetKey } from '@echelon/domain';
import { ChecksumMismatchError } from '../adapter.js';
import {
  type ChunkStore,
  isChunkHash,
  sha256Hex,
  syncDirectory,
  type TenantSpaceLocation,
  tenantDirectory,
} from './chunk-store.js';
import { MAX_CHUNK_SIZE } from './chunker.js';

export const MANIFEST_FORMAT = 'echelon.manifest/1';
/** Longest entry path in UTF-8 bytes: Linux's PATH_MAX, so every entry can be restored to a file. */
const MAX_PATH_BYTES = 4096;
const SHA256_OF_NOTHING = sha256Hex(new Uint8Array(0));
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const FILE_MODE = /^[0-7]{4}$/;

/** One chunk of an entry: its id and its length, so a restore can check sizes and seek without reading chunks. */
export type ChunkRef = [hash: string, length: number];

export interface ManifestEntry {
  /** Relative, "/"-separated; never absolute, never with "." or ".." segments or control characters. */
  path: string;
  /** Permission bits as four octal digits, as `chmod` takes them ("0644"). */
  mode: string;
  /** ISO 8601 UTC, as `touch -d` takes it. */
  mtime: string;
  size: number;
  /** sha256 of the entry's bytes: a single file restored from a tree is verified whole. */
  sha256: string;
  chunks: ChunkRef[];
}

/**
 * One dataset version on one replica. `sha256` is the version's whole hash: for an object, the sha256 of its bytes
 * (its single entry's); for a tree, the sha256 of its listing (see `treeSha256`).
 */
export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  tenantId: string;
  datasetKey: string;
  version: number;
  createdAt: string;
  kind: 'object' | 'tree';
  sha256: string;
  entries: ManifestEntry[];
}

/** A manifest that breaks the format: `field` says where, the message what would be right. */
export class InvalidManifestError extends DomainError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('BAD_USER_INPUT', `manifest ${field}: ${message}`, { field });
  }
}

const MANIFEST_KEYS = ['createdAt', 'datasetKey', 'entries', 'format', 'kind', 'sha256', 'tenantId', 'version'];
const ENTRY_KEYS = ['chunks', 'mode', 'mtime', 'path', 'sha256', 'size'];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function requireExactKeys(value: Record<string, unknown>, keys: readonly string[], field: string): void {
  const unexpected = Object.keys(value).filter((key) => !keys.includes(key));
  const absent = keys.filter((key) => !(key in value));
  if (unexpected.length > 0 || absent.length > 0) {
    throw new InvalidManifestError(
      field,
      `must have exactly the keys ${keys.join(', ')}` +
        (absent.length > 0 ? `; missing ${absent.join(', ')}` : '') +
        (unexpected.length > 0 ? `; unknown ${unexpected.map((key) => key.slice(0, 40)).join(', ')}` : ''),
    );
  }
}

function requireIsoUtc(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ISO_UTC.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidManifestError(field, 'must be an ISO 8601 UTC time such as "2025-01-31T12:00:00.000Z"');
  }
  return value;
}

function requireSha256(value: unknown, field: string): string {
  if (!isChunkHash(value)) throw new InvalidManifestError(field, 'must be a sha256 as 64 lowercase hex digits');
  return value;
}

/** Entry paths must land inside the restore directory on any POSIX system and print on one line. */
export function validateEntryPath(value: unknown, field = 'path'): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidManifestError(field, 'must be a non-empty relative path');
  }
  if (Buffer.byteLength(value) > MAX_PATH_BYTES) {
    throw new InvalidManifestError(field, `must be at most ${MAX_PATH_BYTES} bytes of UTF-8`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidManifestError(field, `"${value.slice(0, 80)}" holds a control character (NUL, newline, …)`);
  }
  if (value.startsWith('/')) {
    throw new InvalidManifestError(field, `"${value.slice(0, 80)}" is absolute: paths are relative to the tree`);
  }
  if (value.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new InvalidManifestError(
      field,
      `"${value.slice(0, 80)}" has an empty, "." or ".." segment: use plain names separated by single "/"`,
    );
  }
  return value;
}

function validateEntry(value: unknown, field: string): ManifestEntry {
  if (!isRecord(value)) throw new InvalidManifestError(field, 'must be an object');
  requireExactKeys(value, ENTRY_KEYS, field);
  const entryPath = validateEntryPath(value.path, `${field}.path`);
  if (typeof value.mode !== 'string' || !FILE_MODE.test(value.mode)) {
    throw new InvalidManifestError(`${field}.mode`, 'must be four octal digits such as "0644"');
  }
  const mtime = requireIsoUtc(value.mtime, `${field}.mtime`);
  const size = value.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidManifestError(`${field}.size`, 'must be a whole number of bytes, 0 or more');
  }
  const sha256 = requireSha256(value.sha256, `${field}.sha256`);
  if (!Array.isArray(value.chunks)) throw new InvalidManifestError(`${field}.chunks`, 'must be an array');
  let total = 0;
  const chunks = value.chunks.map((ref: unknown, index): ChunkRef => {
    const where = `${field}.chunks[${index}]`;
    if (!Array.isArray(ref) || ref.length !== 2) {
      throw new InvalidManifestError(where, 'must be a [sha256, length] pair');
    }
    const [hash, length] = ref as unknown[];
    requireSha256(hash, `${where}[0]`);
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 1 || length > MAX_CHUNK_SIZE) {
      throw new InvalidManifestError(`${where}[1]`, `must be a chunk length from 1 to ${MAX_CHUNK_SIZE} bytes`);
    }
    total += length;
    return [hash as string, length];
  });
  if (total !== size) {
    throw new InvalidManifestError(`${field}.size`, `is ${size} but its chunks add up to ${total} bytes`);
  }
  if (size === 0 && sha256 !== SHA256_OF_NOTHING) {
    throw new InvalidManifestError(`${field}.sha256`, `an empty entry must have the sha256 of nothing`);
  }
  return { path: entryPath, mode: value.mode, mtime, size, sha256, chunks };
}

/** Byte order of the UTF-8 paths, as `LC_ALL=C sort` orders them: the same on every machine and locale. */
const comparePaths = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * A tree's whole hash: the sha256 of `<entry sha256>  <path>\n` for every entry in path order, which is what
 * `sha256sum` prints for the restored files, sorted by path, so it can be checked with ordinary tools.
 */
export function treeSha256(entries: readonly Pick<ManifestEntry, 'path' | 'sha256'>[]): string {
  const hash = createHash('sha256');
  for (const entry of [...entries].sort((a, b) => comparePaths(a.path, b.path))) {
    hash.update(`${entry.sha256}  ${entry.path}\n`);
  }
  return hash.digest('hex');
}

/** Checks a manifest from anywhere (a client, a replica) and returns it with its entries in canonical order. */
export function validateManifest(value: unknown): Manifest {
  if (!isRecord(value)) throw new InvalidManifestError('document', 'must be a JSON object');
  if (value.format !== MANIFEST_FORMAT) {
    throw new InvalidManifestError('format', `"${String(value.format).slice(0, 40)}" is not "${MANIFEST_FORMAT}"`);
  }
  requireExactKeys(value, MANIFEST_KEYS, 'document');
  if (typeof value.tenantId !== 'string' || !isUuid(value.tenantId)) {
    throw new InvalidManifestError('tenantId', 'must be a UUID');
  }
  if (typeof value.datasetKey !== 'string') throw new InvalidManifestError('datasetKey', 'must be a string');
  try {
    validateDatasetKey(value.datasetKey);
  } catch (error) {
    if (isDomainError(error)) throw new InvalidManifestError('datasetKey', error.message);
    throw error;
  }
  const version = value.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new InvalidManifestError('version', 'must be a whole number from 1');
  }
  const createdAt = requireIsoUtc(value.createdAt, 'createdAt');
  if (value.kind !== 'object' && value.kind !== 'tree') {
    throw new InvalidManifestError('kind', 'must be "object" or "tree"');
  }
  const sha256 = requireSha256(value.sha256, 'sha256');
  if (!Array.isArray(value.entries)) throw new InvalidManifestError('entries', 'must be an array');
  const entries = value.entries
    .map((entry: unknown, index) => validateEntry(entry, `entries[${index}]`))
    .sort((a, b) => comparePaths(a.path, b.path));
  const paths = new Set<string>();
  for (const entry of entries) {
    if (paths.has(entry.path)) throw new InvalidManifestError('entries', `"${entry.path}" appears twice`);
    paths.add(entry.path);
  }
  for (const entry of entries) {
    const segments = entry.path.split('/');
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/');
      if (paths.has(parent)) {
        throw new InvalidManifestError('entries', `"${parent}" is a file and also the directory of "${entry.path}"`);
      }
    }
  }
  if (value.kind === 'object') {
    if (entries.length !== 1) throw new InvalidManifestError('entries', 'an object has exactly one entry');
    if (entries[0]!.sha256 !== sha256) {
      throw new InvalidManifestError('sha256', `an object's sha256 is its entry's, ${entries[0]!.sha256}`);
    }
  } else {
    const expected = treeSha256(entries);
    if (expected !== sha256) throw new InvalidManifestError('sha256', `a tree with these entries has ${expected}`);
  }
  return {
    format: MANIFEST_FORMAT,
    tenantId: value.tenantId.toLowerCase(),
    datasetKey: value.datasetKey,
    version,
    createdAt,
    kind: value.kind,
    sha256,
    entries,
  };
}

/**
 * A manifest from its parts, with the version's whole sha256 derived (an object's is its entry's, a tree's its
 * listing's) and everything validated.
 */
export function buildManifest(input: {
  tenantId: string;
  datasetKey: string;
  version: number;
  createdAt?: string;
  kind: Manifest['kind'];
  entries: ManifestEntry[];
}): Manifest {
  const sha256 = input.kind === 'object' ? (input.entries[0]?.sha256 ?? '') : treeSha256(input.entries);
  return validateManifest({
    format: MANIFEST_FORMAT,
    tenantId: input.tenantId,
    datasetKey: input.datasetKey,
    version: input.version,
    createdAt: input.createdAt ?? new Date().toISOString(),
    kind: input.kind,
    sha256,
    entries: input.entries,
  });
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The one serialization of a manifest: validated, keys sorted, entries in path order, no whitespace, one final
 * newline. Equal manifests give equal bytes, so the sha256 of the file is the manifest's id.
 */
export function serializeManifest(manifest: Manifest): string {
  return `${canonicalJson(validateManifest(manifest))}\n`;
}

/** The manifest's id: the sha256 of its canonical serialization (of the file a replica holds). */
export const manifestId = (manifest: Manifest): string => sha256Hex(Buffer.from(serializeManifest(manifest)));

/** The chunk ids an entry list names, each once, in first-use order. */
export function chunkHashesOf(manifest: Manifest): string[] {
  const hashes = new Set<string>();
  for (const entry of manifest.entries) for (const [hash] of entry.chunks) hashes.add(hash);
  return [...hashes];
}

/**
 * `<tenant directory>/manifests/<datasetKey, URI-encoded>/<version>.json`. Encoding turns the key's "/" into
 * "%2F", so each dataset is one directory and a key can never reach outside `manifests/`.
 */
export function manifestPath(location: TenantSpaceLocation, datasetKey: string, version: number): string {
  validateDatasetKey(datasetKey);
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new DomainError('BAD_USER_INPUT', `version ${version} is not a whole number from 1`, { field: 'version' });
  }
  return path.join(datasetDirectory(location, datasetKey), `${version}.json`);
}

const datasetDirectory = (location: TenantSpaceLocation, datasetKey: string): string =>
  path.join(tenantDirectory(location), 'manifests', encodeURIComponent(validateDatasetKey(datasetKey)));

export interface CommittedManifest {
  id: string;
  file: string;
  /** False when the very same manifest was already committed (a retried commit). */
  written: boolean;
}

/**
 * Commits a version on a replica: checks every chunk the manifest names is in `chunks` (BAD_USER_INPUT naming the
 * first that is not), then writes the manifest to a temporary file, fsyncs it and links it under its name. That
 * link is the commit point: a manifest on storage always names chunks that are all there. A version's manifest is
 * immutable: committing the same one again is a no-op, a different one is a CONFLICT.
 */
export async function writeManifest(
  location: TenantSpaceLocation,
  manifest: Manifest,
  chunks: ChunkStore,
): Promise<CommittedManifest> {
  const text = serializeManifest(manifest);
  if (manifest.tenantId.toLowerCase() !== location.tenantId.toLowerCase()) {
    throw new DomainError('BAD_USER_INPUT', `manifest of tenant ${manifest.tenantId} cannot go to another tenant`, {
      field: 'tenantId',
    });
  }
  const absent = await chunks.missing(chunkHashesOf(manifest));
  if (absent.length > 0) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `manifest names chunk ${absent[0]} (and ${absent.length - 1} more) that the tenant has not stored: upload them first`,
      { chunk: absent[0], missingChunks: absent.length },
    );
  }
  const file = manifestPath(location, manifest.datasetKey, manifest.version);
  const id = sha256Hex(Buffer.from(text));
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = path.join(path.dirname(file), `.partial-${manifest.version}.json.${randomUUID()}`);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const isWritten = await link(temporary, file).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') return false;
        throw error;
      },
    );
    if (isWritten) {
      await syncDirectory(path.dirname(file));
      return { id, file, written: true };
    }
  } finally {
    await rm(temporary, { force: true });
  }
  const existing = await readFile(file, 'utf8');
  if (existing !== text) {
    throw new DomainError(
      'CONFLICT',
      `version ${manifest.version} of ${manifest.datasetKey} is already committed with manifest ${sha256Hex(Buffer.from(existing))}`,
      { file },
    );
  }
  return { id, file, written: false };
}

/**
 * Reads a committed manifest from the layout alone. The file must be valid, canonical (its sha256 is its id) and
 * about the tenant, dataset and version its place says; anything else is an InvalidManifestError. A change that
 * leaves a valid manifest (another mode, say) only shows against the id recorded elsewhere: pass it as
 * `expectedId` (the database's index) and a different file is a ChecksumMismatchError.
 */
export async function readManifest(
  location: TenantSpaceLocation,
  datasetKey: string,
  version: number,
  options: { expectedId?: string } = {},
): Promise<{ manifest: Manifest; id: string }> {
  const file = manifestPath(location, datasetKey, version);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new DomainError('NOT_FOUND', `version ${version} of ${datasetKey} has no manifest on this replica`);
    }
    throw error;
  });
  const id = sha256Hex(Buffer.from(text));
  if (options.expectedId !== undefined && options.expectedId !== id) {
    throw new ChecksumMismatchError(options.expectedId, id, file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidManifestError('document', `${file} is not JSON: ${(error as Error).message}`);
  }
  const manifest = validateManifest(parsed);
  if (
    manifest.tenantId !== location.tenantId.toLowerCase() ||
    manifest.datasetKey !== datasetKey ||
    manifest.version !== version
  ) {
    throw new InvalidManifestError(
      'document',
      `${file} describes ${manifest.tenantId}/${manifest.datasetKey} v${manifest.version}, not what its place says`,
    );
  }
  if (serializeManifest(manifest) !== text) {
    throw new InvalidManifestError('document', `${file} is not in canonical form: it was not written by writeManifest`);
  }
  return { manifest, id };
}

/** The committed versions of a dataset on this replica, oldest first. */
export async function listManifestVersions(location: TenantSpaceLocation, datasetKey: string): Promise<number[]> {
  const names = await readdir(datasetDirectory(location, datasetKey)).catch(() => [] as string[]);
  return names
    .map((name) => /^([1-9]\d*)\.json$/.exec(name)?.[1])
    .filter((version): version is string => version !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * The bytes of one entry (for an object, `entryPath` may be left out), chunk by chunk. Each chunk is verified by
 * the store and against its recorded length; the next chunk is read while the caller handles this one. The last
 * chunk is held back until the whole entry's sha256 is checked, so a reader never receives all of a wrong entry.
 */
export async function* reassemble(manifest: Manifest, store: ChunkStore, entryPath?: string): AsyncGenerator<Buffer> {
  const entry =
    entryPath === undefined && manifest.kind === 'object'
      ? manifest.entries[0]
      : manifest.entries.find((candidate) => candidate.path === entryPath);
  if (entry === undefined) {
    throw new DomainError(
      'NOT_FOUND',
      entryPath === undefined
        ? 'a tree version needs the path of the entry to restore'
        : `"${entryPath.slice(0, 200)}" is not an entry of version ${manifest.version} of ${manifest.datasetKey}`,
    );
  }
  const hash = createHash('sha256');
  const fetchChunk = async (index: number): Promise<Buffer> => {
    const [chunkHash, length] = entry.chunks[index]!;
    const bytes = await store.get(chunkHash);
    if (bytes.length !== length) {
      throw new ChecksumMismatchError(
        `${length} bytes`,
        `${bytes.length} bytes`,
        `chunk ${chunkHash} of ${entry.path}`,
      );
    }
    return bytes;
  };
  const count = entry.chunks.length;
  let next: Promise<Buffer> | undefined = count > 0 ? fetchChunk(0) : undefined;
  for (let index = 0; next !== undefined; index++) {
    const bytes: Buffer = await next;
    hash.update(bytes);
    next = index + 1 < count ? fetchChunk(index + 1) : undefined;
    // A caller that stops early never awaits the read ahead: keep its failure from surfacing as unhandled.
    next?.catch(() => undefined);
    if (next === undefined) {
      const actual = hash.digest('hex');
      if (actual !== entry.sha256) throw new ChecksumMismatchError(entry.sha256, actual, entry.path);
    }
    yield bytes;
  }
  if (count === 0 && entry.sha256 !== SHA256_OF_NOTHING) {
    throw new ChecksumMismatchError(entry.sha256, SHA256_OF_NOTHING, entry.path);
  }
}

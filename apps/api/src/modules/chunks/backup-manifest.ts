import type { UploadContents } from '@echelon/db';
import { DomainError } from '@echelon/domain';
import { buildManifest } from '@echelon/storage';

/** The most entries one manifest may list. */
export const MAX_MANIFEST_ENTRIES = 100_000;
/** The most chunk references one manifest may hold (about 1 TiB of chunks of the average size). */
export const MAX_MANIFEST_CHUNKS = 1_000_000;

export interface ManifestRequest {
  kind: 'object' | 'tree';
  entries: {
    path: string;
    mode: string;
    mtime: Date;
    size: number;
    sha256: string;
    chunks: { hash: string; length: number }[];
  }[];
}

const bad = (message: string, field = 'manifest') => new DomainError('BAD_USER_INPUT', message, { field });

/**
 * Checks a manifest a client sent with requestBackup and returns what its upload records: the contents in
 * canonical order, the version's sha256 and its size. Paths, modes, sizes against chunk lengths and the version's
 * hash follow the manifest format (`buildManifest`, docs/data-layout.md). Entry hashes are checked as far as that
 * is possible without reading the chunks: an entry of one chunk is that chunk's bytes, so its sha256 is the
 * chunk's; an entry of several chunks cannot hash to any one of them. A restore re-verifies every entry whole.
 */
export function contentsFromManifest(
  input: ManifestRequest,
  owner: { tenantId: string; datasetKey: string },
): { contents: UploadContents; sha256: string; sizeBytes: number } {
  if (input.entries.length === 0) throw bad('manifest.entries is empty: list at least one file', 'manifest.entries');
  if (input.entries.length > MAX_MANIFEST_ENTRIES) {
    throw bad(
      `manifest.entries lists ${input.entries.length} files; at most ${MAX_MANIFEST_ENTRIES} are allowed: split the tree into several datasets`,
      'manifest.entries',
    );
  }
  const chunkCount = input.entries.reduce((sum, entry) => sum + entry.chunks.length, 0);
  if (chunkCount > MAX_MANIFEST_CHUNKS) {
    throw bad(
      `the manifest names ${chunkCount} chunks; at most ${MAX_MANIFEST_CHUNKS} are allowed: split the data into several datasets`,
      'manifest.entries',
    );
  }
  input.entries.forEach((entry, index) => {
    const only = entry.chunks.length === 1 ? entry.chunks[0] : undefined;
    if (only !== undefined && entry.sha256 !== only.hash) {
      throw bad(
        `manifest entries[${index}].sha256 is ${entry.sha256.slice(0, 64)}, but an entry of one chunk is that chunk's bytes: it must be ${only.hash.slice(0, 64)}`,
        `manifest.entries[${index}].sha256`,
      );
    }
    if (entry.chunks.length > 1 && entry.chunks.some((chunk) => chunk.hash === entry.sha256)) {
      throw bad(
        `manifest entries[${index}].sha256 is the hash of one of its ${entry.chunks.length} chunks; send the sha256 of the whole file`,
        `manifest.entries[${index}].sha256`,
      );
    }
  });
  const manifest = buildManifest({
    tenantId: owner.tenantId,
    datasetKey: owner.datasetKey,
    // Any version: only the entries are kept, each replica's manifest gets its real number.
    version: 1,
    kind: input.kind,
    entries: input.entries.map((entry) => ({
      path: entry.path,
      mode: entry.mode,
      mtime: entry.mtime.toISOString(),
      size: entry.size,
      sha256: entry.sha256,
      chunks: entry.chunks.map((chunk) => [chunk.hash, chunk.length]),
    })),
  });
  return {
    contents: { kind: manifest.kind, entries: manifest.entries },
    sha256: manifest.sha256,
    sizeBytes: manifest.entries.reduce((sum, entry) => sum + entry.size, 0),
  };
}

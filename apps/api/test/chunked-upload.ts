import { createHash, randomUUID } from 'node:crypto';
import {
  appendUploadChunks,
  completeChunkedUpload,
  type Db,
  recordChunkedUpload,
  recordStoredChunks,
  type SeededTenant,
  tenantDb,
  type UploadContents,
} from '@echelon/db';
import { chunkStream, FilesystemChunkRepository, treeSha256 } from '@echelon/storage';

/** One file of a chunked upload. */
export interface UploadedFile {
  path: string;
  bytes: Buffer;
  mode?: string;
  mtime?: string;
}

export interface ChunkedUpload {
  uploadId: string;
  /** The version's whole sha256 (an object's bytes; a tree's listing). */
  sha256: string;
  /** Every chunk of the upload in stream order (files in path order). */
  chunks: { hash: string; length: number }[];
  /** The chunks this upload newly wrote into the intake space (the others were there already). */
  written: { hash: string; length: number }[];
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * A complete chunked upload made as the intake will make it, without the API: the files are cut by the
 * content-defined chunker, their chunks put into the intake space's FILESYSTEM chunk store and recorded in the
 * index, the upload's chunk list and contents recorded. `requestBackup(uploadId)` then backs it up.
 */
export async function stageChunkedUpload(
  db: Db,
  seeded: SeededTenant,
  input: { intakeSpaceId: string; kind: 'object' | 'tree'; files: UploadedFile[] },
): Promise<ChunkedUpload> {
  const tenantId = seeded.tenant.id;
  const system = seeded.storageSystems.find((candidate) =>
    candidate.spaces.some((space) => space.id === input.intakeSpaceId),
  );
  const space = system?.spaces.find((candidate) => candidate.id === input.intakeSpaceId);
  const root = (system?.config as { root?: string } | undefined)?.root;
  if (space === undefined || root === undefined) throw new Error(`space ${input.intakeSpaceId} is not the tenant's`);
  const repository = new FilesystemChunkRepository({ root, space: space.name, tenantId });
  const scoped = tenantDb(db, tenantId);
  const uploadId = randomUUID();
  const files = [...input.files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const sizeBytes = files.reduce((sum, file) => sum + file.bytes.length, 0);
  await recordChunkedUpload(scoped, {
    id: uploadId,
    tenantId,
    identityId: seeded.adminIdentityId,
    sizeBytes,
    intakeSpaceId: input.intakeSpaceId,
  });
  const entries: UploadContents['entries'] = [];
  const chunks: { hash: string; length: number }[] = [];
  for (const file of files) {
    const refs: [string, number][] = [];
    for await (const chunk of chunkStream([file.bytes])) {
      await repository.put(chunk.hash, chunk.bytes);
      refs.push([chunk.hash, chunk.length]);
      chunks.push({ hash: chunk.hash, length: chunk.length });
    }
    entries.push({
      path: file.path,
      mode: file.mode ?? '0644',
      mtime: file.mtime ?? '2026-12-01T10:00:00.000Z',
      size: file.bytes.length,
      sha256: sha256(file.bytes),
      chunks: refs,
    });
  }
  const stored = await repository.flush();
  await recordStoredChunks(scoped, tenantId, input.intakeSpaceId, stored);
  await appendUploadChunks(scoped, tenantId, uploadId, 0, chunks);
  const versionSha256 = input.kind === 'object' ? (entries[0]?.sha256 ?? '') : treeSha256(entries);
  await completeChunkedUpload(scoped, tenantId, uploadId, {
    sha256: versionSha256,
    sizeBytes,
    contents: { kind: input.kind, entries },
  });
  return {
    uploadId,
    sha256: versionSha256,
    chunks,
    written: stored.filter((chunk) => chunk.written).map(({ hash, length }) => ({ hash, length })),
  };
}

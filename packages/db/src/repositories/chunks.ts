import { DomainError } from '@echelon/domain';
import { type Db, Prisma } from '../client.js';
import type { Upload } from '../generated/prisma/client.js';

/**
 * The index of the content-addressed data plane (docs/data-layout.md): which backup space holds which of a tenant's
 * chunks, and the chunks of each upload. A space's chunk row exists only once the chunk is durable there and was
 * verified when written; the storage itself stays the truth a scrub checks this index against.
 */

export interface ChunkRecord {
  hash: string;
  length: number;
  /** Where inside the space when its store packs chunks (S3: "<pack>@<offset>"); null for one file per chunk. */
  location: string | null;
}

/** A chunk's length and where it sits in one space that holds it. */
export interface ChunkHolder {
  spaceId: string;
  length: number;
  location: string | null;
}

/** What a complete upload holds: the listing its version's manifest is made of (see `versionManifest`). */
export interface UploadContents {
  kind: 'object' | 'tree';
  entries: {
    path: string;
    mode: string;
    mtime: string;
    size: number;
    sha256: string;
    chunks: [hash: string, length: number][];
  }[];
}

const BATCH = 5000;

function batches<T>(items: readonly T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/**
 * Records chunks now durable in a space (several writers of one chunk: it is recorded once). Returns the bytes
 * this call added to the index, so a space's unique chunk bytes are counted once. A space's used bytes are the
 * unique chunk bytes it holds, plus the reservations of copies in flight (and the whole objects of the first data
 * plane): bytes a copy (`replicaId`) records fill its own reservation first, so its space is never charged twice;
 * the rest (an intake, or more than was reserved) is charged to the space, in the same statement.
 */
export async function recordStoredChunks(
  db: Db,
  tenantId: string,
  spaceId: string,
  chunks: readonly ChunkRecord[],
  options: { replicaId?: string } = {},
): Promise<number> {
  let added = 0;
  const replicaId = options.replicaId ?? null;
  for (const batch of batches(chunks)) {
    const [row] = await db.$queryRaw<{ added: bigint | null }[]>`
      WITH inserted AS (
        INSERT INTO stored_chunks (space_id, hash, tenant_id, length, location)
        SELECT ${spaceId}::uuid, c.hash, ${tenantId}::uuid, c.length, c.location
          FROM unnest(${batch.map((c) => c.hash)}::text[], ${batch.map((c) => c.length)}::int[],
                      ${batch.map((c) => c.location)}::text[]) AS c(hash, length, location)
        ON CONFLICT (space_id, hash) DO NOTHING
        RETURNING length
      ), total AS (SELECT coalesce(sum(length), 0)::bigint AS added FROM inserted
      ), held AS (
        SELECT coalesce((SELECT reserved_bytes FROM replicas
                          WHERE id = ${replicaId}::uuid AND tenant_id = ${tenantId}::uuid
                            AND space_id = ${spaceId}::uuid), 0)::bigint AS reserved
      ), split AS (
        SELECT total.added, LEAST(held.reserved, total.added) AS taken,
               total.added - LEAST(held.reserved, total.added) AS excess
          FROM total, held
      ), unreserved AS (
        UPDATE replicas SET reserved_bytes = reserved_bytes - split.taken
          FROM split WHERE id = ${replicaId}::uuid AND tenant_id = ${tenantId}::uuid AND split.taken > 0
      ), charged AS (
        UPDATE backup_spaces SET used_bytes = used_bytes + split.excess
          FROM split WHERE id = ${spaceId}::uuid AND tenant_id = ${tenantId}::uuid AND split.excess > 0
      )
      SELECT added FROM split`;
    added += Number(row?.added ?? 0n);
  }
  return added;
}

/** The hashes of `hashes` that the space does not hold, first occurrences in order, each once. */
export async function spaceMissingChunks(
  db: Db,
  tenantId: string,
  spaceId: string,
  hashes: readonly string[],
): Promise<string[]> {
  const unique = [...new Set(hashes)];
  const missing: string[] = [];
  for (const batch of batches(unique)) {
    const rows = await db.$queryRaw<{ hash: string }[]>`
      SELECT h.hash FROM unnest(${batch}::text[]) WITH ORDINALITY AS h(hash, n)
       WHERE NOT EXISTS (SELECT 1 FROM stored_chunks s
                          WHERE s.space_id = ${spaceId}::uuid AND s.tenant_id = ${tenantId}::uuid AND s.hash = h.hash)
       ORDER BY h.n`;
    for (const row of rows) missing.push(row.hash);
  }
  return missing;
}

/**
 * The hashes of `hashes` that no space of the tenant holds: what a client must still send. Another tenant's chunk
 * is missing too, so asking never tells a tenant what another one stores.
 */
export async function tenantMissingChunks(db: Db, tenantId: string, hashes: readonly string[]): Promise<string[]> {
  const unique = [...new Set(hashes)];
  const missing: string[] = [];
  for (const batch of batches(unique)) {
    const rows = await db.$queryRaw<{ hash: string }[]>`
      SELECT h.hash FROM unnest(${batch}::text[]) WITH ORDINALITY AS h(hash, n)
       WHERE NOT EXISTS (SELECT 1 FROM stored_chunks s WHERE s.tenant_id = ${tenantId}::uuid AND s.hash = h.hash)
       ORDER BY h.n`;
    for (const row of rows) missing.push(row.hash);
  }
  return missing;
}

/** For each of `hashes` the tenant holds somewhere: the spaces that hold it. */
export async function chunkHolders(
  db: Db,
  tenantId: string,
  hashes: readonly string[],
): Promise<Map<string, ChunkHolder[]>> {
  const holders = new Map<string, ChunkHolder[]>();
  for (const batch of batches([...new Set(hashes)])) {
    const rows = await db.$queryRaw<{ hash: string; space_id: string; length: number; location: string | null }[]>`
      SELECT s.hash, s.space_id, s.length, s.location FROM stored_chunks s
       WHERE s.tenant_id = ${tenantId}::uuid AND s.hash = ANY (${batch}::text[])`;
    for (const row of rows) {
      const list = holders.get(row.hash) ?? [];
      list.push({ spaceId: row.space_id, length: row.length, location: row.location });
      holders.set(row.hash, list);
    }
  }
  return holders;
}

/** Where each of `hashes` sits in one space (absent: the space does not hold it). */
export async function storedChunksIn(
  db: Db,
  tenantId: string,
  spaceId: string,
  hashes: readonly string[],
): Promise<Map<string, ChunkRecord>> {
  const found = new Map<string, ChunkRecord>();
  for (const batch of batches([...new Set(hashes)])) {
    const rows = await db.$queryRaw<{ hash: string; length: number; location: string | null }[]>`
      SELECT s.hash, s.length, s.location FROM stored_chunks s
       WHERE s.space_id = ${spaceId}::uuid AND s.tenant_id = ${tenantId}::uuid AND s.hash = ANY (${batch}::text[])`;
    for (const row of rows) found.set(row.hash, { hash: row.hash, length: row.length, location: row.location });
  }
  return found;
}

/** The space no longer holds the chunk (found missing or corrupt): copies and restores stop reading it there. */
export async function forgetStoredChunk(db: Db, tenantId: string, spaceId: string, hash: string): Promise<void> {
  await db.$executeRaw`
    WITH forgotten AS (
      DELETE FROM stored_chunks WHERE space_id = ${spaceId}::uuid AND tenant_id = ${tenantId}::uuid AND hash = ${hash}
      RETURNING length
    )
    UPDATE backup_spaces SET used_bytes = GREATEST(used_bytes - forgotten.length, 0)
      FROM forgotten WHERE id = ${spaceId}::uuid AND tenant_id = ${tenantId}::uuid`;
}

/**
 * What a copy of an upload's data writes into a space: the lengths of its distinct chunks the space does not
 * hold; for an upload of the first data plane (a whole object, no contents), its whole size. SQL over `upload`
 * and `space`, expressions naming an upload id (text) and a space id (uuid).
 */
export const bytesToWriteSql = (upload: Prisma.Sql, space: Prisma.Sql): Prisma.Sql => Prisma.sql`
  (SELECT CASE WHEN u.contents IS NULL THEN u.size_bytes ELSE coalesce((
            SELECT sum(d.length) FROM (
              SELECT DISTINCT c->>0 AS hash, (c->>1)::bigint AS length
                FROM jsonb_array_elements(u.contents->'entries') e, jsonb_array_elements(e->'chunks') c) d
             WHERE NOT EXISTS (SELECT 1 FROM stored_chunks sc
                                WHERE sc.space_id = ${space} AND sc.tenant_id = u.tenant_id AND sc.hash = d.hash)), 0)
          END
     FROM uploads u WHERE u.id = ${upload})`;

/**
 * For each space of the tenant: the bytes of the upload's data a copy there need not write (chunks the space
 * holds, and repeats within the data), as the domain's placement takes them (`SpaceCapacity.heldBytes`).
 */
export async function heldBytesBySpace(db: Db, tenantId: string, uploadId: string): Promise<Map<string, number>> {
  const rows = await db.$queryRaw<{ id: string; held: bigint | null }[]>`
    SELECT b.id::text AS id, (u.size_bytes - ${bytesToWriteSql(Prisma.sql`${uploadId}`, Prisma.sql`b.id`)})::bigint AS held
      FROM backup_spaces b, uploads u
     WHERE b.tenant_id = ${tenantId}::uuid AND u.id = ${uploadId} AND u.tenant_id = b.tenant_id`;
  return new Map(rows.map((row) => [row.id, Math.max(0, Number(row.held ?? 0n))]));
}

/** The unique chunk bytes a space holds for its tenant. */
export async function storedChunkBytes(db: Db, tenantId: string, spaceId: string): Promise<bigint> {
  const [row] = await db.$queryRaw<{ bytes: bigint | null }[]>`
    SELECT sum(length)::bigint AS bytes FROM stored_chunks
     WHERE space_id = ${spaceId}::uuid AND tenant_id = ${tenantId}::uuid`;
  return row?.bytes ?? 0n;
}

// ── uploads streamed into a chunk store ────────────────────────────────────────────────────────────────

/**
 * A new upload whose bytes go through the chunker into `intakeSpaceId` as they arrive. `metadata` is what its client
 * announced (tus Upload-Metadata): kept in `contents` as `{ pending: { metadata } }` until the upload completes, so
 * whichever API process serves its last byte knows it (`pendingUploadMetadata`).
 */
export async function recordChunkedUpload(
  db: Db,
  input: {
    id: string;
    tenantId: string;
    identityId: string;
    sizeBytes: number;
    intakeSpaceId: string;
    metadata?: Record<string, string | null>;
  },
): Promise<Upload> {
  const { metadata, ...row } = input;
  return db.upload.create({
    data: {
      ...row,
      sizeBytes: BigInt(input.sizeBytes),
      stagingPath: null,
      ...(metadata === undefined ? {} : { contents: { pending: { metadata } } as Prisma.InputJsonValue }),
    },
  });
}

/** The metadata an incomplete chunked upload was created with; undefined when none was recorded. */
export function pendingUploadMetadata(upload: Pick<Upload, 'contents'>): Record<string, string | null> | undefined {
  const contents = upload.contents as { pending?: { metadata?: unknown } } | null;
  const metadata = contents?.pending?.metadata;
  return typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, string | null>) : undefined;
}

/** How far an upload's recorded chunks reach: their count and their bytes (the offset a resume starts at). */
export async function uploadChunkProgress(
  db: Db,
  tenantId: string,
  uploadId: string,
): Promise<{ chunks: number; bytes: number }> {
  const [row] = await db.$queryRaw<{ chunks: number; bytes: bigint }[]>`
    SELECT count(*)::int AS chunks, coalesce(sum(length), 0)::bigint AS bytes FROM upload_chunks
     WHERE upload_id = ${uploadId} AND tenant_id = ${tenantId}::uuid`;
  return { chunks: row?.chunks ?? 0, bytes: Number(row?.bytes ?? 0n) };
}

/**
 * Appends chunks at positions `firstSeq`, `firstSeq + 1`, … of an incomplete upload, and only there: false when
 * another writer recorded any of those positions first (a second API process took the upload over, or the upload
 * was completed or removed meanwhile), and then nothing is written. Recorded positions are never replaced, so two
 * writers of one upload can never interleave their chunks.
 */
export async function appendNextUploadChunks(
  db: Db,
  tenantId: string,
  uploadId: string,
  firstSeq: number,
  chunks: readonly { hash: string; length: number }[],
): Promise<boolean> {
  if (chunks.length === 0) return true;
  try {
    const inserted = await db.$executeRaw`
      INSERT INTO upload_chunks (upload_id, seq, tenant_id, hash, length)
      SELECT ${uploadId}, ${firstSeq}::int + c.n::int - 1, ${tenantId}::uuid, c.hash, c.length
        FROM unnest(${chunks.map((c) => c.hash)}::text[], ${chunks.map((c) => c.length)}::int[])
             WITH ORDINALITY AS c(hash, length, n)
       WHERE EXISTS (SELECT 1 FROM uploads u WHERE u.id = ${uploadId} AND u.tenant_id = ${tenantId}::uuid
                        AND u.completed_at IS NULL)`;
    return inserted === chunks.length;
  } catch (error) {
    if (error instanceof Error && error.message.includes('upload_chunks_pkey')) return false;
    throw error;
  }
}

/**
 * When a byte of the upload last arrived in its intake space, as far as the index tells: the newest `stored_at`
 * of its chunks (null without any). A chunk that the space held already keeps its first time.
 */
export async function uploadLastStoredAt(db: Db, tenantId: string, uploadId: string): Promise<Date | null> {
  const [row] = await db.$queryRaw<{ at: Date | null }[]>`
    SELECT max(s.stored_at) AS at FROM upload_chunks c
      JOIN uploads u ON u.id = c.upload_id AND u.tenant_id = c.tenant_id
      JOIN stored_chunks s ON s.space_id = u.intake_space_id AND s.hash = c.hash AND s.tenant_id = c.tenant_id
     WHERE c.upload_id = ${uploadId} AND c.tenant_id = ${tenantId}::uuid`;
  return row?.at ?? null;
}

/**
 * Appends chunks to an upload's list from position `firstSeq` (positions from there on, left by an attempt that
 * was cut off, are replaced), in one transaction.
 */
export async function appendUploadChunks(
  db: Db,
  tenantId: string,
  uploadId: string,
  firstSeq: number,
  chunks: readonly { hash: string; length: number }[],
): Promise<void> {
  await db.$transaction([
    db.$executeRaw`DELETE FROM upload_chunks WHERE upload_id = ${uploadId} AND tenant_id = ${tenantId}::uuid
                     AND seq >= ${firstSeq}`,
    db.$executeRaw`
      INSERT INTO upload_chunks (upload_id, seq, tenant_id, hash, length)
      SELECT ${uploadId}, ${firstSeq}::int + c.n::int - 1, ${tenantId}::uuid, c.hash, c.length
        FROM unnest(${chunks.map((c) => c.hash)}::text[], ${chunks.map((c) => c.length)}::int[])
             WITH ORDINALITY AS c(hash, length, n)`,
  ]);
}

/** An upload's chunks in stream order. */
export async function uploadChunkList(
  db: Db,
  tenantId: string,
  uploadId: string,
): Promise<{ hash: string; length: number }[]> {
  return db.$queryRaw<{ hash: string; length: number }[]>`
    SELECT hash, length FROM upload_chunks
     WHERE upload_id = ${uploadId} AND tenant_id = ${tenantId}::uuid ORDER BY seq`;
}

/**
 * An upload is complete: its whole sha256 and its contents are recorded, after which requestBackup may use it. An
 * upload completed already is left as it is (CONFLICT when the contents differ).
 */
export async function completeChunkedUpload(
  db: Db,
  tenantId: string,
  uploadId: string,
  input: { sha256: string; sizeBytes: number; contents: UploadContents },
): Promise<void> {
  const updated = await db.upload.updateMany({
    where: { id: uploadId, tenantId, completedAt: null },
    data: {
      sha256: input.sha256,
      sizeBytes: BigInt(input.sizeBytes),
      contents: input.contents as unknown as Prisma.InputJsonValue,
      completedAt: new Date(),
    },
  });
  if (updated.count === 1) return;
  const existing = await db.upload.findFirst({ where: { id: uploadId, tenantId } });
  if (existing === null) throw new DomainError('NOT_FOUND', `upload ${uploadId} does not exist`);
  if (existing.sha256 !== input.sha256) {
    throw new DomainError('CONFLICT', `upload ${uploadId} was completed with other contents`);
  }
}

/** The contents of a complete chunked upload; null for a whole-object upload (or one not complete). */
export function uploadContentsOf(upload: Pick<Upload, 'contents'>): UploadContents | null {
  const contents = upload.contents as Partial<UploadContents> | null | undefined;
  // An incomplete upload holds only its pending metadata (see `recordChunkedUpload`).
  if (contents === null || contents === undefined || typeof contents !== 'object') return null;
  if ((contents.kind !== 'object' && contents.kind !== 'tree') || !Array.isArray(contents.entries)) return null;
  return contents as UploadContents;
}

/**
 * A complete chunked upload made in one step, from a manifest a client sent with its chunks already stored: the
 * chunk list, the sha256 and the contents in one transaction, so a refused or failed request leaves no row.
 */
export async function recordManifestUpload(
  db: Db,
  input: {
    id: string;
    tenantId: string;
    identityId: string;
    intakeSpaceId: string;
    sha256: string;
    sizeBytes: number;
    contents: UploadContents;
  },
): Promise<Upload> {
  const chunks = input.contents.entries.flatMap((entry) => entry.chunks);
  const [upload] = await db.$transaction([
    db.upload.create({
      data: {
        id: input.id,
        tenantId: input.tenantId,
        identityId: input.identityId,
        intakeSpaceId: input.intakeSpaceId,
        sizeBytes: BigInt(input.sizeBytes),
        stagingPath: null,
        sha256: input.sha256,
        contents: input.contents as unknown as Prisma.InputJsonValue,
        completedAt: new Date(),
      },
    }),
    db.$executeRaw`
      INSERT INTO upload_chunks (upload_id, seq, tenant_id, hash, length)
      SELECT ${input.id}, c.n::int - 1, ${input.tenantId}::uuid, c.hash, c.length
        FROM unnest(${chunks.map(([hash]) => hash)}::text[], ${chunks.map(([, length]) => length)}::int[])
             WITH ORDINALITY AS c(hash, length, n)`,
  ]);
  return upload;
}

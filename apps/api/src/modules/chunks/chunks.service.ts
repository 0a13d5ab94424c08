import { createHash } from 'node:crypto';
import { chunkHolders, recordStoredChunks, tenantMissingChunks } from '@echelon/db';
import { DomainError } from '@echelon/domain';
import { isChunkHash, MAX_CHUNK_SIZE } from '@echelon/storage';
import { type RequestContext, tenantOf } from '../../context.js';
import { intakePlacement } from '../jobs/jobs.service.js';
import { intakeSpaceById } from './intake-space.js';

/** The most hashes one missingChunks call may ask about. */
export const MAX_MISSING_CHUNKS_QUERY = 10_000;

function requireChunkHash(hash: string, field: string): string {
  if (!isChunkHash(hash as unknown)) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `${field} "${hash.slice(0, 80)}" is not a chunk id: send the sha256 of the chunk's bytes as 64 lowercase hex digits`,
      { field },
    );
  }
  return hash;
}

/**
 * Which of `hashes` the caller's tenant does not hold in any of its spaces, each once, in the order asked: what a
 * client must still send with PUT /chunks/<sha256>. Another tenant's chunks answer as missing.
 */
export async function missingChunks(context: RequestContext, hashes: readonly string[]): Promise<string[]> {
  const { tenant } = tenantOf(context);
  if (hashes.length > MAX_MISSING_CHUNKS_QUERY) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `missingChunks was asked about ${hashes.length} hashes; ask about at most ${MAX_MISSING_CHUNKS_QUERY} at a time`,
      { field: 'hashes', allowed: MAX_MISSING_CHUNKS_QUERY, measured: hashes.length },
    );
  }
  for (const [index, hash] of hashes.entries()) requireChunkHash(hash, `hashes[${index}]`);
  return tenantMissingChunks(context.db, tenant.id, hashes);
}

/**
 * Stores one chunk a client sends in the caller's intake space (the primary its policy picks, `dataClass` as in
 * requestBackup) and records it. The bytes must hash to `hash` (BAD_USER_INPUT otherwise, and nothing is stored).
 * Sending a chunk again is harmless: `written` is false and nothing changes.
 */
export async function putChunk(
  context: RequestContext,
  input: { hash: string; bytes: Buffer; dataClass: string | null | undefined },
): Promise<{ hash: string; length: number; written: boolean }> {
  const { tenant } = tenantOf(context);
  const hash = requireChunkHash(input.hash, 'hash');
  const { bytes } = input;
  if (bytes.length < 1 || bytes.length > MAX_CHUNK_SIZE) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `a chunk has 1 to ${MAX_CHUNK_SIZE} bytes; this body has ${bytes.length}: send the chunk's raw bytes`,
      { field: 'body' },
    );
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== hash) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `the body's sha256 is ${actual}, not ${hash}: PUT each chunk at /chunks/<the sha256 of its bytes>`,
      { field: 'body' },
    );
  }
  const placement = await intakePlacement(context, { sizeBytes: bytes.length, dataClass: input.dataClass });
  const space = await intakeSpaceById(context.db, context.config, tenant.id, placement.spaceId);
  await space.repository.put(hash, bytes);
  const stored = await space.repository.flush();
  await recordStoredChunks(context.db, tenant.id, space.spaceId, stored);
  return { hash, length: bytes.length, written: stored.some((chunk) => chunk.written) };
}

/**
 * Every chunk a manifest names is held by the tenant with the length the manifest gives it; otherwise
 * BAD_USER_INPUT naming the first chunk that is not (how many more are missing too).
 */
export async function requireHeldChunks(
  context: RequestContext,
  chunks: readonly (readonly [hash: string, length: number])[],
): Promise<void> {
  const { tenant } = tenantOf(context);
  const holders = await chunkHolders(
    context.db,
    tenant.id,
    chunks.map(([hash]) => hash),
  );
  const missing = [...new Set(chunks.map(([hash]) => hash).filter((hash) => !holders.has(hash)))];
  const first = missing[0];
  if (first !== undefined) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `chunk ${first} is not stored for this tenant${missing.length > 1 ? ` (nor are ${missing.length - 1} more)` : ''}: PUT every chunk missingChunks names to /chunks/<sha256>, then request the backup again`,
      { field: 'manifest', chunk: first, missing: missing.length },
    );
  }
  for (const [hash, length] of chunks) {
    const held = holders.get(hash)?.[0];
    if (held !== undefined && held.length !== length) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `chunk ${hash} has ${held.length} bytes, but the manifest says ${length}: give each chunk its real length`,
        { field: 'manifest', chunk: hash },
      );
    }
  }
}

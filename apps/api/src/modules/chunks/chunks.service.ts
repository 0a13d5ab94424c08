import { createHash } from 'node:crypto';
import { chunkHolders, recordStoredChunks, tenantMissingChunks } from '@echelon/db';
import { DomainError } from '@echelon/domain';
import { eachLimited, isChunkHash, MAX_CHUNK_SIZE } from '@echelon/storage';
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

/** The most bytes one batch of chunks (POST /chunks) may carry. */
export const MAX_CHUNK_BATCH_BYTES = 32 * 1024 * 1024;

/**
 * A batch body (POST /chunks): chunks one after another, each as `<sha256 in hex>:<length>\n` then its raw
 * bytes. Anything else is BAD_USER_INPUT naming the position.
 */
export function parseChunkBatch(body: Buffer): { hash: string; bytes: Buffer }[] {
  const chunks: { hash: string; bytes: Buffer }[] = [];
  let offset = 0;
  while (offset < body.length) {
    const newline = body.indexOf(0x0a, offset);
    const header = newline < 0 || newline - offset > 80 ? '' : body.toString('latin1', offset, newline);
    const match = /^([0-9a-f]{64}):([1-9]\d{0,7})$/.exec(header);
    if (match === null) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `chunk ${chunks.length} of the batch (byte ${offset}) has no "<sha256>:<length>\\n" header`,
        { field: 'body' },
      );
    }
    const [, hash = '', digits = ''] = match;
    const length = Number(digits);
    const start = newline + 1;
    if (length > MAX_CHUNK_SIZE || start + length > body.length) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `chunk ${chunks.length} of the batch (${hash}) says ${length} bytes, but ${Math.min(body.length - start, MAX_CHUNK_SIZE)} follow (at most ${MAX_CHUNK_SIZE})`,
        { field: 'body' },
      );
    }
    chunks.push({ hash, bytes: body.subarray(start, start + length) });
    offset = start + length;
  }
  if (chunks.length === 0) throw new DomainError('BAD_USER_INPUT', 'the batch holds no chunk', { field: 'body' });
  return chunks;
}

/** Chunk writes of one batch in flight at once. */
const PUTS_IN_FLIGHT = 4;

/**
 * Stores a batch of chunks (small files make many small chunks: one request and one durable flush for all of
 * them instead of one each). Every chunk is checked against its id before any is stored: one that does not match
 * refuses the whole batch and nothing is stored.
 */
export async function putChunks(
  context: RequestContext,
  input: { chunks: { hash: string; bytes: Buffer }[]; dataClass: string | null | undefined },
): Promise<{ hash: string; length: number; written: boolean }[]> {
  const { tenant } = tenantOf(context);
  for (const [index, chunk] of input.chunks.entries()) {
    const actual = createHash('sha256').update(chunk.bytes).digest('hex');
    if (actual !== chunk.hash) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `chunk ${index} of the batch says ${chunk.hash} but its bytes hash to ${actual}: nothing of the batch was stored`,
        { field: 'body', chunk: chunk.hash },
      );
    }
  }
  const sizeBytes = input.chunks.reduce((sum, chunk) => sum + chunk.bytes.length, 0);
  const placement = await intakePlacement(context, { sizeBytes, dataClass: input.dataClass });
  const space = await intakeSpaceById(context.db, context.config, tenant.id, placement.spaceId);
  // Each was hashed against its id above; a few writes at once keep the disk busy.
  await eachLimited(input.chunks, PUTS_IN_FLIGHT, (chunk) =>
    space.repository.put(chunk.hash, chunk.bytes, { isHashed: true }),
  );
  const stored = await space.repository.flush();
  await recordStoredChunks(context.db, tenant.id, space.spaceId, stored);
  const written = new Set(stored.filter((chunk) => chunk.written).map((chunk) => chunk.hash));
  return input.chunks.map((chunk) => ({
    hash: chunk.hash,
    length: chunk.bytes.length,
    written: written.has(chunk.hash),
  }));
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

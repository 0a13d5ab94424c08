import { DomainError } from '@echelon/domain';
import { isChunkHash, sha256Hex } from './chunk-store.js';
import { MAX_CHUNK_SIZE } from './chunker.js';

/**
 * Packs: many chunks in one object, so that a GiB of ~1.15 MiB chunks costs a few dozen PUTs rather than ~900
 * (docs/data-layout.md, "S3"). A pack is its chunks back to back, then a text index, then a fixed-size trailer:
 *
 *   <chunk bytes>...<index: "<sha256> <offset> <length>\n" per chunk, in offset order><trailer>
 *   trailer = "echelon.pack/1 <index length, 12 decimal digits> <sha256 of the index>\n" (93 bytes)
 *
 * Text rather than binary so that `tail -c 93`, `head -c` and `awk` read a pack by hand. The pack's id (its key's
 * last segment) is the sha256 of all its bytes, so `sha256sum` checks a whole pack against its name.
 */

export const PACK_MAGIC = 'echelon.pack/1';
/** `echelon.pack/1 ` + 12 digits + ` ` + 64 hex + `\n`. */
export const PACK_TRAILER_BYTES = PACK_MAGIC.length + 1 + 12 + 1 + 64 + 1;
const TRAILER = /^echelon\.pack\/1 (\d{12}) ([0-9a-f]{64})\n$/;
const INDEX_LINE = /^([0-9a-f]{64}) (0|[1-9]\d{0,14}) ([1-9]\d{0,14})$/;
const LOCATION = /^([0-9a-f]{64})@(0|[1-9]\d{0,14})$/;

const MIB = 1024 * 1024;
/** A pack is written once it holds this much: 16 MiB is ~64 PUTs per GiB and a modest buffer per writer. */
export const PACK_TARGET_BYTES = 16 * MIB;
/** No pack's chunk bytes exceed this (a chunk that would cross it goes to the next pack). */
export const PACK_MAX_BYTES = 32 * MIB;
/** Many tiny chunks (small files) would make a huge index: a pack holds at most this many. */
export const PACK_MAX_CHUNKS = 4096;

/** One chunk of a pack, as its index lists it. */
export interface PackEntry {
  hash: string;
  offset: number;
  length: number;
}

export interface SealedPack {
  /** sha256 of `bytes`: the pack's name. */
  id: string;
  bytes: Buffer;
  entries: PackEntry[];
}

/** The location a repository hands out for a chunk of a pack: `<pack id>@<offset>`. */
export const packLocation = (packId: string, offset: number): string => `${packId}@${offset}`;

/** The pack and offset of a location this repository returned; BAD_USER_INPUT for anything else. */
export function parsePackLocation(location: string): { packId: string; offset: number } {
  const match = LOCATION.exec(location);
  if (match === null) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `chunk location "${location.slice(0, 100)}" is not a pack location: expected "<pack sha256>@<offset>"`,
      { field: 'location' },
    );
  }
  return { packId: match[1]!, offset: Number(match[2]) };
}

/** The open pack: chunks gathered in memory until it is sealed and written. */
export class PackBuilder {
  private readonly parts: Buffer[] = [];
  private readonly offsets = new Map<string, number>();
  readonly entries: PackEntry[] = [];
  bytes = 0;

  get count(): number {
    return this.entries.length;
  }

  offsetOf(hash: string): number | undefined {
    return this.offsets.get(hash);
  }

  /** Whether `length` more bytes still fit. */
  canTake(length: number): boolean {
    return this.count < PACK_MAX_CHUNKS && this.bytes + length <= PACK_MAX_BYTES;
  }

  get isFull(): boolean {
    return this.bytes >= PACK_TARGET_BYTES || this.count >= PACK_MAX_CHUNKS;
  }

  /** Adds a chunk (a copy: the caller may reuse its buffer). */
  add(hash: string, bytes: Uint8Array): void {
    this.offsets.set(hash, this.bytes);
    this.entries.push({ hash, offset: this.bytes, length: bytes.length });
    this.parts.push(Buffer.from(bytes));
    this.bytes += bytes.length;
  }

  seal(): SealedPack {
    const index = Buffer.from(this.entries.map((entry) => `${entry.hash} ${entry.offset} ${entry.length}\n`).join(''));
    const trailer = Buffer.from(`${PACK_MAGIC} ${String(index.length).padStart(12, '0')} ${sha256Hex(index)}\n`);
    const bytes = Buffer.concat([...this.parts, index, trailer]);
    return { id: sha256Hex(bytes), bytes, entries: [...this.entries] };
  }
}

/** A pack whose tail does not read as the format says: the pack is damaged, or is no pack. */
export class PackFormatError extends Error {
  override readonly name = 'PackFormatError';
  constructor(
    readonly where: string,
    reason: string,
  ) {
    super(`${where} is not a readable ${PACK_MAGIC} pack: ${reason}`);
  }
}

/** The index length a pack's trailer announces (the trailer is the pack's last PACK_TRAILER_BYTES bytes). */
export function parsePackTrailer(
  trailer: Buffer,
  packSize: number,
  where: string,
): { indexLength: number; indexSha256: string } {
  const match = TRAILER.exec(trailer.toString('latin1'));
  if (trailer.length !== PACK_TRAILER_BYTES || match === null) {
    throw new PackFormatError(where, `its last ${PACK_TRAILER_BYTES} bytes are not a "${PACK_MAGIC}" trailer`);
  }
  const indexLength = Number(match[1]);
  if (indexLength + PACK_TRAILER_BYTES > packSize) {
    throw new PackFormatError(where, `its trailer announces an index of ${indexLength} bytes in a pack of ${packSize}`);
  }
  return { indexLength, indexSha256: match[2]! };
}

/**
 * The entries of a pack's index, checked: its sha256 is the trailer's, and the chunks lie back to back from offset
 * 0 up to the index, so every byte of the pack is accounted for.
 */
export function parsePackIndex(index: Buffer, indexSha256: string, packSize: number, where: string): PackEntry[] {
  if (sha256Hex(index) !== indexSha256) throw new PackFormatError(where, 'its index does not match its trailer');
  const text = index.toString('latin1');
  if (text !== '' && !text.endsWith('\n')) throw new PackFormatError(where, 'its index does not end with a newline');
  const entries: PackEntry[] = [];
  let expectedOffset = 0;
  for (const line of text === '' ? [] : text.slice(0, -1).split('\n')) {
    const match = INDEX_LINE.exec(line);
    if (match === null)
      throw new PackFormatError(where, `index line "${line.slice(0, 100)}" is not "<sha256> <offset> <length>"`);
    const entry = { hash: match[1]!, offset: Number(match[2]), length: Number(match[3]) };
    if (!isChunkHash(entry.hash) || entry.length > MAX_CHUNK_SIZE || entry.offset !== expectedOffset) {
      throw new PackFormatError(where, `index line "${line}" does not follow the chunk before it`);
    }
    entries.push(entry);
    expectedOffset += entry.length;
  }
  if (expectedOffset + index.length + PACK_TRAILER_BYTES !== packSize) {
    throw new PackFormatError(
      where,
      `its chunks, index and trailer add up to ${expectedOffset + index.length + PACK_TRAILER_BYTES} bytes, not ${packSize}`,
    );
  }
  return entries;
}

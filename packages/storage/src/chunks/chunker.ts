import { createHash } from 'node:crypto';
import { gearScan, scannedGear } from './gear-scan.js';

/** Smallest chunk the chunker cuts (only the last chunk of a stream may be shorter). */
export const MIN_CHUNK_SIZE = 256 * 1024;
/**
 * The normalization point: below it the chunker uses the harder mask, above it the easier one (FastCDC's "normal
 * size"). Chunks of random data average a little more than this, about 1.15 MiB, because no cut can come before
 * MIN_CHUNK_SIZE and cuts before this point are rare by design.
 */
export const AVERAGE_CHUNK_SIZE = 1024 * 1024;
/** Largest chunk: a cut is forced here, so a reader never needs to hold more than this for one chunk. */
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024;

/**
 * How far the two masks sit from log2(average): FastCDC's normalization level 2. With 20 bits for 1 MiB, the mask
 * before the normal point has 22 bits (a cut is 4× less likely than average) and the one after has 18 (4× more), so
 * chunk sizes bunch around the normal point instead of spreading out exponentially.
 */
const NORMALIZATION_LEVEL = 2;

export { GEAR_SEED, GEAR_TABLE } from './gear-table.js';

export interface ChunkerOptions {
  minSize?: number;
  averageSize?: number;
  maxSize?: number;
}

/** One content-defined chunk: where it sits in the stream, its bytes (a copy the caller owns) and their sha256. */
export interface Chunk {
  offset: number;
  length: number;
  /** sha256 of `bytes`, lowercase hex: the chunk's id. */
  hash: string;
  bytes: Buffer;
}

/**
 * The gear hash shifts left, so bit k of it depends on the last k + 1 bytes only: the masks take the top bits,
 * which see the widest window (the lowest mask bit still sees 11 bytes with 22 bits, 15 with 18).
 */
const topBitsMask = (bits: number): number => (bits >= 32 ? -1 : ~((1 << (32 - bits)) - 1)) | 0;

interface ChunkerParameters {
  minSize: number;
  normalSize: number;
  maxSize: number;
  maskS: number;
  maskL: number;
}

function parametersOf(options: ChunkerOptions): ChunkerParameters {
  const minSize = options.minSize ?? MIN_CHUNK_SIZE;
  const normalSize = options.averageSize ?? AVERAGE_CHUNK_SIZE;
  const maxSize = options.maxSize ?? MAX_CHUNK_SIZE;
  if (
    !Number.isSafeInteger(minSize) ||
    !Number.isSafeInteger(normalSize) ||
    !Number.isSafeInteger(maxSize) ||
    minSize < 64 ||
    !(minSize < normalSize && normalSize < maxSize) ||
    maxSize > 1024 * 1024 * 1024
  ) {
    throw new RangeError(
      `chunk sizes must be integers with 64 <= min < average < max <= 1 GiB; got min ${minSize}, average ${normalSize}, max ${maxSize}`,
    );
  }
  const bits = Math.round(Math.log2(normalSize));
  return {
    minSize,
    normalSize,
    maxSize,
    maskS: topBitsMask(Math.min(32, bits + NORMALIZATION_LEVEL)),
    maskL: topBitsMask(Math.max(1, bits - NORMALIZATION_LEVEL)),
  };
}

/**
 * A streaming FastCDC-style chunker. It copies pieces into one buffer of `maxSize` bytes, so its memory is bounded
 * whatever the piece sizes, and carries the gear hash and scan position across pieces, so boundaries depend only on
 * the bytes, never on how they were split. Hashing starts afresh at `minSize` into each chunk (cut-point skipping):
 * the bytes before it cannot hold a cut, and the 32-byte hash window makes a boundary depend only on the bytes near
 * it, which is what makes an edit disturb only the chunks around it.
 */
/** The chunker's first buffer; it doubles up to the maximum chunk size as a chunk needs it. */
const INITIAL_BUFFER_BYTES = 64 * 1024;

export class ContentDefinedChunker {
  private readonly parameters: ChunkerParameters;
  private pending: Buffer;
  /** Bytes of the chunk being built that sit in `pending`. */
  private filled = 0;
  /** How far into `pending` the gear loop has looked, and the hash it had there. */
  private scanned = 0;
  private gear = 0;
  /** Stream offset of `pending[0]`. */
  private offset = 0;
  private isDraining = false;

  constructor(options: ChunkerOptions = {}) {
    this.parameters = parametersOf(options);
    // Grown as a chunk needs it, up to the maximum: a small file (a tree's thousands) never pays for 4 MiB.
    this.pending = Buffer.allocUnsafe(Math.min(this.parameters.maxSize, INITIAL_BUFFER_BYTES));
  }

  /**
   * Takes one piece and yields the chunks it completes. Chunks are cut lazily, as the caller pulls them: drain the
   * iterator before the next `push`, which keeps a large piece from turning into many chunks held at once.
   */
  *push(piece: Uint8Array): Generator<Chunk> {
    if (this.isDraining) throw new Error('drain the chunks of the previous piece before pushing the next one');
    this.isDraining = true;
    try {
      let taken = 0;
      while (taken < piece.length) {
        if (this.filled === this.pending.length && this.pending.length < this.parameters.maxSize) {
          const grown = Buffer.allocUnsafe(Math.min(this.parameters.maxSize, this.pending.length * 2));
          this.pending.copy(grown, 0, 0, this.filled);
          this.pending = grown;
        }
        const room = this.pending.length - this.filled;
        const count = Math.min(room, piece.length - taken);
        this.pending.set(piece.subarray(taken, taken + count), this.filled);
        this.filled += count;
        taken += count;
        for (let cut = this.findCut(); cut > 0; cut = this.findCut()) yield this.emit(cut);
      }
    } finally {
      this.isDraining = false;
    }
  }

  /** Ends the stream: yields the remaining chunks, the last of which may be shorter than `minSize`. */
  *finish(): Generator<Chunk> {
    for (let cut = this.findCut(); cut > 0; cut = this.findCut()) yield this.emit(cut);
    if (this.filled > 0) yield this.emit(this.filled);
  }

  /** The length of the next chunk if its boundary is among the buffered bytes, else 0 (and the scan state saved). */
  private findCut(): number {
    const { minSize, normalSize, maxSize, maskS, maskL } = this.parameters;
    const filled = this.filled;
    if (filled <= minSize) return 0;
    let i = Math.max(this.scanned, minSize);
    let h = this.gear;
    // Before the normal point the harder mask, after it the easier one (see NORMALIZATION_LEVEL).
    for (const [end, mask] of [
      [Math.min(filled, normalSize), maskS],
      [Math.min(filled, maxSize), maskL],
    ] as const) {
      if (i >= end) continue;
      const cut = gearScan(this.pending, i, end, h, mask);
      if (cut >= 0) return cut + 1;
      h = scannedGear();
      i = end;
    }
    if (i >= maxSize) return maxSize;
    this.scanned = i;
    this.gear = h;
    return 0;
  }

  private emit(length: number): Chunk {
    const bytes = Buffer.allocUnsafe(length);
    this.pending.copy(bytes, 0, 0, length);
    this.pending.copyWithin(0, length, this.filled);
    const chunk: Chunk = {
      offset: this.offset,
      length,
      hash: createHash('sha256').update(bytes).digest('hex'),
      bytes,
    };
    this.filled -= length;
    this.offset += length;
    this.scanned = 0;
    this.gear = 0;
    return chunk;
  }
}

/**
 * Cuts a stream of pieces (any sizes, down to single bytes) into content-defined chunks, in order. Memory stays
 * within one maximum-size chunk plus the piece being read, however the source splits its bytes.
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ChunkerOptions = {},
): AsyncGenerator<Chunk> {
  const chunker = new ContentDefinedChunker(options);
  for await (const piece of source) yield* chunker.push(piece);
  yield* chunker.finish();
}

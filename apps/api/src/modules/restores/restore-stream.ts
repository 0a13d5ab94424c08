import { createHash } from 'node:crypto';
import { type ChunkRepository, ChecksumMismatchError, type ManifestEntry, readFirstWhole } from '@echelon/storage';
import { TAR_END, tarHeaderOf, tarPaddingAfter } from './tar.js';

/** One copy a download may read chunks from: its repository, and where its space's index says each chunk sits. */
export interface ChunkSource {
  replicaId: string;
  spaceId: string;
  /** "the primary copy on <system>", for messages. */
  label: string;
  repository: ChunkRepository;
  /** The chunks the index says this space holds, with their location inside it. */
  locations: Map<string, string | null>;
}

/** How many chunks a download reads ahead of the one it is sending. */
const READ_AHEAD = 4;

/**
 * Reads chunks from the healthiest copy first (readFirstWhole). A chunk missing or corrupt there is read from the
 * next copy that holds it, and `onBadChunk` hears about the bad one (the index forgets it there and the replica's
 * history says so), once per copy and chunk. Copies the index does not credit with a chunk are tried last: the
 * index may lag a crash between a chunk landing and its row.
 */
export class ChunkReader {
  private readonly reported = new Set<string>();

  constructor(
    private readonly sources: readonly ChunkSource[],
    private readonly onBadChunk: (source: ChunkSource, hash: string, problem: string) => Promise<void>,
  ) {}

  async read(hash: string, length: number): Promise<Buffer> {
    const credited = this.sources.filter((source) => source.locations.has(hash));
    const others = this.sources.filter((source) => !source.locations.has(hash));
    const bySpace = new Map(this.sources.map((source) => [source.spaceId, source]));
    const candidates = [...credited, ...others].map((source) => ({
      spaceId: source.spaceId,
      label: source.label,
      repository: source.repository,
      location: source.locations.get(hash) ?? null,
    }));
    const { bytes } = await readFirstWhole(hash, length, candidates, async (candidate, problem) => {
      const source = bySpace.get(candidate.spaceId) as ChunkSource;
      const key = `${source.spaceId}/${hash}`;
      if (!source.locations.has(hash) || this.reported.has(key)) return;
      this.reported.add(key);
      source.locations.delete(hash);
      await this.onBadChunk(source, hash, problem).catch(() => undefined);
    });
    return bytes;
  }
}

/** A byte range of an entry, both ends included (as HTTP Range says it). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The bytes of one entry, or of `range` of it, chunk by chunk with a few chunks read ahead. Every chunk is verified
 * by its hash as it is read; a whole entry is also checked against its sha256, and its last piece is held back
 * until that check passed, so a reader never receives all of a wrong entry.
 */
export async function* entryBytes(
  entry: ManifestEntry,
  reader: ChunkReader,
  range?: ByteRange,
): AsyncGenerator<Buffer> {
  const start = range?.start ?? 0;
  const end = range?.end ?? entry.size - 1;
  const isWhole = start === 0 && end === entry.size - 1;
  // The chunks that overlap the range, with the offset each starts at.
  const wanted: { hash: string; length: number; offset: number }[] = [];
  let offset = 0;
  for (const [hash, length] of entry.chunks) {
    if (offset + length > start && offset <= end) wanted.push({ hash, length, offset });
    offset += length;
  }
  const whole = isWhole ? createHash('sha256') : undefined;
  const inFlight: Promise<Buffer>[] = [];
  let next = 0;
  const fill = () => {
    while (inFlight.length < READ_AHEAD && next < wanted.length) {
      const chunk = wanted[next++] as (typeof wanted)[number];
      const read = reader.read(chunk.hash, chunk.length);
      // A reader that stops early never awaits what was read ahead: keep its failure from going unhandled.
      read.catch(() => undefined);
      inFlight.push(read);
    }
  };
  fill();
  for (let index = 0; index < wanted.length; index++) {
    const bytes = await (inFlight.shift() as Promise<Buffer>);
    fill();
    const chunk = wanted[index] as (typeof wanted)[number];
    const from = Math.max(0, start - chunk.offset);
    const to = Math.min(chunk.length, end - chunk.offset + 1);
    const piece = from === 0 && to === chunk.length ? bytes : bytes.subarray(from, to);
    whole?.update(piece);
    if (whole !== undefined && index === wanted.length - 1) {
      const actual = whole.digest('hex');
      if (actual !== entry.sha256) throw new ChecksumMismatchError(entry.sha256, actual, entry.path);
    }
    yield piece;
  }
}

/** A tar archive of `entries` (paths relative to `base`, when given), each file verified as above. */
export async function* tarOf(
  entries: readonly ManifestEntry[],
  reader: ChunkReader,
  base?: string,
): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    const inside = base === undefined ? entry.path : entry.path.slice(base.length + 1);
    yield tarHeaderOf({ path: inside, mode: entry.mode, mtime: new Date(entry.mtime), size: entry.size });
    yield* entryBytes(entry, reader);
    const pad = tarPaddingAfter(entry.size);
    if (pad.length > 0) yield pad;
  }
  yield TAR_END;
}

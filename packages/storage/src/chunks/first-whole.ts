import { ChecksumMismatchError } from '../adapter.js';
import { ChunkCorruptError, ChunkMissingError } from './chunk-store.js';
import type { ChunkRepository } from './repository.js';

/** A place a chunk may be read from: a copy's repository, and where its space's index says the chunk sits. */
export interface ChunkCandidate {
  spaceId: string;
  /** "the primary copy on <system>", "<system>/<space>": for messages. */
  label: string;
  repository: ChunkRepository;
  location: string | null;
}

/** No candidate supplied a chunk whole: what each answered, and the last failure that was not a bad chunk. */
export class ChunkUnavailableError extends Error {
  override readonly name = 'ChunkUnavailableError';
  constructor(
    readonly hash: string,
    readonly problems: readonly string[],
    /** A storage that failed otherwise (it may answer later); undefined when every candidate lacked the chunk. */
    readonly unreadable: unknown,
  ) {
    super(`chunk ${hash} could not be read from any copy: ${problems.join('; ') || 'no copy holds it'}`);
  }
}

/**
 * The chunk's bytes, and the candidate they came from, from the first candidate, in order, that has them whole: every read is verified by the
 * repository against the hash, and its length against `length`. A candidate whose chunk is missing, corrupt or of
 * the wrong length is handed to `onBad` (which may forget it in the index, or throw to stop), then the next is
 * read; one whose storage fails otherwise is noted and the next is read. ChunkUnavailableError when none could.
 * Restores (the API) and copies (the worker) read chunks through this, each with its own order of candidates.
 */
export async function readFirstWhole<C extends ChunkCandidate>(
  hash: string,
  length: number,
  candidates: Iterable<C>,
  onBad: (candidate: C, problem: string, kind: 'missing' | 'corrupt') => Promise<void> | void,
): Promise<{ bytes: Buffer; from: C }> {
  const problems: string[] = [];
  let unreadable: unknown;
  for (const candidate of candidates) {
    let bytes: Buffer;
    try {
      bytes = await candidate.repository.get({ hash, length, location: candidate.location });
      if (bytes.length !== length) {
        throw new ChecksumMismatchError(`${length} bytes`, `${bytes.length} bytes`, `chunk ${hash}`);
      }
      return { bytes, from: candidate };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const problem = `${candidate.label}: ${message}`;
      problems.push(problem);
      if (error instanceof ChunkMissingError) await onBad(candidate, problem, 'missing');
      else if (error instanceof ChunkCorruptError || error instanceof ChecksumMismatchError) {
        await onBad(candidate, problem, 'corrupt');
      } else unreadable = error;
    }
  }
  throw new ChunkUnavailableError(hash, problems, unreadable);
}

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesystemChunkStore, sha256Hex } from './chunk-store.js';
import { type ChunkCandidate, ChunkUnavailableError, readFirstWhole } from './first-whole.js';
import { type ChunkRepository, FilesystemChunkRepository } from './repository.js';
import { seededBytes } from './test-support.js';

const TENANT = '3f1c9a52-6b7e-4d1a-8c2f-9e0b5a7d4c31';

describe('readFirstWhole', () => {
  let root: string;
  const bytes = seededBytes(50_000, 3);
  const hash = sha256Hex(bytes);
  const candidateIn = async (space: string, store = true): Promise<ChunkCandidate> => {
    const repository = new FilesystemChunkRepository({ root, space, tenantId: TENANT });
    if (store) {
      await repository.put(hash, bytes);
      await repository.flush();
    }
    return { spaceId: space, label: `copy ${space}`, repository, location: null };
  };

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'echelon-first-whole-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads past a corrupt and a missing copy to a whole one, reporting each bad one', async () => {
    const corrupt = await candidateIn('a');
    const missing = await candidateIn('b', false);
    const whole = await candidateIn('c');
    const file = new FilesystemChunkStore({ root, space: 'a', tenantId: TENANT }).chunkPath(hash);
    await writeFile(file, Buffer.concat([bytes.subarray(0, 100), Buffer.from('x'), bytes.subarray(101)]));
    const bad: [string, string][] = [];
    const read = await readFirstWhole(hash, bytes.length, [corrupt, missing, whole], (candidate, _problem, kind) => {
      bad.push([candidate.spaceId, kind]);
    });
    expect(read.bytes.equals(bytes)).toBe(true);
    expect(read.from.spaceId).toBe('c');
    expect(bad).toEqual([
      ['a', 'corrupt'],
      ['b', 'missing'],
    ]);
  });

  it('fails naming every copy when none is whole; a storage failure is kept apart from a bad chunk', async () => {
    const missing = await candidateIn('b', false);
    const failing: ChunkCandidate = {
      spaceId: 'f',
      label: 'copy f',
      location: null,
      repository: {
        get: async () => {
          throw new Error('connection reset');
        },
      } as unknown as ChunkRepository,
    };
    const error = await readFirstWhole(hash, bytes.length, [missing, failing], () => undefined).catch((e) => e);
    expect(error).toBeInstanceOf(ChunkUnavailableError);
    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain('copy b');
    expect(error.message).toContain('connection reset');
    expect((error.unreadable as Error).message).toBe('connection reset');
    // Only missing copies: nothing merely unreadable.
    const onlyMissing = await readFirstWhole(hash, bytes.length, [missing], () => undefined).catch((e) => e);
    expect(onlyMissing.unreadable).toBeUndefined();
  });

  it('takes a wrong length as a bad copy', async () => {
    const whole = await candidateIn('c');
    const bad: string[] = [];
    const error = await readFirstWhole(hash, bytes.length + 1, [whole], (_candidate, _problem, kind) => {
      bad.push(kind);
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ChunkUnavailableError);
    expect(bad).toEqual(['corrupt']);
  });
});

import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  contentsFromManifest,
  MAX_MANIFEST_CHUNKS,
  MAX_MANIFEST_ENTRIES,
  type ManifestRequest,
} from './backup-manifest.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const EMPTY = sha256('');
const owner = { tenantId: randomUUID(), datasetKey: 'home/alice' };
const mtime = new Date('2026-01-02T03:04:05.000Z');

const emptyFile = (path: string) => ({ path, mode: '0644', mtime, size: 0, sha256: EMPTY, chunks: [] });

const refusal = (input: ManifestRequest) => {
  try {
    contentsFromManifest(input, owner);
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  return undefined;
};

describe('a manifest sent with requestBackup', () => {
  it('becomes contents in canonical order with the tree hash and the total size', () => {
    const a = sha256('a');
    const result = contentsFromManifest(
      {
        kind: 'tree',
        entries: [
          { path: 'z.txt', mode: '0600', mtime, size: 1, sha256: a, chunks: [{ hash: a, length: 1 }] },
          emptyFile('a/empty'),
        ],
      },
      owner,
    );
    expect(result.contents.entries.map((entry) => entry.path)).toEqual(['a/empty', 'z.txt']);
    expect(result.sizeBytes).toBe(1);
    expect(result.sha256).toBe(sha256(`${EMPTY}  a/empty\n${a}  z.txt\n`));
  });

  it('is refused with BAD_USER_INPUT when it lists too many files or chunks', () => {
    const many = Array.from({ length: MAX_MANIFEST_ENTRIES + 1 }, (_, index) => emptyFile(`f/${index}`));
    expect(refusal({ kind: 'tree', entries: many })).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(refusal({ kind: 'tree', entries: many })?.message).toContain(`at most ${MAX_MANIFEST_ENTRIES}`);
    const hash = sha256('x');
    const chunky = {
      ...emptyFile('big'),
      size: MAX_MANIFEST_CHUNKS + 1,
      sha256: sha256('whole'),
      chunks: Array.from({ length: MAX_MANIFEST_CHUNKS + 1 }, () => ({ hash, length: 1 })),
    };
    expect(refusal({ kind: 'object', entries: [chunky] })?.message).toContain(`at most ${MAX_MANIFEST_CHUNKS}`);
    expect(refusal({ kind: 'tree', entries: [] })?.message).toContain('at least one file');
  });

  it('is refused for an entry of one chunk whose hash is not that chunk’s, or of several that names one', () => {
    const a = sha256('a');
    const b = sha256('b');
    expect(
      refusal({
        kind: 'object',
        entries: [{ ...emptyFile('f'), size: 1, sha256: b, chunks: [{ hash: a, length: 1 }] }],
      }),
    ).toMatchObject({ code: 'BAD_USER_INPUT' });
    const two = [
      { hash: a, length: 1 },
      { hash: b, length: 1 },
    ];
    expect(
      refusal({ kind: 'object', entries: [{ ...emptyFile('f'), size: 2, sha256: a, chunks: two }] })?.message,
    ).toContain('whole file');
    expect(
      refusal({ kind: 'object', entries: [{ ...emptyFile('f'), size: 2, sha256: sha256('ab'), chunks: two }] }),
    ).toBeUndefined();
  });

  it('is refused for paths that climb, are absolute or hold NUL', () => {
    for (const path of ['../up', 'a/../b', '/etc/passwd', 'nul\u0000']) {
      expect(refusal({ kind: 'tree', entries: [emptyFile(path)] })).toMatchObject({ code: 'BAD_USER_INPUT' });
    }
  });
});

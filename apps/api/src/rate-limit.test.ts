import { isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { COST_EXTENSION } from './query-limits.js';
import { TokenBuckets } from './token-buckets.js';
import { buildEchelonSchema } from './schema.js';

describe('token buckets per key', () => {
  it('allow a minute’s calls at once, then one every 60/N seconds, per key', () => {
    let now = 1_000_000;
    const buckets = new TokenBuckets(30, 100, () => now);
    for (let call = 0; call < 30; call++) expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(2);
    expect(buckets.take('b')).toBe(0);
    now += 1_999;
    expect(buckets.take('a')).toBe(1);
    now += 1;
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(2);
    // A quiet minute fills the bucket again, never beyond its size.
    now += 10 * 60_000;
    for (let call = 0; call < 30; call++) expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBeGreaterThan(0);
  });

  it('charge a weighted call its cost: a big one waits until that many tokens are back', () => {
    let now = 0;
    const buckets = new TokenBuckets(256, 100, () => now);
    expect(buckets.take('a', 128)).toBe(0);
    expect(buckets.take('a', 128)).toBe(0);
    // Empty: 128 tokens come back at 256 a minute, in 30 s.
    expect(buckets.take('a', 128)).toBe(30);
    expect(buckets.take('a', 1)).toBe(1);
    now += 30_000;
    expect(buckets.take('a', 128)).toBe(0);
  });

  it('keep at most maxBuckets keys, dropping full buckets first and then the least recently used', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, 3, () => now);
    buckets.take('busy');
    buckets.take('busy');
    for (const key of ['x', 'y', 'z', 'w']) buckets.take(key);
    expect(buckets.size).toBeLessThanOrEqual(3);
    expect(buckets.take('w')).toBe(0);
    expect(buckets.take('w')).toBeGreaterThan(0);
    // 'busy' was used least recently and was dropped: it starts afresh, which only ever lets a call through early.
    expect(buckets.take('busy')).toBe(0);
    now += 60_000;
    for (let key = 0; key < 1000; key++) buckets.take(`k${key}`);
    expect(buckets.size).toBeLessThanOrEqual(3);
  });
});

describe('expensive fields', () => {
  it('are verifyAuditChain, previewScheme and previewRetention, each with its declared cost and a rate limit', async () => {
    const query = (await buildEchelonSchema()).getQueryType();
    if (!isObjectType(query)) throw new Error('no Query type');
    const expensive = Object.values(query.getFields())
      .filter((field) => field.extensions.expensive === true)
      .map((field) => [field.name, field.extensions[COST_EXTENSION]]);
    expect(expensive.sort()).toEqual([
      ['previewRetention', 1000],
      ['previewScheme', 100],
      ['verifyAuditChain', 1000],
    ]);
  });
});

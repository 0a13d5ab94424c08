import { describe, expect, it } from 'vitest';
import { generateApiSecret, hashSecret, isLegacyHash, legacyScryptHash, prefixOf, verifySecret } from './api-keys.js';
import { decodeJobCursor, encodeJobCursor } from './repositories/jobs.js';

describe('API key secrets', () => {
  it('are stored as a sha256 digest that only the secret verifies, never the secret itself', async () => {
    const { secret, prefix } = generateApiSecret();
    expect(prefixOf(secret)).toBe(prefix);
    const stored = await hashSecret(secret);
    expect(stored).not.toContain(secret);
    expect(stored).toMatch(/^sha256\$[0-9a-f]{64}$/);
    expect(isLegacyHash(stored)).toBe(false);
    expect(await verifySecret(secret, stored)).toBe(true);
    expect(await verifySecret(`${secret}x`, stored)).toBe(false);
    expect(await verifySecret(secret, await hashSecret(generateApiSecret().secret))).toBe(false);
    expect(await verifySecret(secret, 'sha256$')).toBe(false);
  });

  it('issued as scrypt hashes before still verify, and are marked for rewriting', async () => {
    const { secret } = generateApiSecret();
    const legacy = await legacyScryptHash(secret);
    expect(legacy).toMatch(/^scrypt\$/);
    expect(isLegacyHash(legacy)).toBe(true);
    expect(await verifySecret(secret, legacy)).toBe(true);
    expect(await verifySecret(`${secret}x`, legacy)).toBe(false);
    expect(await verifySecret(secret, 'md5$abc')).toBe(false);
  });

  it('have a recognisable shape; anything else has no prefix', () => {
    expect(prefixOf('Bearer nonsense')).toBeUndefined();
    expect(prefixOf("ech_0123456789ab_' OR 1=1 --")).toBeUndefined();
    expect(prefixOf('')).toBeUndefined();
  });
});

describe('job cursors', () => {
  it('round-trip and reject what the API did not issue', () => {
    const cursor = { createdAt: new Date('2026-11-28T00:00:00.123Z'), id: '3f1c0d5e-0000-4000-8000-000000000001' };
    expect(decodeJobCursor(encodeJobCursor(cursor))).toEqual(cursor);
    expect(() => decodeJobCursor('garbage')).toThrow(/not a cursor/);
  });
});

import { describe, expect, it } from 'vitest';
import { generateApiSecret, hashSecret, prefixOf, verifySecret } from './api-keys.js';
import { decodeJobCursor, encodeJobCursor } from './repositories/jobs.js';

describe('API key secrets', () => {
  it('are stored as a salted scrypt hash that only the secret verifies', async () => {
    const { secret, prefix } = generateApiSecret();
    expect(prefixOf(secret)).toBe(prefix);
    const stored = await hashSecret(secret);
    expect(stored).not.toContain(secret);
    expect(stored).toMatch(/^scrypt\$/);
    expect(await verifySecret(secret, stored)).toBe(true);
    expect(await verifySecret(`${secret}x`, stored)).toBe(false);
    expect(await verifySecret(secret, await hashSecret(generateApiSecret().secret))).toBe(false);
    expect(await hashSecret(secret)).not.toBe(stored);
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

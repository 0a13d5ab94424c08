import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StorageSystem } from './generated/prisma/client.js';
import { redact } from './repositories/audit.js';
import { sealStorageSecrets, storageConnectionOf } from './repositories/storage.js';
import { openSecret, SecretSealError, sealSecret } from './secrets.js';

const key = randomBytes(32);
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** Flips one bit of one byte of the base64 part at `index` (1: IV, 2: tag, 3: ciphertext). */
function flip(sealed: string, index: number): string {
  const parts = sealed.split(':');
  const bytes = Buffer.from(parts[index] ?? '', 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  parts[index] = bytes.toString('base64');
  return parts.join(':');
}

describe('sealed secrets (AES-256-GCM)', () => {
  it('round-trips, with a fresh IV each time and no plaintext in the sealed form', () => {
    const first = sealSecret(key, SECRET, 'row-1');
    const second = sealSecret(key, SECRET, 'row-1');
    expect(first).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain(SECRET);
    expect(first).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(openSecret(key, first, 'row-1')).toBe(SECRET);
    expect(openSecret(key, second, 'row-1')).toBe(SECRET);
  });

  it('refuses a sealed value with any flipped byte: IV, tag or ciphertext', () => {
    const sealed = sealSecret(key, SECRET, 'row-1');
    for (const index of [1, 2, 3]) {
      expect(() => openSecret(key, flip(sealed, index), 'row-1')).toThrow(SecretSealError);
    }
  });

  it('refuses another key, another context and malformed input, saying what to check', () => {
    const sealed = sealSecret(key, SECRET, 'row-1');
    expect(() => openSecret(randomBytes(32), sealed, 'row-1')).toThrow(/another key \(ECHELON_SECRET_KEY\)/);
    expect(() => openSecret(key, sealed, 'row-2')).toThrow(SecretSealError);
    for (const malformed of ['', 'v1:a:b', `v2:${sealed.slice(3)}`, 'v1:AAAA:AAAA:AAAA']) {
      expect(() => openSecret(key, malformed, 'row-1')).toThrow(SecretSealError);
    }
    expect(() => sealSecret(randomBytes(16), SECRET, 'row-1')).toThrow(/32 bytes/);
  });
});

describe('storage connections', () => {
  const tenantId = '00000000-0000-4000-8000-000000000001';
  const id = '00000000-0000-4000-8000-00000000000a';
  const settings = { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', accessKeyId: 'AK', forcePathStyle: true };
  const system = (secretConfig: string | null, overrides: Partial<StorageSystem> = {}): StorageSystem => ({
    id,
    tenantId,
    name: 'ceph',
    kind: 'S3',
    config: settings,
    secretConfig,
    healthy: true,
    createdAt: new Date(),
    ...overrides,
  });

  it('merges the decrypted secrets into the settings for the adapter', () => {
    const sealed = sealStorageSecrets(key, tenantId, id, { secretAccessKey: SECRET });
    expect(storageConnectionOf(system(sealed), key)).toEqual({
      id,
      kind: 'S3',
      config: { ...settings, secretAccessKey: SECRET },
    });
    expect(storageConnectionOf(system(null, { kind: 'FILESYSTEM', config: { root: '/srv' } }), undefined)).toEqual({
      id,
      kind: 'FILESYSTEM',
      config: { root: '/srv' },
    });
  });

  it('is STORAGE_UNAVAILABLE without the key, with another key, or for secrets moved to another row', () => {
    const sealed = sealStorageSecrets(key, tenantId, id, { secretAccessKey: SECRET });
    expect(() => storageConnectionOf(system(sealed), undefined)).toThrow(/needs ECHELON_SECRET_KEY/);
    expect(() => storageConnectionOf(system(sealed), randomBytes(32))).toThrow(
      expect.objectContaining({ code: 'STORAGE_UNAVAILABLE' }),
    );
    const otherRow = '00000000-0000-4000-8000-00000000000b';
    expect(() => storageConnectionOf(system(sealed, { id: otherRow }), key)).toThrow(/cannot open the credentials/);
    expect(() => storageConnectionOf(system(sealed, { tenantId: otherRow }), key)).toThrow(
      expect.objectContaining({ code: 'STORAGE_UNAVAILABLE' }),
    );
  });

  it('keeps the sealed column out of audit snapshots', () => {
    const sealed = sealStorageSecrets(key, tenantId, id, { secretAccessKey: SECRET });
    const audited = redact(system(sealed)) as Record<string, unknown>;
    expect(audited).not.toHaveProperty('secretConfig');
    expect(JSON.stringify(audited)).not.toContain(sealed);
    expect(audited).toMatchObject({ name: 'ceph', config: settings });
  });
});

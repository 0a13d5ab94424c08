import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const FORMAT = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value that cannot be opened: wrong key, wrong row, or changed since it was sealed. */
export class SecretSealError extends Error {
  override readonly name = 'SecretSealError';
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new SecretSealError(`a secret key is ${KEY_BYTES} bytes, not ${key.length}`);
}

/**
 * Encrypts `plaintext` with AES-256-GCM under `key`, a fresh random 12-byte IV per call, and `context` as
 * additional authenticated data, so a sealed value only opens for the record it was sealed for.
 * Result: `v1:<iv base64>:<tag base64>:<ciphertext base64>`.
 */
export function sealSecret(key: Buffer, plaintext: string, context: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [FORMAT, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join(':');
}

/** Opens what `sealSecret` sealed; any change to the value, the key or the context is a SecretSealError. */
export function openSecret(key: Buffer, sealed: string, context: string): string {
  checkKey(key);
  const parts = sealed.split(':');
  if (parts.length !== 4 || parts[0] !== FORMAT) {
    throw new SecretSealError(`a sealed secret starts with "${FORMAT}:" and has four ":"-separated parts`);
  }
  const [, ivText = '', tagText = '', ciphertextText = ''] = parts;
  const iv = Buffer.from(ivText, 'base64');
  const tag = Buffer.from(tagText, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SecretSealError('a sealed secret has a malformed IV or authentication tag');
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretSealError(
      'a sealed secret did not authenticate: it was sealed under another key (ECHELON_SECRET_KEY) or has been altered',
    );
  }
}

import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

const KEY_LENGTH = 32;

export interface GeneratedSecret {
  /** Shown to the caller once: `ech_<prefix>_<random>`. */
  secret: string;
  /** Stored in clear and indexed: finds the key without scanning hashes. */
  prefix: string;
}

export function generateApiSecret(): GeneratedSecret {
  const prefix = randomBytes(6).toString('hex');
  const body = randomBytes(24).toString('base64url');
  return { secret: `ech_${prefix}_${body}`, prefix };
}

/** The prefix of a well-formed secret, or undefined for anything else. */
export function prefixOf(secret: string): string | undefined {
  const match = /^ech_([0-9a-f]{12})_[A-Za-z0-9_-]{32}$/.exec(secret);
  return match?.[1];
}

/**
 * The stored form of a secret: `sha256$<hex>`. A secret carries 192 random bits, so a stolen hash cannot be
 * reversed by guessing, and a slow, salted hash (made for passwords people choose) would buy nothing but CPU on
 * every sign-in; a fast hash is what API platforms store for their tokens. Keys issued before are scrypt hashes
 * (`scrypt$<salt>$<hash>`): they still verify, and are rewritten in this form the first time they do.
 */
export async function hashSecret(secret: string): Promise<string> {
  return `sha256$${createHash('sha256').update(secret).digest('hex')}`;
}

/** Whether a stored hash is in an older form that the next successful sign-in should rewrite. */
export const isLegacyHash = (stored: string): boolean => !stored.startsWith('sha256$');

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, first, second] = stored.split('$');
  if (scheme === 'sha256' && first !== undefined) {
    const expected = Buffer.from(first, 'hex');
    const actual = createHash('sha256').update(secret).digest();
    return expected.length === actual.length && timingSafeEqual(actual, expected);
  }
  if (scheme !== 'scrypt' || first === undefined || second === undefined) return false;
  const expected = Buffer.from(second, 'base64');
  const actual = await scrypt(secret, Buffer.from(first, 'base64'), expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** scrypt with a random salt: the form keys had before; kept so that tests can make such a key. */
export async function legacyScryptHash(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

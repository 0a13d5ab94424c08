import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
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

/** scrypt with a random salt; the stored form names its parameters. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, saltText, hashText] = stored.split('$');
  if (scheme !== 'scrypt' || saltText === undefined || hashText === undefined) return false;
  const expected = Buffer.from(hashText, 'base64');
  const actual = await scrypt(secret, Buffer.from(saltText, 'base64'), expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

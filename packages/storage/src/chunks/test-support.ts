import { createCipheriv, createHash } from 'node:crypto';

/** Deterministic pseudo-random bytes (AES-256-CTR of zeros): the same on every run and machine. */
export function seededBytes(length: number, seed: number): Buffer {
  const key = createHash('sha256').update(`test-seed:${seed}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** A small deterministic PRNG (mulberry32) for piece sizes and edit positions. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

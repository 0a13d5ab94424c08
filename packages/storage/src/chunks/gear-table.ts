import { createHash } from 'node:crypto';

/** The seed the gear table is derived from. Changing it moves every boundary, and so breaks dedup with old data. */
export const GEAR_SEED = 'echelon-gear/1';

/**
 * The gear table: entry i is the first four bytes (big-endian) of sha256(`${GEAR_SEED}:${i}`). Derived rather than
 * pasted so that any implementation (a client in another language) can rebuild it exactly; fixed so that
 * boundaries, and with them dedup, are the same on every machine and in every release.
 */
export const GEAR_TABLE: Int32Array = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    table[i] = createHash('sha256').update(`${GEAR_SEED}:${i}`).digest().readInt32BE(0);
  }
  return table;
})();

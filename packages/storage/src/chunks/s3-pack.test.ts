import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  PACK_TRAILER_BYTES,
  PackBuilder,
  PackFormatError,
  parsePackIndex,
  parsePackLocation,
  parsePackTrailer,
} from './s3-pack.js';
import { seededBytes } from './test-support.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function packOf(...chunks: Buffer[]) {
  const builder = new PackBuilder();
  for (const chunk of chunks) builder.add(sha(chunk), chunk);
  return builder.seal();
}

/** The index as a reader finds it: the trailer announces its length and hash. */
function readIndex(bytes: Buffer) {
  const { indexLength, indexSha256 } = parsePackTrailer(
    bytes.subarray(bytes.length - PACK_TRAILER_BYTES),
    bytes.length,
    'pack',
  );
  const end = bytes.length - PACK_TRAILER_BYTES;
  return parsePackIndex(bytes.subarray(end - indexLength, end), indexSha256, bytes.length, 'pack');
}

describe('pack format echelon.pack/1', () => {
  it('is named by its sha256 and lists its chunks back to back, readable from its tail alone', () => {
    const chunks = [seededBytes(1000, 1), seededBytes(2500, 2), seededBytes(7, 3)];
    const pack = packOf(...chunks);
    expect(pack.id).toBe(sha(pack.bytes));
    const entries = readIndex(pack.bytes);
    expect(entries).toEqual([
      { hash: sha(chunks[0]!), offset: 0, length: 1000 },
      { hash: sha(chunks[1]!), offset: 1000, length: 2500 },
      { hash: sha(chunks[2]!), offset: 3500, length: 7 },
    ]);
    for (const [index, entry] of entries.entries()) {
      expect(pack.bytes.subarray(entry.offset, entry.offset + entry.length).equals(chunks[index]!)).toBe(true);
    }
    const tail = pack.bytes.subarray(pack.bytes.length - PACK_TRAILER_BYTES).toString();
    expect(tail).toMatch(/^echelon\.pack\/1 \d{12} [0-9a-f]{64}\n$/);
    expect(pack.bytes.subarray(3507, pack.bytes.length - PACK_TRAILER_BYTES).toString()).toBe(
      `${sha(chunks[0]!)} 0 1000\n${sha(chunks[1]!)} 1000 2500\n${sha(chunks[2]!)} 3500 7\n`,
    );
  });

  it('refuses a damaged trailer or index, and an index that does not account for every byte', () => {
    const pack = packOf(seededBytes(1000, 4), seededBytes(900, 5));
    const damagedTrailer = Buffer.from(pack.bytes);
    damagedTrailer[damagedTrailer.length - 3] = 0x21;
    expect(() => readIndex(damagedTrailer)).toThrow(PackFormatError);
    const damagedIndex = Buffer.from(pack.bytes);
    damagedIndex[1900 + 70] = damagedIndex[1900 + 70]! ^ 0x01;
    expect(() => readIndex(damagedIndex)).toThrow(/does not match its trailer/);
    const longer = Buffer.concat([Buffer.from('x'), pack.bytes]);
    expect(() => readIndex(longer)).toThrow(/add up to/);
  });

  it('reads only locations of the form <pack sha256>@<offset>', () => {
    const id = 'a'.repeat(64);
    expect(parsePackLocation(`${id}@123`)).toEqual({ packId: id, offset: 123 });
    for (const bad of [`${id}@-1`, `${id}@01`, `${id}`, `../${id}@1`, `${'A'.repeat(64)}@1`]) {
      expect(() => parsePackLocation(bad)).toThrow(/not a pack location/);
    }
  });
});

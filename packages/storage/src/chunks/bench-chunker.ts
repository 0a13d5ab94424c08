/**
 * Chunker throughput on one core: `node --import tsx packages/storage/src/chunks/bench-chunker.ts [MiB]`.
 * Prints MB/s (10^6 bytes per second) for sha256 alone, for the chunker with its per-chunk sha256, and the chunk
 * size figures, on random data fed in 64 KiB pieces (what a file or HTTP stream hands over).
 */
import { createHash, randomFillSync } from 'node:crypto';
import { chunkStream } from './chunker.js';

const mebibytes = Number(process.argv[2] ?? 256);
const data = randomFillSync(Buffer.allocUnsafe(mebibytes * 1024 * 1024));
const PIECE = 64 * 1024;

function* pieces(): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += PIECE) yield data.subarray(offset, offset + PIECE);
}

const megabytesPerSecond = (bytes: number, nanoseconds: bigint): string =>
  ((bytes / Number(nanoseconds)) * 1000).toFixed(0);

async function main(): Promise<void> {
  for (let round = 1; round <= 3; round++) {
    let started = process.hrtime.bigint();
    for (let offset = 0; offset < data.length; offset += AVERAGE_PIECE) {
      createHash('sha256')
        .update(data.subarray(offset, offset + AVERAGE_PIECE))
        .digest('hex');
    }
    const hashOnly = process.hrtime.bigint() - started;

    started = process.hrtime.bigint();
    let count = 0;
    let largest = 0;
    let smallest = Number.POSITIVE_INFINITY;
    for await (const chunk of chunkStream(pieces())) {
      count++;
      largest = Math.max(largest, chunk.length);
      smallest = Math.min(smallest, chunk.length);
    }
    const chunked = process.hrtime.bigint() - started;
    console.log(
      `round ${round}: ${mebibytes} MiB random; sha256 alone ${megabytesPerSecond(data.length, hashOnly)} MB/s; ` +
        `chunker + sha256 ${megabytesPerSecond(data.length, chunked)} MB/s; ${count} chunks, mean ` +
        `${(data.length / count / 1024 / 1024).toFixed(3)} MiB, smallest ${(smallest / 1024).toFixed(0)} KiB, ` +
        `largest ${(largest / 1024).toFixed(0)} KiB`,
    );
  }
}

/** sha256 alone is measured over pieces of the chunks' mean size, so both figures hash the same way. */
const AVERAGE_PIECE = 1024 * 1024;

await main();

import { GEAR_TABLE } from './gear-table.js';

/**
 * The chunker's inner loop, the gear hash over a run of bytes until it meets a mask, in WebAssembly: 1.4 GB/s on
 * this machine against about 0.5 GB/s for the same loop in JavaScript, which made it the chunker's largest cost
 * after sha256. The module is a few dozen bytes, encoded below from the text it implements, so nothing is fetched
 * or built:
 *
 *   (memory (export "memory") 17)              ;; the gear table at 0 (256 × i32), the bytes scanned from 1024
 *   (global (export "gear") (mut i32) (i32.const 0))
 *   (func (export "scan") (param $p i32) (param $end i32) (param $h i32) (param $mask i32) (result i32)
 *     (block (loop
 *       (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
 *       (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
 *                              (i32.load (i32.shl (i32.load8_u (local.get $p)) (i32.const 2)))))
 *       (if (i32.eqz (i32.and (local.get $h) (local.get $mask))) (then (return (local.get $p))))
 *       (local.set $p (i32.add (local.get $p) (i32.const 1)))
 *       (br 0)))
 *     (global.set 0 (local.get $h))
 *     (i32.const -1))
 *
 * `gearScan` below is the contract, and `gearScanJs` the same loop in JavaScript: the tests hold the two to the
 * same cut points.
 */
const leb = (value: number): number[] => {
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
};
const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
const name = (text: string) => [...leb(text.length), ...Buffer.from(text, 'utf8')];

/** Offset of the scanned bytes in the module's memory (the table takes the first 1024). */
const DATA_OFFSET = 1024;
/** Bytes scanned per call: the memory holds this much after the table (17 pages of 64 KiB). */
const WINDOW_BYTES = 1024 * 1024;
const MEMORY_PAGES = 17;

// biome-ignore format: one instruction per line would hide the structure
const SCAN_BODY = [
  0x00, // no locals beyond the parameters
  0x02, 0x40, 0x03, 0x40, // block, loop
  0x20, 0x00, 0x20, 0x01, 0x4f, 0x0d, 0x01, // p >= end: break out of the block
  0x20, 0x02, 0x41, 0x01, 0x74, // h << 1
  0x20, 0x00, 0x2d, 0x00, 0x00, 0x41, 0x02, 0x74, 0x28, 0x02, 0x00, // table[mem[p]]
  0x6a, 0x22, 0x02, // h = the sum (kept on the stack)
  0x20, 0x03, 0x71, 0x45, 0x04, 0x40, 0x20, 0x00, 0x0f, 0x0b, // (h & mask) == 0: return p
  0x20, 0x00, 0x41, 0x01, 0x6a, 0x21, 0x00, 0x0c, 0x00, // p += 1; next
  0x0b, 0x0b, // end loop, end block
  0x20, 0x02, 0x24, 0x00, 0x41, 0x7f, 0x0b, // gear = h; return -1
];

const MODULE_BYTES = Uint8Array.from([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f]),
  ...section(3, [1, 0]),
  ...section(5, [1, 0, ...leb(MEMORY_PAGES)]),
  ...section(6, [1, 0x7f, 1, 0x41, 0, 0x0b]),
  ...section(7, [3, ...name('scan'), 0, 0, ...name('memory'), 2, 0, ...name('gear'), 3, 0]),
  ...section(10, [1, ...leb(SCAN_BODY.length), ...SCAN_BODY]),
]);

interface ScanExports {
  scan(p: number, end: number, h: number, mask: number): number;
  memory: { buffer: ArrayBuffer };
  gear: { value: number };
}

/** Node's WebAssembly, typed as much as this module uses (the project's TypeScript lib has no WebAssembly). */
const { WebAssembly: Wasm } = globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object) => { exports: unknown };
  };
};

const wasm = (() => {
  const instance = new Wasm.Instance(new Wasm.Module(MODULE_BYTES));
  const exports = instance.exports as ScanExports;
  new Int32Array(exports.memory.buffer, 0, 256).set(GEAR_TABLE);
  return { ...exports, bytes: new Uint8Array(exports.memory.buffer, DATA_OFFSET, WINDOW_BYTES) };
})();

/** The gear hash where the last scan that found no cut stopped. */
let lastGear = 0;

/**
 * The gear loop over bytes[start, end) from hash `h`: the index of the first byte after which `(h & mask) === 0`,
 * or -1, and then the hash at `end` is in `scannedGear()`. The bytes are copied into the module's memory a window
 * at a time (a memcpy, at memory speed).
 */
export function gearScan(bytes: Uint8Array, start: number, end: number, h: number, mask: number): number {
  let gear = h;
  for (let from = start; from < end; from += WINDOW_BYTES) {
    const to = Math.min(end, from + WINDOW_BYTES);
    wasm.bytes.set(bytes.subarray(from, to));
    const cut = wasm.scan(DATA_OFFSET, DATA_OFFSET + (to - from), gear, mask);
    if (cut >= 0) return from + (cut - DATA_OFFSET);
    gear = wasm.gear.value;
  }
  lastGear = gear;
  return -1;
}

/** The same loop in JavaScript: the reference the tests hold the WebAssembly one to. */
export function gearScanJs(bytes: Uint8Array, start: number, end: number, h: number, mask: number): number {
  const table = GEAR_TABLE;
  let gear = h;
  for (let i = start; i < end; i++) {
    gear = ((gear << 1) + (table[bytes[i] as number] as number)) | 0;
    if ((gear & mask) === 0) return i;
  }
  lastGear = gear;
  return -1;
}

export const scannedGear = (): number => lastGear;

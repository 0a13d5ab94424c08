/**
 * The few pieces of a POSIX tar archive (ustar, with pax records for long paths and large files) a tree restore
 * streams: a header before each file, its bytes padded to 512, and two empty blocks at the end. `tar -x` on any
 * system unpacks it with the files' modes and mtimes.
 */

const BLOCK = 512;
/** The largest size the ustar header's 11 octal digits can hold; above it the size goes in a pax record. */
const USTAR_MAX_SIZE = 8 ** 11 - 1;

export interface TarEntry {
  path: string;
  /** Permission bits, as four octal digits ("0644"). */
  mode: string;
  mtime: Date | string;
  size: number;
}

function writeString(block: Buffer, value: string, offset: number, length: number): void {
  block.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  writeString(
    block,
    `${Math.floor(value)
      .toString(8)
      .padStart(length - 1, '0')}\0`,
    offset,
    length,
  );
}

function header(name: string, entry: { mode: number; mtime: number; size: number; type: string }): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, name, 0, 100);
  writeOctal(block, entry.mode, 100, 8);
  writeOctal(block, 0, 108, 8);
  writeOctal(block, 0, 116, 8);
  writeOctal(block, entry.size, 124, 12);
  writeOctal(block, entry.mtime, 136, 12);
  block.fill(' ', 148, 156);
  writeString(block, entry.type, 156, 1);
  writeString(block, 'ustar\0', 257, 6);
  writeString(block, '00', 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return block;
}

/** One "<length> <key>=<value>\n" pax record; its length counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length)
    length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** The blocks that come before a file's bytes: a pax header when ustar cannot say it, then the ustar header. */
export function tarHeaderOf(entry: TarEntry): Buffer {
  const mode = Number.parseInt(entry.mode, 8);
  const mtime = Math.floor(new Date(entry.mtime).getTime() / 1000);
  const isLong = Buffer.byteLength(entry.path) > 100;
  const isLarge = entry.size > USTAR_MAX_SIZE;
  const blocks: Buffer[] = [];
  if (isLong || isLarge) {
    const records =
      (isLong ? paxRecord('path', entry.path) : '') + (isLarge ? paxRecord('size', String(entry.size)) : '');
    const body = Buffer.from(records, 'utf8');
    blocks.push(
      header('././@PaxHeader', { mode: 0o644, mtime, size: body.length, type: 'x' }),
      body,
      padding(body.length),
    );
  }
  const name = isLong
    ? Buffer.from(entry.path)
        .subarray(0, 100)
        .toString('utf8')
        .replace(/\uFFFD+$/, '')
    : entry.path;
  blocks.push(header(name, { mode, mtime, size: isLarge ? 0 : entry.size, type: '0' }));
  return Buffer.concat(blocks);
}

/** What follows a file's bytes so the next header starts on a block. */
export const tarPaddingAfter = (size: number): Buffer => padding(size);

/** The end of an archive: two empty blocks. */
export const TAR_END: Buffer = Buffer.alloc(2 * BLOCK);

/** The archive's length for these entries, so a download can send its Content-Length up front. */
export function tarLength(entries: readonly TarEntry[]): number {
  let total = TAR_END.length;
  for (const entry of entries) total += tarHeaderOf(entry).length + entry.size + padding(entry.size).length;
  return total;
}

import type { CliIo } from './cli-context.js';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 → "1.5 KiB": binary units, as capacities are set in them. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${BYTE_UNITS[unit]}`;
}

/** 5400 → "1h 30m": a delay or an offset as a person reads it. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const parts: string[] = [];
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (days > 0) parts.push(`${days}d`);
  if (hours > 0) parts.push(`${hours}h`);
  if (minutes > 0) parts.push(`${minutes}m`);
  if (rest > 0 && days === 0) parts.push(`${rest}s`);
  return parts.join(' ');
}

/** "2026-12-07 05:57:34Z": sortable and the same in every locale. */
export const formatTime = (iso: string | null | undefined): string =>
  iso ? `${iso.slice(0, 19).replace('T', ' ')}Z` : '-';

/** Rows as aligned columns, the first row the heading. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [index, cell] of row.entries()) widths[index] = Math.max(widths[index] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const printLine = (io: CliIo, line = ''): void => {
  io.stdout.write(`${line}\n`);
};

export const printJson = (io: CliIo, value: unknown): void => {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** A remark for the person at the terminal (progress, notes): stderr, so stdout stays the command's answer. */
export const note = (io: CliIo, line: string): void => {
  io.stderr.write(`${line}\n`);
};

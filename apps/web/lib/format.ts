const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 → "1.5 KiB". Binary units, because capacities and quotas are set in them. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unitIndex = 0;
  while (value >= 1024 && unitIndex < BYTE_UNITS.length - 1) {
    value /= 1024;
    unitIndex += 1;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unitIndex] ?? 'B'}`;
}

/** Percentage of `copied` in `total`, clamped to 0–100; an empty dataset counts as done once completed. */
export function progressPercent(copied: number, total: number, isComplete: boolean): number {
  if (isComplete) return 100;
  if (total <= 0) return 0;
  return Math.max(0, Math.min(100, (copied / total) * 100));
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** "2025-11-28 14:03:07" in the viewer's time zone: sortable, unambiguous, locale-independent. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** "14:03:07.120" — for the event log, where events are seconds apart. */
export function formatTimeOfDay(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** 0 → "0 s", 90 → "1 min 30 s", 7200 → "2 h". */
export function formatDuration(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds)) return '—';
  const seconds = Math.max(0, Math.round(totalSeconds));
  if (seconds === 0) return '0 s';
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3_600);
  const minutes = Math.floor((seconds % 3_600) / 60);
  const rest = seconds % 60;
  const parts: string[] = [];
  if (days) parts.push(`${days} d`);
  if (hours) parts.push(`${hours} h`);
  if (minutes) parts.push(`${minutes} min`);
  if (rest) parts.push(`${rest} s`);
  return parts.slice(0, 2).join(' ');
}

/** Long hex digests are unreadable in a table; show the head, keep the whole in a title. */
export function shortenChecksum(checksum: string, visible = 12): string {
  return checksum.length > visible ? `${checksum.slice(0, visible)}…` : checksum;
}

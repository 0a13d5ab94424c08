/** Words and units for policy settings, shared by the list, the form, the history and the preview. */

const UNITS: readonly [number, string][] = [
  [86_400, 'd'],
  [3_600, 'h'],
  [60, 'min'],
  [1, 's'],
];

/** 0 → "none", 90 → "1 min 30 s", 7200 → "2 h". */
export function formatDelay(seconds: number): string {
  if (seconds <= 0) return 'none';
  const parts: string[] = [];
  let rest = seconds;
  for (const [size, unit] of UNITS) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** An offset from the first copy's start: "T1", "T1 + 2 h". */
export const formatOffset = (seconds: number): string => (seconds <= 0 ? 'T1' : `T1 + ${formatDelay(seconds)}`);

export const ORDERING_WORDS = {
  CAPACITY: 'Most free capacity first',
  FIXED: 'In the order listed',
} as const;

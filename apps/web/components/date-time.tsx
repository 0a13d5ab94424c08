import { formatDateTime } from '@/lib/format';

/** A machine-readable <time> showing local time, with the exact UTC instant on hover. */
export function DateTime({ value, testId }: { value: string | null | undefined; testId?: string }) {
  if (!value) {
    return (
      <span className="muted" data-testid={testId}>
        —
      </span>
    );
  }
  return (
    <time dateTime={value} title={value} data-testid={testId}>
      {formatDateTime(value)}
    </time>
  );
}

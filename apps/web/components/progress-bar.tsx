import { formatBytes, progressPercent } from '@/lib/format';

type ProgressBarProps = {
  bytesCopied: number;
  bytesTotal: number;
  isComplete: boolean;
  label: string;
  /** Hide the byte counts (compact table cells). */
  isCompact?: boolean;
};

export function ProgressBar({ bytesCopied, bytesTotal, isComplete, label, isCompact = false }: ProgressBarProps) {
  const percent = progressPercent(bytesCopied, bytesTotal, isComplete);
  const rounded = Math.floor(percent);
  const valueText = `${formatBytes(bytesCopied)} of ${formatBytes(bytesTotal)} (${rounded}%)`;
  return (
    <div className="progress">
      <div
        className="progress__track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={rounded}
        aria-valuetext={valueText}
      >
        <div
          className="progress__fill"
          data-complete={percent >= 100 ? 'true' : undefined}
          style={{ width: `${percent}%` }}
        />
      </div>
      {isCompact ? null : (
        <span className="progress__text">
          {formatBytes(bytesCopied)} / {formatBytes(bytesTotal)} <span className="muted">({rounded}%)</span>
        </span>
      )}
    </div>
  );
}

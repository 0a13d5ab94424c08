/** The throughput used to estimate when each copy starts, for previews only; the real start is measured. */
export const ESTIMATED_THROUGHPUT_BYTES_PER_SECOND = 100 * 1024 * 1024;

/** Estimated seconds to copy `sizeBytes`, rounded up to whole seconds (0 for empty data). */
export const estimatedCopySeconds = (
  sizeBytes: number,
  throughputBytesPerSecond = ESTIMATED_THROUGHPUT_BYTES_PER_SECOND,
): number => Math.ceil(sizeBytes / throughputBytesPerSecond);

/**
 * Planned start of each copy relative to T1 (the primary's start), primary first. Copy k+1 starts
 * `delaySeconds` after copy k has finished, so copies never overlap.
 */
export function plannedOffsetsSeconds(
  copyCount: number,
  sizeBytes: number,
  delaySeconds: number,
  throughputBytesPerSecond = ESTIMATED_THROUGHPUT_BYTES_PER_SECOND,
): number[] {
  const copySeconds = estimatedCopySeconds(sizeBytes, throughputBytesPerSecond);
  const offsets: number[] = [];
  for (let k = 0; k < copyCount; k++) offsets.push(k * (copySeconds + delaySeconds));
  return offsets;
}

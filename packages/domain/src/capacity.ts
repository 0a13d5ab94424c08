/** A backup space as seen at one moment: bytes are safe integers (≤ 2^53-1). */
export interface SpaceCapacity {
  id: string;
  name: string;
  capacityBytes: number;
  usedBytes: number;
}

export interface StorageCapacity {
  storageSystemId: string;
  name: string;
  healthy: boolean;
  spaces: readonly SpaceCapacity[];
}

export interface Placement {
  storageSystemId: string;
  spaceId: string;
  /** The whole system's remaining bytes once the data is placed. */
  remainingAfterBytes: number;
}

export interface SkippedCandidate {
  storageSystemId: string;
  reason: string;
}

export type SecondaryOrdering = 'CAPACITY' | 'FIXED';

export const remainingBytes = (space: SpaceCapacity): number => Math.max(0, space.capacityBytes - space.usedBytes);

export const systemRemainingBytes = (system: StorageCapacity): number =>
  system.spaces.reduce((sum, space) => sum + remainingBytes(space), 0);

export const systemCapacityBytes = (system: StorageCapacity): number =>
  system.spaces.reduce((sum, space) => sum + space.capacityBytes, 0);

/**
 * The space that takes the data: the one with the most room, ties broken by the order the spaces were
 * declared in. Returns a reason instead when the system cannot take it.
 */
export function placeOnSystem(
  system: StorageCapacity,
  sizeBytes: number,
): { placement: Placement } | { reason: string } {
  if (!system.healthy) return { reason: `${system.name} is unhealthy` };
  let best: SpaceCapacity | undefined;
  for (const space of system.spaces) {
    if (best === undefined || remainingBytes(space) > remainingBytes(best)) best = space;
  }
  if (best === undefined) return { reason: `${system.name} has no backup space` };
  const room = remainingBytes(best);
  if (room < sizeBytes) {
    return {
      reason: `no backup space of ${system.name} can hold ${sizeBytes} bytes (the largest free space, ${best.name}, has ${room} bytes)`,
    };
  }
  return {
    placement: {
      storageSystemId: system.storageSystemId,
      spaceId: best.id,
      remainingAfterBytes: systemRemainingBytes(system) - sizeBytes,
    },
  };
}

/**
 * Orders secondary candidates as the method prescribes: those whose best space cannot hold the data are
 * skipped with the reason; with CAPACITY the rest go by the most remaining capacity after placing the data,
 * ties broken by the template's order; with FIXED they keep the template's order.
 */
export function orderSecondaries(
  candidates: readonly StorageCapacity[],
  sizeBytes: number,
  ordering: SecondaryOrdering,
): { ordered: Placement[]; skipped: SkippedCandidate[] } {
  const eligible: { placement: Placement; templateIndex: number }[] = [];
  const skipped: SkippedCandidate[] = [];
  candidates.forEach((candidate, templateIndex) => {
    const result = placeOnSystem(candidate, sizeBytes);
    if ('reason' in result) skipped.push({ storageSystemId: candidate.storageSystemId, reason: result.reason });
    else eligible.push({ placement: result.placement, templateIndex });
  });
  if (ordering === 'CAPACITY') {
    eligible.sort(
      (a, b) => b.placement.remainingAfterBytes - a.placement.remainingAfterBytes || a.templateIndex - b.templateIndex,
    );
  }
  return { ordered: eligible.map((entry) => entry.placement), skipped };
}

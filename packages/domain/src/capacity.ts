/** A backup space as seen at one moment: bytes are safe integers (≤ 2^53-1). */
export interface SpaceCapacity {
  id: string;
  name: string;
  capacityBytes: number;
  usedBytes: number;
  /**
   * Bytes of the data being placed that the space already holds (its chunks stored there by earlier versions or
   * by the intake): a copy there writes only the rest. Absent: none.
   */
  heldBytes?: number;
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
  /** What the copy writes there: the data's size less what the space already holds of it. */
  bytesToWrite: number;
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

/** What a copy of `sizeBytes` of data writes into `space`: the part of the data the space does not hold yet. */
export const bytesToWriteIn = (space: SpaceCapacity, sizeBytes: number): number =>
  Math.max(0, sizeBytes - Math.max(0, space.heldBytes ?? 0));

/**
 * The space that takes the data: the one with the most room left once it has written what it lacks of the data,
 * ties broken by the order the spaces were declared in. A space that already holds most of the data (its chunks
 * from earlier versions) needs little room. Returns a reason instead when the system cannot take it.
 */
export function placeOnSystem(
  system: StorageCapacity,
  sizeBytes: number,
): { placement: Placement } | { reason: string } {
  if (!system.healthy) return { reason: `${system.name} is unhealthy` };
  if (system.spaces.length === 0) return { reason: `${system.name} has no backup space` };
  let best: SpaceCapacity | undefined;
  let largest: SpaceCapacity | undefined;
  const after = (space: SpaceCapacity) => remainingBytes(space) - bytesToWriteIn(space, sizeBytes);
  for (const space of system.spaces) {
    if (largest === undefined || remainingBytes(space) > remainingBytes(largest)) largest = space;
    if (after(space) < 0) continue;
    if (best === undefined || after(space) > after(best)) best = space;
  }
  if (best === undefined) {
    const room = largest === undefined ? 0 : remainingBytes(largest);
    const needed = largest === undefined ? sizeBytes : bytesToWriteIn(largest, sizeBytes);
    const lacking = needed < sizeBytes ? `the ${needed} bytes it lacks of ${sizeBytes}` : `${sizeBytes} bytes`;
    return {
      reason: `no backup space of ${system.name} can hold ${lacking} (the largest free space, ${largest?.name}, has ${room} bytes)`,
    };
  }
  const bytesToWrite = bytesToWriteIn(best, sizeBytes);
  return {
    placement: {
      storageSystemId: system.storageSystemId,
      spaceId: best.id,
      remainingAfterBytes: systemRemainingBytes(system) - bytesToWrite,
      bytesToWrite,
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

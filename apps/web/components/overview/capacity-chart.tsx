'use client';

import { BarChart } from '@mantine/charts';
import { Badge, Group, List, Text } from '@mantine/core';
import { formatBytes } from '@/lib/format';
import type { StorageCapacityQuery } from '@/lib/gql/graphql';

type CapacitySystem = StorageCapacityQuery['storageSystems'][number];

export interface CapacityBar {
  name: string;
  usedBytes: number;
  freeBytes: number;
  capacityBytes: number;
  /** Share of the capacity in use, 0–100. */
  usedPercent: number;
  healthy: boolean;
}

/** One bar per storage system: the bytes in use and the bytes left, over the sum of its backup spaces. */
export function capacityBars(systems: readonly CapacitySystem[]): CapacityBar[] {
  return systems.map((system) => {
    const freeBytes = Math.max(0, Math.min(system.remainingBytes, system.capacityBytes));
    const usedBytes = system.capacityBytes - freeBytes;
    return {
      name: system.name,
      usedBytes,
      freeBytes,
      capacityBytes: system.capacityBytes,
      usedPercent: system.capacityBytes > 0 ? (usedBytes / system.capacityBytes) * 100 : 0,
      healthy: system.healthy,
    };
  });
}

const percentText = (percent: number): string => (percent > 0 && percent < 1 ? 'under 1%' : `${Math.round(percent)}%`);

/**
 * The capacity of each storage system as a horizontal bar (used against free, as a share of the whole), with
 * the same figures as a list under it: readable without the picture, and by a screen reader.
 */
export function CapacityChart({ systems }: { systems: readonly CapacitySystem[] }) {
  const bars = capacityBars(systems);
  return (
    <>
      <figure className="chart-figure" aria-labelledby="capacity-caption">
        <BarChart
          h={Math.max(120, 48 * bars.length + 60)}
          data={bars.map((bar) => ({ name: bar.name, Used: bar.usedBytes, Free: bar.freeBytes }))}
          dataKey="name"
          type="percent"
          orientation="vertical"
          series={[
            { name: 'Used', color: 'blue.8' },
            { name: 'Free', color: 'gray.3' },
          ]}
          valueFormatter={formatBytes}
          yAxisProps={{ width: 110 }}
          withLegend
          legendProps={{ verticalAlign: 'bottom' }}
          data-testid="capacity-chart"
        />
        <figcaption id="capacity-caption" className="visually-hidden">
          Used and free capacity of each storage system
        </figcaption>
      </figure>
      <List listStyleType="none" spacing={4} data-testid="capacity-list">
        {bars.map((bar) => (
          <List.Item
            key={bar.name}
            data-testid="capacity-entry"
            data-system={bar.name}
            data-used-bytes={bar.usedBytes}
            data-capacity-bytes={bar.capacityBytes}
          >
            <Group gap="xs" wrap="wrap">
              <Text fw={600} size="sm">
                {bar.name}
              </Text>
              <Text size="sm">
                {formatBytes(bar.usedBytes)} used of {formatBytes(bar.capacityBytes)} ({percentText(bar.usedPercent)}),{' '}
                {formatBytes(bar.freeBytes)} free
              </Text>
              {bar.healthy ? null : (
                <Badge color="red.9" variant="light" data-testid="capacity-unhealthy">
                  unreachable
                </Badge>
              )}
            </Group>
          </List.Item>
        ))}
      </List>
    </>
  );
}

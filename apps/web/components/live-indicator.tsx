'use client';

import { useSyncExternalStore } from 'react';
import type { LiveConnection, LiveConnectionState } from '@/lib/ws-client';

const LABELS: Record<LiveConnectionState | 'stopped', string> = {
  idle: 'Offline',
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  stopped: 'Live updates stopped',
};

export function useLiveConnectionState(connection: LiveConnection): LiveConnectionState {
  return useSyncExternalStore(connection.onStateChange, connection.getState, () => 'idle');
}

/**
 * Shows whether pushed updates are flowing. `data-state="connected"` means the socket is acknowledged and the
 * page's subscriptions are active.
 */
export function LiveIndicator({ connection, isStopped = false }: { connection: LiveConnection; isStopped?: boolean }) {
  const state = useLiveConnectionState(connection);
  const shown = isStopped ? 'stopped' : state;
  return (
    <span className="live" role="status" data-testid="live-status" data-state={shown}>
      <span className="live__dot" aria-hidden="true" />
      {LABELS[shown]}
    </span>
  );
}

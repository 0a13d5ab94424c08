'use client';

import { useLayoutEffect, useRef } from 'react';
import { formatBytes, formatTimeOfDay } from '@/lib/format';
import type { ReplicaProgressEvent } from '@/lib/view-types';
import { StatusBadge } from './status-badge';

/** How close to the bottom (px) still counts as "following" the log. */
const FOLLOW_THRESHOLD_PX = 24;

/** Replica events in arrival order, newest last; keeps following the tail unless the reader scrolled up. */
export function EventLog({ events }: { events: readonly ReplicaProgressEvent[] }) {
  const scrollerRef = useRef<HTMLDivElement>(null);
  const isFollowingRef = useRef(true);

  // Runs after each new event on purpose: that is when the tail moves.
  // biome-ignore lint/correctness/useExhaustiveDependencies: events.length is the trigger, not an input
  useLayoutEffect(() => {
    const scroller = scrollerRef.current;
    if (scroller && isFollowingRef.current) scroller.scrollTop = scroller.scrollHeight;
  }, [events.length]);

  const onScroll = () => {
    const scroller = scrollerRef.current;
    if (!scroller) return;
    isFollowingRef.current = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= FOLLOW_THRESHOLD_PX;
  };

  return (
    <div className="event-log" ref={scrollerRef} onScroll={onScroll}>
      <ol className="event-log__list" data-testid="event-log" aria-label="Replica events, oldest first">
        {events.map((event) => (
          <li
            key={event.id}
            className="event-log__entry"
            data-testid="event-log-entry"
            data-event-id={event.id}
            data-order={event.replica.order}
            data-status={event.status}
          >
            <time className="event-log__time" dateTime={event.at} title={event.at}>
              {formatTimeOfDay(event.at)}
            </time>
            <span className="event-log__replica">
              <span className="visually-hidden">Replica </span>#{event.replica.order}
            </span>
            <StatusBadge status={event.status} />
            <span className="event-log__message">{event.message ?? ''}</span>
            <span className="event-log__bytes muted">{formatBytes(event.bytesCopied)}</span>
          </li>
        ))}
      </ol>
      {events.length === 0 ? (
        <p className="muted event-log__empty">No events yet. They appear here as they happen.</p>
      ) : null}
    </div>
  );
}

import { type GraphQLRequestError, toRequestError } from './graphql-client';

export interface LatestRequest {
  /** Sends the request again; an answer to an earlier call that comes later is dropped. */
  load(): void;
  /** Aborts what is in flight and drops every answer still to come. */
  stop(): void;
}

/**
 * A request a live view repeats (on mount, after a reconnect): only the answer to the newest call is handed on,
 * so an older, slower answer never overwrites a newer one.
 */
export function latestRequest<T>(
  send: (signal: AbortSignal) => Promise<T>,
  handlers: { onStart(): void; onResult(result: T): void; onError(error: GraphQLRequestError): void },
): LatestRequest {
  let isStopped = false;
  let sequence = 0;
  const controllers = new Set<AbortController>();
  return {
    load() {
      const mine = ++sequence;
      const controller = new AbortController();
      controllers.add(controller);
      const isCurrent = () => !isStopped && !controller.signal.aborted && mine === sequence;
      handlers.onStart();
      send(controller.signal)
        .then((result) => {
          if (isCurrent()) handlers.onResult(result);
        })
        .catch((error: unknown) => {
          if (isCurrent()) handlers.onError(toRequestError(error));
        })
        .finally(() => controllers.delete(controller));
    },
    stop() {
      isStopped = true;
      for (const controller of controllers) controller.abort();
    },
  };
}

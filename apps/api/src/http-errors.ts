import { isDomainError } from '@echelon/domain';
import type express from 'express';

const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409 };

/**
 * Answers a failed plain-HTTP route (exports, restore downloads) with the contract's error codes as JSON. Once a
 * body has started, the response is cut off instead, so a client never takes part of one for all of it.
 */
export function sendHttpError(res: express.Response, error: unknown, what: string): void {
  if (res.headersSent) {
    console.error(`${what} cut off:`, error instanceof Error ? error.message : error);
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  if (isDomainError(error)) {
    res.status(STATUS[error.code] ?? 400).json({ error: { code: error.code, message: error.message } });
    return;
  }
  console.error(`${what} failed:`, error);
  res
    .status(500)
    .json({ error: { code: 'INTERNAL_SERVER_ERROR', message: `${what} failed; the server logged the details` } });
}

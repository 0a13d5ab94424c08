/**
 * What the worker's chunked copies, restores and scrubs read and write beyond the chunk index (chunks.ts).
 */
export {};

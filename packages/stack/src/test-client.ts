import { createHash, randomBytes } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import * as tus from 'tus-js-client';
import WebSocket from 'ws';

export interface GraphQLResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export async function gql<T>(
  apiUrl: string,
  apiKey: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLResult<T>> {
  const response = await fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResult<T>;
}

/** Like gql, but fails the test on any GraphQL error. */
export async function gqlOk<T>(apiUrl: string, apiKey: string, query: string, variables: Record<string, unknown> = {}) {
  const result = await gql<T>(apiUrl, apiKey, query, variables);
  if (result.errors?.length || result.data === undefined) {
    throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  }
  return result.data;
}

/** Stages bytes the way an integrator would: a tus upload with the API key; returns the upload id. */
export function uploadBytes(apiUrl: string, apiKey: string, bytes: Buffer, chunkSize = 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(bytes, {
      endpoint: `${apiUrl}/uploads`,
      headers: { authorization: `Bearer ${apiKey}` },
      chunkSize,
      retryDelays: [],
      metadata: { filename: 'data.bin' },
      onError: reject,
      onSuccess: () => {
        const id = upload.url?.split('/').pop();
        if (id) resolve(id);
        else reject(new Error('tus upload finished without a Location'));
      },
    });
    upload.start();
  });
}

export function wsClient(apiUrl: string, apiKey: string): Client {
  return createClient({
    url: `${apiUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${apiKey}` },
    retryAttempts: 0,
  });
}

/** Collects every payload of a subscription until `until` says stop (or the timeout fails the test). */
export function collect<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  until: (items: T[]) => boolean,
  timeoutMs = 90_000,
): Promise<T[]> {
  const items: T[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      dispose();
      reject(
        new Error(
          `subscription timed out after ${timeoutMs} ms with ${items.length} items: ${JSON.stringify(items.at(-1))}`,
        ),
      );
    }, timeoutMs);
    const dispose = client.subscribe<Record<string, T>>(
      { query, variables },
      {
        next: (message) => {
          if (message.errors) {
            clearTimeout(timer);
            dispose();
            reject(new Error(JSON.stringify(message.errors)));
            return;
          }
          const payload = Object.values(message.data ?? {})[0];
          if (payload !== undefined) items.push(payload);
          if (until(items)) {
            clearTimeout(timer);
            dispose();
            resolve(items);
          }
        },
        error: (error) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        },
        complete: () => undefined,
      },
    );
  });
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
export const randomData = (size: number): Buffer => randomBytes(size);

export * from './s3-server.js';

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

/**
 * Repeats a query until `done` accepts its data (a job or a restore reaching a state); fails naming `what` and the
 * last data seen after `timeoutMs`.
 */
export async function gqlUntil<T>(
  apiUrl: string,
  apiKey: string,
  query: string,
  variables: Record<string, unknown>,
  done: (data: T) => boolean,
  options: { what: string; timeoutMs?: number },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  for (;;) {
    const data = await gqlOk<T>(apiUrl, apiKey, query, variables);
    if (done(data)) return data;
    if (Date.now() > deadline) throw new Error(`${options.what} never happened; last seen: ${JSON.stringify(data)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Uploads `bytes`, requests their backup as `datasetKey` and waits until the job is COMPLETED; returns its id. */
export async function backUpAndWait(apiUrl: string, apiKey: string, datasetKey: string, bytes: Buffer) {
  const uploadId = await uploadBytes(apiUrl, apiKey, bytes);
  const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(
    apiUrl,
    apiKey,
    'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
    { input: { datasetKey, uploadId } },
  );
  await gqlUntil<{ backupJob: { status: string } }>(
    apiUrl,
    apiKey,
    'query($id: ID!) { backupJob(id: $id) { status } }',
    { id: requestBackup.id },
    ({ backupJob }) => backupJob.status === 'COMPLETED',
    { what: `backup ${requestBackup.id} completing` },
  );
  return requestBackup.id;
}

/** Restores the newest verified version of `datasetKey` and waits for it to be COMPLETED; returns the restore id. */
export async function restoreAndWait(apiUrl: string, apiKey: string, datasetKey: string): Promise<string> {
  const { requestRestore } = await gqlOk<{ requestRestore: { id: string } }>(
    apiUrl,
    apiKey,
    'mutation($input: RequestRestoreInput!) { requestRestore(input: $input) { id } }',
    { input: { datasetKey } },
  );
  await gqlUntil<{ restoreJob: { status: string } }>(
    apiUrl,
    apiKey,
    'query($id: ID!) { restoreJob(id: $id) { status } }',
    { id: requestRestore.id },
    ({ restoreJob }) => restoreJob.status === 'COMPLETED',
    { what: `restore ${requestRestore.id} completing` },
  );
  return requestRestore.id;
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

'use client';

import { type FormEvent, useRef, useState } from 'react';
import { formatBytes } from '@/lib/format';
import { GraphQLRequestError } from '@/lib/graphql-client';
import { CHECK_STORAGE_SYSTEM_MUTATION, CREATE_STORAGE_SYSTEM_MUTATION, STORAGE_SYSTEMS_QUERY } from '@/lib/operations';
import type {
  CheckStorageSystemMutationResult,
  CreateStorageSystemInput,
  CreateStorageSystemMutationResult,
  StorageKind,
  StorageSystem,
  StorageSystemsQueryResult,
} from '@/lib/view-types';
import { useSession } from './session-gate';
import { useLoadedList, useSubmission } from './use-submission';

const GIB = 1024 ** 3;

/** Replaces the system in place, or appends one not seen before. */
function upsert(systems: readonly StorageSystem[], system: StorageSystem): StorageSystem[] {
  const index = systems.findIndex((existing) => existing.id === system.id);
  if (index === -1) return [...systems, system];
  const next = [...systems];
  next[index] = system;
  return next;
}

/** The tenant's storage systems with their spaces and capacity, a connection check per system, and registration. */
export function StorageSystems() {
  const session = useSession();
  const {
    items: systems,
    setItems: setSystems,
    error: loadError,
  } = useLoadedList(STORAGE_SYSTEMS_QUERY, (result: StorageSystemsQueryResult) => result.storageSystems);

  const onChanged = (system: StorageSystem) => setSystems((current) => upsert(current ?? [], system));
  // The API decides (storage:write is TENANT_ADMIN's); the page only leaves out what would be refused.
  const canWrite = session.can('storage:write');

  return (
    <section aria-labelledby="storage-heading">
      <div className="page-header">
        <div>
          <h1 id="storage-heading">Storage systems</h1>
          <p className="page-header__meta" data-testid="storage-count">
            {systems === null
              ? 'Loading…'
              : `${systems.length} ${systems.length === 1 ? 'system' : 'systems'}, ${formatBytes(
                  systems.reduce((sum, system) => sum + system.remainingBytes, 0),
                )} free`}
          </p>
        </div>
      </div>

      {loadError ? (
        <p className="notice notice--error" role="alert" data-testid="storage-error">
          Could not load storage systems: {loadError.message}
        </p>
      ) : null}

      {systems === null ? (
        loadError ? null : (
          <p className="loading" aria-busy="true">
            Loading storage systems…
          </p>
        )
      ) : systems.length === 0 ? (
        <div className="card empty-state" data-testid="storage-empty">
          <h2>No storage systems yet</h2>
          <p>Register the first one below; backup schemes choose their primary and secondaries from these.</p>
        </div>
      ) : (
        <div className="card card--flush table-scroll">
          <table className="data-table" data-testid="storage-table">
            <caption className="visually-hidden">Storage systems of this tenant</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Health</th>
                <th scope="col">Backup spaces (used / capacity)</th>
                <th scope="col" className="numeric">
                  Free
                </th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {systems.map((system) => (
                <SystemRow key={system.id} system={system} canWrite={canWrite} onChanged={onChanged} />
              ))}
            </tbody>
          </table>
        </div>
      )}

      {canWrite ? (
        <RegisterForm onRegistered={onChanged} />
      ) : (
        <p className="notice notice--info" data-testid="storage-read-only">
          Registering and checking storage systems needs the TENANT_ADMIN role.
        </p>
      )}
    </section>
  );
}

function SystemRow({
  system,
  canWrite,
  onChanged,
}: {
  system: StorageSystem;
  canWrite: boolean;
  onChanged: (system: StorageSystem) => void;
}) {
  const session = useSession();
  const { pending: checking, error, run } = useSubmission();
  const check = () =>
    run(
      () =>
        session.request<CheckStorageSystemMutationResult, { id: string }>(CHECK_STORAGE_SYSTEM_MUTATION, {
          id: system.id,
        }),
      (result) => onChanged(result.checkStorageSystem),
    );

  return (
    <tr data-testid="storage-row" data-system-name={system.name} data-healthy={String(system.healthy)}>
      <th scope="row" className="cell-primary">
        {system.name}
      </th>
      <td>{system.kind}</td>
      <td>
        <span className="badge" data-health={system.healthy ? 'healthy' : 'unavailable'} data-testid="storage-health">
          {system.healthy ? 'Healthy' : 'Unavailable'}
        </span>
      </td>
      <td>
        <ul className="plain-list">
          {system.spaces.map((space) => (
            <li key={space.id} data-testid="storage-space">
              {space.name}: {formatBytes(space.usedBytes)} / {formatBytes(space.capacityBytes)}
            </li>
          ))}
        </ul>
      </td>
      <td className="numeric" data-testid="storage-free">
        {formatBytes(system.remainingBytes)} of {formatBytes(system.capacityBytes)}
      </td>
      <td>
        {canWrite ? (
          <button type="button" className="button button--small button--secondary" disabled={checking} onClick={check}>
            {checking ? 'Checking…' : 'Check now'}
          </button>
        ) : null}
        {error ? (
          <span className="error-text small" role="alert" data-testid="storage-check-error">
            {error.message}
          </span>
        ) : null}
      </td>
    </tr>
  );
}

interface SpaceRow {
  key: number;
  name: string;
  capacityGib: string;
}

/**
 * The registration form. Capacities are entered in GiB; a value that is not a positive number is refused here,
 * everything else (names, paths, credentials, whether the spaces can be written) by the API, whose error is shown
 * as it came. Nothing is registered unless every space passed its check.
 */
function RegisterForm({ onRegistered }: { onRegistered: (system: StorageSystem) => void }) {
  const session = useSession();
  const [kind, setKind] = useState<StorageKind>('FILESYSTEM');
  const [spaces, setSpaces] = useState<SpaceRow[]>([{ key: 0, name: '', capacityGib: '' }]);
  // React keys of the space rows: a counter, so rows added in the same millisecond stay apart.
  const nextKey = useRef(1);
  const emptySpace = (): SpaceRow => ({ key: nextKey.current++, name: '', capacityGib: '' });
  const { pending: submitting, error, setError, run } = useSubmission();
  const [registered, setRegistered] = useState<string | null>(null);

  const setSpace = (key: number, patch: Partial<SpaceRow>) =>
    setSpaces((rows) => rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    setRegistered(null);
    const parsedSpaces: CreateStorageSystemInput['spaces'] = [];
    for (const row of spaces) {
      const gib = Number(row.capacityGib);
      if (row.capacityGib.trim() === '' || !Number.isFinite(gib) || gib <= 0) {
        setError(
          new GraphQLRequestError(
            `the capacity of space "${row.name || '(unnamed)'}" must be a positive number of GiB`,
            'BAD_USER_INPUT',
          ),
        );
        return;
      }
      parsedSpaces.push({ name: row.name.trim(), capacityBytes: Math.round(gib * GIB) });
    }
    const config: Record<string, unknown> =
      kind === 'FILESYSTEM'
        ? { root: text('root') }
        : {
            endpoint: text('endpoint'),
            region: text('region'),
            accessKeyId: text('accessKeyId'),
            secretAccessKey: String(data.get('secretAccessKey') ?? ''),
            forcePathStyle: data.get('forcePathStyle') === 'on',
          };
    const input: CreateStorageSystemInput = { name: text('name'), kind, config, spaces: parsedSpaces };
    run(
      () =>
        session.request<CreateStorageSystemMutationResult, { input: CreateStorageSystemInput }>(
          CREATE_STORAGE_SYSTEM_MUTATION,
          { input },
        ),
      (result) => {
        onRegistered(result.createStorageSystem);
        setRegistered(result.createStorageSystem.name);
        form.reset();
        setKind('FILESYSTEM');
        setSpaces([emptySpace()]);
      },
    );
  };

  return (
    <form
      className="card"
      onSubmit={onSubmit}
      noValidate
      aria-labelledby="register-heading"
      data-testid="register-form"
    >
      <h2 id="register-heading" className="card__title">
        Register a storage system
      </h2>
      <div className="grid grid--two">
        <div className="field">
          <label htmlFor="storage-name">Name</label>
          <input id="storage-name" name="name" className="input" required autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor="storage-kind">Kind</label>
          <select
            id="storage-kind"
            name="kind"
            className="input"
            value={kind}
            onChange={(event) => setKind(event.target.value as StorageKind)}
          >
            <option value="FILESYSTEM">Filesystem</option>
            <option value="S3">S3-compatible</option>
          </select>
        </div>
      </div>
      {kind === 'FILESYSTEM' ? (
        <div className="field">
          <label htmlFor="storage-root">Root directory</label>
          <input id="storage-root" name="root" className="input" placeholder="/srv/backups" autoComplete="off" />
          <p className="field__hint">An absolute path; each backup space is a directory under it.</p>
        </div>
      ) : (
        <div className="grid grid--two">
          <div className="field">
            <label htmlFor="storage-endpoint">Endpoint</label>
            <input id="storage-endpoint" name="endpoint" className="input" placeholder="https://s3.example.com" />
          </div>
          <div className="field">
            <label htmlFor="storage-region">Region</label>
            <input id="storage-region" name="region" className="input" placeholder="us-east-1" />
          </div>
          <div className="field">
            <label htmlFor="storage-access-key">Access key id</label>
            <input id="storage-access-key" name="accessKeyId" className="input" autoComplete="off" />
          </div>
          <div className="field">
            <label htmlFor="storage-secret">Secret access key</label>
            <input id="storage-secret" name="secretAccessKey" type="password" className="input" autoComplete="off" />
            <p className="field__hint">Stored encrypted; never shown again.</p>
          </div>
          <div className="field">
            <label>
              <input type="checkbox" name="forcePathStyle" /> Path-style addressing
            </label>
          </div>
        </div>
      )}
      <fieldset className="field">
        <legend>{kind === 'FILESYSTEM' ? 'Backup spaces (directories)' : 'Backup spaces (buckets)'}</legend>
        {spaces.map((row, index) => (
          <div className="grid grid--two" key={row.key} data-testid="space-input">
            <div className="field">
              <label htmlFor={`space-name-${row.key}`}>Space {index + 1} name</label>
              <input
                id={`space-name-${row.key}`}
                className="input"
                value={row.name}
                onChange={(event) => setSpace(row.key, { name: event.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor={`space-capacity-${row.key}`}>Space {index + 1} capacity (GiB)</label>
              <input
                id={`space-capacity-${row.key}`}
                className="input"
                inputMode="decimal"
                value={row.capacityGib}
                onChange={(event) => setSpace(row.key, { capacityGib: event.target.value })}
              />
            </div>
          </div>
        ))}
        <div className="actions">
          <button
            type="button"
            className="button button--small button--secondary"
            onClick={() => setSpaces((rows) => [...rows, emptySpace()])}
          >
            Add a space
          </button>
          {spaces.length > 1 ? (
            <button
              type="button"
              className="button button--small button--ghost"
              onClick={() => setSpaces((rows) => rows.slice(0, -1))}
            >
              Remove the last space
            </button>
          ) : null}
        </div>
      </fieldset>
      {error ? (
        <p className="notice notice--error" role="alert" data-testid="register-error">
          {error.code}: {error.message}
        </p>
      ) : null}
      {registered ? (
        <p className="notice notice--info" role="status" data-testid="register-done">
          Registered {registered}: every backup space passed its check.
        </p>
      ) : null}
      <button type="submit" className="button" disabled={submitting} aria-busy={submitting}>
        {submitting ? 'Checking and registering…' : 'Register'}
      </button>
    </form>
  );
}

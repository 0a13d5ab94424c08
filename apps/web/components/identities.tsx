'use client';

import { type FormEvent, useState } from 'react';
import { CREATE_API_KEY_MUTATION, CREATE_IDENTITY_MUTATION, IDENTITIES_QUERY } from '@/lib/operations';
import type {
  CreateApiKeyMutationResult,
  CreateIdentityInput,
  CreateIdentityMutationResult,
  IdentitiesQueryResult,
  Identity,
  Role,
} from '@/lib/view-types';
import { useSession } from './session-gate';
import { useLoadedList, useSubmission } from './use-submission';

/** The roles a tenant administrator hands out (PLATFORM_ADMIN is not a tenant's to give). */
const TENANT_ROLES: readonly Role[] = ['TENANT_ADMIN', 'OPERATOR', 'AUDITOR', 'MEMBER'];

/** The tenant's identities, a form to add one, and an API key issued for any of them (its secret shown once). */
export function Identities() {
  const session = useSession();
  const {
    items: identities,
    setItems: setIdentities,
    error: loadError,
  } = useLoadedList(IDENTITIES_QUERY, (result: IdentitiesQueryResult) => result.identities);
  // The API decides (identity:write and apikey:write); the page only leaves out what would be refused.
  const canWrite = session.can('identity:write');

  return (
    <section aria-labelledby="identities-heading">
      <div className="page-header">
        <div>
          <h1 id="identities-heading">Identities</h1>
          <p className="page-header__meta" data-testid="identities-count">
            {identities === null
              ? 'Loading…'
              : `${identities.length} ${identities.length === 1 ? 'identity' : 'identities'}`}
          </p>
        </div>
      </div>

      {loadError ? (
        <p className="notice notice--error" role="alert" data-testid="identities-error">
          Could not load identities: {loadError.message}
        </p>
      ) : null}

      {identities === null ? (
        loadError ? null : (
          <p className="loading" aria-busy="true">
            Loading identities…
          </p>
        )
      ) : (
        <div className="card card--flush table-scroll">
          <table className="data-table" data-testid="identities-table">
            <caption className="visually-hidden">Identities of this tenant</caption>
            <thead>
              <tr>
                <th scope="col">Identity</th>
                <th scope="col">Name</th>
                <th scope="col">Roles</th>
                <th scope="col">Groups</th>
                <th scope="col">
                  <span className="visually-hidden">API keys</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {identities.map((identity) => (
                <IdentityRow key={identity.id} identity={identity} canWrite={canWrite} />
              ))}
            </tbody>
          </table>
        </div>
      )}

      {canWrite ? (
        <CreateIdentityForm onCreated={(identity) => setIdentities((current) => [...(current ?? []), identity])} />
      ) : null}
    </section>
  );
}

function IdentityRow({ identity, canWrite }: { identity: Identity; canWrite: boolean }) {
  const session = useSession();
  const [secret, setSecret] = useState<string | null>(null);
  const { pending: issuing, error, run } = useSubmission();
  const issueKey = () =>
    run(
      () =>
        session.request<CreateApiKeyMutationResult, { input: { identityId: string; name: string } }>(
          CREATE_API_KEY_MUTATION,
          { input: { identityId: identity.id, name: `console ${new Date().toISOString().slice(0, 10)}` } },
        ),
      (result) => setSecret(result.createApiKey.secret),
    );

  return (
    <tr data-testid="identity-row" data-external-id={identity.externalId}>
      <th scope="row" className="cell-primary">
        {identity.externalId}
      </th>
      <td>{identity.displayName}</td>
      <td data-testid="identity-roles">{identity.roles.join(', ')}</td>
      <td>{identity.groups.length > 0 ? identity.groups.join(', ') : <span className="muted">none</span>}</td>
      <td>
        {canWrite ? (
          <button
            type="button"
            className="button button--small button--secondary"
            disabled={issuing}
            onClick={issueKey}
          >
            {issuing ? 'Issuing…' : 'Issue API key'}
          </button>
        ) : null}
        {secret ? (
          <p className="small" role="status">
            New key (shown once, copy it now): <code data-testid="issued-secret">{secret}</code>
          </p>
        ) : null}
        {error ? (
          <span className="error-text small" role="alert" data-testid="issue-key-error">
            {error.message}
          </span>
        ) : null}
      </td>
    </tr>
  );
}

/** A new identity: the API validates the identifier, the roles and the groups, and its typed error is shown as is. */
function CreateIdentityForm({ onCreated }: { onCreated: (identity: Identity) => void }) {
  const session = useSession();
  const { pending: submitting, error, run } = useSubmission();
  const [created, setCreated] = useState<string | null>(null);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const groups = String(data.get('groups') ?? '')
      .split(',')
      .map((group) => group.trim())
      .filter(Boolean);
    const input: CreateIdentityInput = {
      externalId: String(data.get('externalId') ?? '').trim(),
      displayName: String(data.get('displayName') ?? '').trim(),
      roles: TENANT_ROLES.filter((role) => data.get(`role-${role}`) === 'on'),
      groups,
    };
    setCreated(null);
    run(
      () =>
        session.request<CreateIdentityMutationResult, { input: CreateIdentityInput }>(CREATE_IDENTITY_MUTATION, {
          input,
        }),
      (result) => {
        onCreated(result.createIdentity);
        setCreated(result.createIdentity.externalId);
        form.reset();
      },
    );
  };

  return (
    <form
      className="card"
      onSubmit={onSubmit}
      noValidate
      aria-labelledby="add-identity-heading"
      data-testid="identity-form"
    >
      <h2 id="add-identity-heading" className="card__title">
        Add an identity
      </h2>
      <div className="grid grid--two">
        <div className="field">
          <label htmlFor="identity-external-id">Identifier</label>
          <input id="identity-external-id" name="externalId" className="input" autoComplete="off" />
          <p className="field__hint">What a terminal sends: an employee id or a service name.</p>
        </div>
        <div className="field">
          <label htmlFor="identity-display-name">Display name</label>
          <input id="identity-display-name" name="displayName" className="input" autoComplete="off" />
        </div>
      </div>
      <fieldset className="field">
        <legend>Roles</legend>
        {TENANT_ROLES.map((role) => (
          <label key={role} className="role">
            <input type="checkbox" name={`role-${role}`} /> {role}
          </label>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor="identity-groups">Groups</label>
        <input id="identity-groups" name="groups" className="input" placeholder="finance, laptops" />
        <p className="field__hint">Comma-separated; policies can be assigned to a group.</p>
      </div>
      {error ? (
        <p className="notice notice--error" role="alert" data-testid="identity-error">
          {error.code}: {error.message}
        </p>
      ) : null}
      {created ? (
        <p className="notice notice--info" role="status" data-testid="identity-done">
          Added {created}.
        </p>
      ) : null}
      <button type="submit" className="button" disabled={submitting} aria-busy={submitting}>
        {submitting ? 'Adding…' : 'Add identity'}
      </button>
    </form>
  );
}

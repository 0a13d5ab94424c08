'use client';

import {
  Alert,
  Button,
  Checkbox,
  Code,
  CopyButton,
  Group,
  Loader,
  NativeSelect,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { type FormEvent, useState } from 'react';
import type { ApiKeyFieldsFragment } from '@/lib/gql/graphql';
import {
  API_KEYS_QUERY,
  CREATE_API_KEY_MUTATION,
  CREATE_IDENTITY_MUTATION,
  DISABLE_IDENTITY_MUTATION,
  IDENTITIES_QUERY,
  REVOKE_API_KEY_MUTATION,
  UPDATE_IDENTITY_MUTATION,
} from '@/lib/operations';
import type { Identity, Role } from '@/lib/view-types';
import { ConfirmButton } from './confirm-button';
import { DateTime } from './date-time';
import { ErrorNotice } from './error-notice';
import { FormCard } from './form-card';
import { useSession } from './session-gate';
import { useQuery } from './use-query';
import { useSubmission } from './use-submission';

/** The roles a tenant administrator hands out (PLATFORM_ADMIN is not a tenant's to give). */
const TENANT_ROLES: readonly Role[] = ['TENANT_ADMIN', 'OPERATOR', 'AUDITOR', 'MEMBER'];

const ROLE_WORDS: Record<Role, string> = {
  PLATFORM_ADMIN: 'Platform administrator',
  TENANT_ADMIN: 'Tenant administrator',
  OPERATOR: 'Operator',
  AUDITOR: 'Auditor',
  MEMBER: 'Member',
};

const parseGroups = (text: string): string[] =>
  text
    .split(',')
    .map((group) => group.trim())
    .filter(Boolean);

const checkedRoles = (form: FormData, prefix: string): Role[] =>
  TENANT_ROLES.filter((role) => form.get(`${prefix}-${role}`) !== null);

/** /identities: who may act in the tenant, with which roles and groups, and the API keys they sign in with. */
export function Identities() {
  const session = useSession();
  const identities = useQuery(IDENTITIES_QUERY, {});
  const keys = useQuery(API_KEYS_QUERY, {});
  // The API decides (identity:write, apikey:write); the page only leaves out what would be refused.
  const canWrite = session.can('identity:write');
  const canIssueKeys = session.can('apikey:write');
  const onChanged = () => {
    identities.reload();
    keys.reload();
  };
  const activeKeys = (identityId: string) =>
    keys.data?.apiKeys.filter((key) => key.identity.id === identityId && key.revokedAt === null).length;

  return (
    <Stack gap="xl">
      <div>
        <Title order={1}>Identities</Title>
        <Text c="dimmed" data-testid="identities-count">
          {identities.data
            ? `${identities.data.identities.length} ${identities.data.identities.length === 1 ? 'identity' : 'identities'}. `
            : ''}
          People and services that request backups or use this console; policies can be assigned to them or their
          groups.
        </Text>
      </div>

      <section aria-labelledby="identities-heading">
        <Title order={2} size="h3" id="identities-heading" mb="sm">
          People and services
        </Title>
        {identities.error ? (
          <ErrorNotice error={identities.error} title="Could not load the identities" testId="identities-error" />
        ) : identities.data === null ? (
          <Group gap="xs">
            <Loader size="xs" />
            <Text>Loading identities…</Text>
          </Group>
        ) : (
          <Table.ScrollContainer minWidth={0}>
            <Table data-testid="identities-table" className="responsive-table" verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Identity</Table.Th>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Roles</Table.Th>
                  <Table.Th>Groups</Table.Th>
                  <Table.Th>Sign-in</Table.Th>
                  {canWrite ? <Table.Th>Actions</Table.Th> : null}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {identities.data.identities.map((identity) => (
                  <IdentityRow
                    key={identity.id}
                    identity={identity}
                    activeKeys={activeKeys(identity.id)}
                    isSelf={identity.id === session.viewer.identity.id}
                    canWrite={canWrite}
                    onChanged={onChanged}
                  />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {canWrite ? <CreateIdentityForm onCreated={onChanged} /> : null}
      </section>

      <section aria-labelledby="keys-heading">
        <Title order={2} size="h3" id="keys-heading" mb="xs">
          API keys
        </Title>
        <Text c="dimmed" mb="sm">
          A key signs its identity in, here or from a terminal or integration. Only its prefix is kept in the clear; a
          revoked key is refused at once, with every session opened with it.
        </Text>
        {keys.error ? (
          <ErrorNotice error={keys.error} title="Could not load the API keys" testId="keys-error" />
        ) : keys.data === null ? (
          <Group gap="xs">
            <Loader size="xs" />
            <Text>Loading API keys…</Text>
          </Group>
        ) : (
          <ApiKeyTable keys={keys.data.apiKeys} canRevoke={canIssueKeys} onChanged={onChanged} />
        )}
        {canIssueKeys && identities.data ? (
          <CreateApiKeyForm identities={identities.data.identities} onCreated={keys.reload} />
        ) : null}
      </section>
    </Stack>
  );
}

function IdentityRow({
  identity,
  activeKeys,
  isSelf,
  canWrite,
  onChanged,
}: {
  identity: Identity;
  /** undefined while the keys load. */
  activeKeys: number | undefined;
  isSelf: boolean;
  canWrite: boolean;
  onChanged: () => void;
}) {
  const session = useSession();
  const [isEditing, setEditing] = useState(false);
  const disabling = useSubmission();
  const columns = canWrite ? 6 : 5;
  return (
    <>
      <Table.Tr data-testid="identity-row" data-external-id={identity.externalId}>
        <Table.Td data-label="Identity" className="break-anywhere">
          <Text fw={600} size="sm">
            {identity.externalId}
          </Text>
        </Table.Td>
        <Table.Td data-label="Name">{identity.displayName}</Table.Td>
        <Table.Td data-label="Roles" data-testid="identity-roles">
          {identity.roles.join(', ')}
        </Table.Td>
        <Table.Td data-label="Groups" data-testid="identity-groups">
          {identity.groups.length > 0 ? identity.groups.join(', ') : 'none'}
        </Table.Td>
        <Table.Td data-label="Sign-in" data-testid="identity-sign-in">
          {activeKeys === undefined ? (
            '…'
          ) : activeKeys === 0 ? (
            <Text component="span" size="sm" fw={600}>
              disabled: no active key
            </Text>
          ) : (
            `${activeKeys} active ${activeKeys === 1 ? 'key' : 'keys'}`
          )}
        </Table.Td>
        {canWrite ? (
          <Table.Td data-label="Actions">
            <Group gap="xs" wrap="wrap">
              <Button
                size="xs"
                variant="default"
                onClick={() => setEditing((open) => !open)}
                aria-expanded={isEditing}
                aria-label={`Edit ${identity.externalId}`}
              >
                {isEditing ? 'Close' : 'Edit'}
              </Button>
              {!isSelf && activeKeys !== undefined && activeKeys > 0 ? (
                <ConfirmButton
                  size="xs"
                  variant="outline"
                  color="red.9"
                  title={`Disable ${identity.externalId}?`}
                  message={`Every API key of ${identity.displayName} is revoked now (${activeKeys}), and with them its console sessions and live connections. Issue a new key to let it sign in again.`}
                  confirmLabel="Disable sign-in"
                  loading={disabling.pending}
                  onConfirm={() =>
                    disabling.run(() => session.request(DISABLE_IDENTITY_MUTATION, { id: identity.id }), onChanged)
                  }
                  ariaLabel={`Disable ${identity.externalId}`}
                >
                  Disable
                </ConfirmButton>
              ) : null}
            </Group>
            {disabling.error ? <ErrorNotice error={disabling.error} title="Not disabled" /> : null}
          </Table.Td>
        ) : null}
      </Table.Tr>
      {isEditing ? (
        <Table.Tr>
          <Table.Td colSpan={columns}>
            <EditIdentityForm
              identity={identity}
              isSelf={isSelf}
              onSaved={() => {
                setEditing(false);
                onChanged();
              }}
            />
          </Table.Td>
        </Table.Tr>
      ) : null}
    </>
  );
}

/** The roles as checkboxes named `<prefix>-<ROLE>`, ticked as `initial`. */
function RoleChoices({ prefix, initial }: { prefix: string; initial: readonly Role[] }) {
  return (
    <Checkbox.Group label="Roles" defaultValue={initial.filter((role) => TENANT_ROLES.includes(role))}>
      <Group mt="xs" gap="md">
        {TENANT_ROLES.map((role) => (
          <Checkbox key={role} value={role} name={`${prefix}-${role}`} label={ROLE_WORDS[role]} />
        ))}
      </Group>
    </Checkbox.Group>
  );
}

function EditIdentityForm({ identity, isSelf, onSaved }: { identity: Identity; isSelf: boolean; onSaved: () => void }) {
  const session = useSession();
  const { pending, error, run } = useSubmission();
  const [problem, setProblem] = useState<string | null>(null);
  const prefix = `edit-${identity.id}`;
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const roles = checkedRoles(form, prefix);
    const displayName = String(form.get('displayName') ?? '').trim();
    if (!displayName) return setProblem('Give the identity a display name.');
    if (roles.length === 0) return setProblem('Tick at least one role.');
    setProblem(null);
    // A platform role is kept as it is: a tenant administrator neither grants nor takes it.
    const kept = identity.roles.filter((role) => !TENANT_ROLES.includes(role));
    run(
      () =>
        session.request(UPDATE_IDENTITY_MUTATION, {
          id: identity.id,
          input: { displayName, roles: [...kept, ...roles], groups: parseGroups(String(form.get('groups') ?? '')) },
        }),
      onSaved,
    );
  };
  return (
    <Paper
      withBorder
      p="md"
      component="form"
      onSubmit={onSubmit}
      noValidate
      aria-label={`Edit ${identity.externalId}`}
      data-testid="edit-identity-form"
    >
      <Stack>
        <TextInput name="displayName" label="Display name" defaultValue={identity.displayName} />
        <RoleChoices prefix={prefix} initial={identity.roles} />
        {isSelf ? (
          <Text size="sm" c="dimmed">
            This is you: keep the tenant administrator role, or another administrator has to give it back.
          </Text>
        ) : null}
        <TextInput
          name="groups"
          label="Groups"
          description="Comma-separated; policies can be assigned to a group."
          defaultValue={identity.groups.join(', ')}
        />
        {problem ? (
          <Alert color="red" role="alert" data-testid="edit-identity-problem">
            {problem}
          </Alert>
        ) : null}
        {error ? <ErrorNotice error={error} title="Not saved" testId="edit-identity-error" /> : null}
        <Group>
          <Button type="submit" loading={pending}>
            Save {identity.externalId}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

/** A new identity: the identifier, the name and a role are checked here first, then by the API. */
function CreateIdentityForm({ onCreated }: { onCreated: () => void }) {
  const session = useSession();
  const { pending, error, run } = useSubmission();
  const [problem, setProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    const input = {
      externalId: String(form.get('externalId') ?? '').trim(),
      displayName: String(form.get('displayName') ?? '').trim(),
      roles: checkedRoles(form, 'new'),
      groups: parseGroups(String(form.get('groups') ?? '')),
    };
    setCreated(null);
    if (!input.externalId) return setProblem('Enter the identifier a terminal sends, such as an employee id.');
    if (!input.displayName) return setProblem('Give the identity a display name.');
    if (input.roles.length === 0) return setProblem('Tick at least one role.');
    setProblem(null);
    run(
      () => session.request(CREATE_IDENTITY_MUTATION, { input }),
      (result) => {
        setCreated(result.createIdentity.externalId);
        element.reset();
        onCreated();
      },
    );
  };

  return (
    <FormCard
      title="Add an identity"
      headingId="add-identity-heading"
      testId={{ form: 'identity-form', problem: 'identity-problem', error: 'identity-error' }}
      onSubmit={onSubmit}
      problem={problem}
      error={error}
      errorTitle="Not added"
      outcome={
        created ? (
          <Text role="status" fw={600} data-testid="identity-done">
            Added {created}.
          </Text>
        ) : null
      }
      submitLabel="Add identity"
      pending={pending}
    >
      <Group grow align="flex-start" wrap="wrap">
        <TextInput
          name="externalId"
          label="Identifier"
          description="What a terminal sends: an employee id or a service name."
          autoComplete="off"
          miw={200}
        />
        <TextInput name="displayName" label="Display name" autoComplete="off" miw={200} />
      </Group>
      <RoleChoices prefix="new" initial={[]} />
      <TextInput
        name="groups"
        label="Groups"
        placeholder="finance, laptops"
        description="Comma-separated; policies can be assigned to a group."
      />
    </FormCard>
  );
}

function ApiKeyTable({
  keys,
  canRevoke,
  onChanged,
}: {
  keys: ApiKeyFieldsFragment[];
  canRevoke: boolean;
  onChanged: () => void;
}) {
  if (keys.length === 0) return <Text data-testid="keys-empty">No API key yet.</Text>;
  return (
    <Table.ScrollContainer minWidth={0}>
      <Table data-testid="keys-table" className="responsive-table" verticalSpacing="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Prefix</Table.Th>
            <Table.Th>Identity</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Status</Table.Th>
            {canRevoke ? <Table.Th>Actions</Table.Th> : null}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {keys.map((key) => (
            <ApiKeyRow key={key.id} apiKey={key} canRevoke={canRevoke} onChanged={onChanged} />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function ApiKeyRow({
  apiKey,
  canRevoke,
  onChanged,
}: {
  apiKey: ApiKeyFieldsFragment;
  canRevoke: boolean;
  onChanged: () => void;
}) {
  const session = useSession();
  const { pending, error, run } = useSubmission();
  return (
    <Table.Tr data-testid="key-row" data-key-name={apiKey.name} data-revoked={apiKey.revokedAt ? 'true' : 'false'}>
      <Table.Td data-label="Name" className="break-anywhere">
        {apiKey.name}
      </Table.Td>
      <Table.Td data-label="Prefix">
        <Code>{apiKey.prefix}</Code>
      </Table.Td>
      <Table.Td data-label="Identity">{apiKey.identity.externalId}</Table.Td>
      <Table.Td data-label="Created">
        <DateTime value={apiKey.createdAt} />
      </Table.Td>
      <Table.Td data-label="Status" data-testid="key-status">
        {apiKey.revokedAt ? (
          <span>
            Revoked <DateTime value={apiKey.revokedAt} />
          </span>
        ) : (
          'Active'
        )}
      </Table.Td>
      {canRevoke ? (
        <Table.Td data-label="Actions">
          {apiKey.revokedAt ? null : (
            <ConfirmButton
              size="xs"
              variant="outline"
              color="red.9"
              title={`Revoke the key “${apiKey.name}”?`}
              message={`Requests with it are refused from now on, and the console sessions of ${apiKey.identity.displayName} opened with it end. This cannot be undone.`}
              confirmLabel="Revoke key"
              loading={pending}
              onConfirm={() => run(() => session.request(REVOKE_API_KEY_MUTATION, { id: apiKey.id }), onChanged)}
              ariaLabel={`Revoke the key ${apiKey.name}`}
            >
              Revoke
            </ConfirmButton>
          )}
          {error ? <ErrorNotice error={error} title="Not revoked" testId="revoke-error" /> : null}
        </Table.Td>
      ) : null}
    </Table.Tr>
  );
}

/** A key for one identity, under a name chosen here; its secret is shown once, with a copy button. */
function CreateApiKeyForm({ identities, onCreated }: { identities: Identity[]; onCreated: () => void }) {
  const session = useSession();
  const { pending, error, run } = useSubmission();
  const [problem, setProblem] = useState<string | null>(null);
  const [issued, setIssued] = useState<{ name: string; owner: string; secret: string } | null>(null);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    const identityId = String(form.get('identityId') ?? '');
    const name = String(form.get('name') ?? '').trim();
    setIssued(null);
    if (!identityId) return setProblem('Choose the identity the key signs in.');
    if (!name) return setProblem('Give the key a name, such as the machine or integration that will use it.');
    setProblem(null);
    run(
      () => session.request(CREATE_API_KEY_MUTATION, { input: { identityId, name } }),
      (result) => {
        setIssued({
          name: result.createApiKey.apiKey.name,
          owner: result.createApiKey.apiKey.identity.externalId,
          secret: result.createApiKey.secret,
        });
        element.reset();
        onCreated();
      },
    );
  };

  return (
    <FormCard
      title="Create an API key"
      headingId="create-key-heading"
      testId={{ form: 'key-form', problem: 'key-problem', error: 'key-error' }}
      onSubmit={onSubmit}
      problem={problem}
      error={error}
      errorTitle="No key created"
      outcome={issued ? <IssuedSecret issued={issued} /> : null}
      submitLabel="Create key"
      pending={pending}
    >
      <Group grow align="flex-start" wrap="wrap">
        <NativeSelect
          name="identityId"
          label="Identity"
          miw={200}
          data={[
            { value: '', label: 'Choose an identity' },
            ...identities.map((identity) => ({
              value: identity.id,
              label: `${identity.displayName} (${identity.externalId})`,
            })),
          ]}
        />
        <TextInput name="name" label="Key name" placeholder="backup-runner on host-7" autoComplete="off" miw={200} />
      </Group>
    </FormCard>
  );
}

/** The new key's secret, once, with a copy button. */
function IssuedSecret({ issued }: { issued: { name: string; owner: string; secret: string } }) {
  return (
    <Alert color="green" title={`Key “${issued.name}” for ${issued.owner}`} data-testid="key-issued">
      <Text size="sm" mb="xs">
        Copy the secret now: it is shown only this once and cannot be read again.
      </Text>
      <Group gap="xs" wrap="nowrap" align="center">
        <Code data-testid="issued-secret" className="break-anywhere">
          {issued.secret}
        </Code>
        <CopyButton value={issued.secret}>
          {({ copied, copy }) => (
            <Button size="xs" variant={copied ? 'filled' : 'default'} onClick={copy} data-testid="copy-secret">
              {copied ? 'Copied' : 'Copy'}
            </Button>
          )}
        </CopyButton>
      </Group>
    </Alert>
  );
}

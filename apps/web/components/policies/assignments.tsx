'use client';

import {
  Alert,
  Badge,
  Button,
  Group,
  NativeSelect,
  Paper,
  Radio,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { type FormEvent, useState } from 'react';
import type { AssignmentFieldsFragment, PolicyChoicesQuery, TemplateFieldsFragment } from '@/lib/gql/graphql';
import type { GraphQLRequestError } from '@/lib/graphql-client';
import { ASSIGN_POLICY_MUTATION, UNASSIGN_POLICY_MUTATION } from '@/lib/operations';
import { ErrorNotice } from '../error-notice';
import { useSession } from '../session-gate';
import { useSubmission } from '../use-submission';

type Target = 'identity' | 'group' | 'tenant';

const describeTarget = (assignment: AssignmentFieldsFragment): string =>
  assignment.identity
    ? `Identity ${assignment.identity.displayName} (${assignment.identity.externalId})`
    : assignment.group
      ? `Group ${assignment.group}`
      : 'Tenant default';

/** Who each template applies to, most specific first when a backup is requested: identity, group, tenant default. */
export function Assignments({
  assignments,
  error,
  templates,
  identities,
  canWrite,
  onChanged,
}: {
  assignments: AssignmentFieldsFragment[] | null;
  error: GraphQLRequestError | null;
  templates: TemplateFieldsFragment[];
  identities: PolicyChoicesQuery['identities'];
  canWrite: boolean;
  onChanged: () => void;
}) {
  return (
    <section aria-labelledby="assignments-heading">
      <Title order={2} id="assignments-heading" size="h3" mb="xs">
        Assignments
      </Title>
      <Text c="dimmed" mb="sm">
        A request uses the most specific match: an identity's own assignment, then its groups', then the tenant default.
        An assignment with a data class applies only to requests of that class.
      </Text>
      {error ? (
        <ErrorNotice error={error} title="Could not load the assignments" testId="assignments-error" />
      ) : assignments === null ? (
        <Text>Loading assignments…</Text>
      ) : assignments.length === 0 ? (
        <Text data-testid="assignments-empty">
          No assignments: no backup can be requested until a template is assigned.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={0}>
          <Table data-testid="assignments-table" className="responsive-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Applies to</Table.Th>
                <Table.Th>Data class</Table.Th>
                <Table.Th>Template</Table.Th>
                {canWrite ? <Table.Th>Actions</Table.Th> : null}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {assignments.map((assignment) => (
                <AssignmentRow key={assignment.id} assignment={assignment} canWrite={canWrite} onChanged={onChanged} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {canWrite && templates.length > 0 ? (
        <AssignForm templates={templates} identities={identities} onChanged={onChanged} />
      ) : null}
    </section>
  );
}

function AssignmentRow({
  assignment,
  canWrite,
  onChanged,
}: {
  assignment: AssignmentFieldsFragment;
  canWrite: boolean;
  onChanged: () => void;
}) {
  const session = useSession();
  const { pending, error, run } = useSubmission();
  const target = describeTarget(assignment);
  return (
    <Table.Tr data-testid="assignment-row" data-target={target}>
      <Table.Td data-label="Applies to">{target}</Table.Td>
      <Table.Td data-label="Data class">
        {assignment.dataClass ? <Badge color="blue.9">{assignment.dataClass}</Badge> : 'any'}
      </Table.Td>
      <Table.Td data-label="Template">
        {assignment.template.name} (v{assignment.template.version})
      </Table.Td>
      {canWrite ? (
        <Table.Td data-label="Actions">
          <Button
            size="xs"
            color="red.9"
            variant="outline"
            loading={pending}
            aria-label={`Remove the assignment of ${assignment.template.name} to ${target}`}
            onClick={() => run(() => session.request(UNASSIGN_POLICY_MUTATION, { id: assignment.id }), onChanged)}
          >
            Remove
          </Button>
          {error ? <ErrorNotice error={error} title="Not removed" /> : null}
        </Table.Td>
      ) : null}
    </Table.Tr>
  );
}

function AssignForm({
  templates,
  identities,
  onChanged,
}: {
  templates: TemplateFieldsFragment[];
  identities: PolicyChoicesQuery['identities'];
  onChanged: () => void;
}) {
  const session = useSession();
  const { pending, error, run } = useSubmission();
  const [target, setTarget] = useState<Target>('identity');
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const templateId = String(form.get('templateId') ?? '');
    const identityId = String(form.get('identityId') ?? '');
    const group = String(form.get('group') ?? '').trim();
    const dataClass = String(form.get('dataClass') ?? '').trim();
    setDone(null);
    if (target === 'identity' && !identityId) return setProblem('Choose the identity the template applies to.');
    if (target === 'group' && !group) return setProblem('Enter the name of the group the template applies to.');
    setProblem(null);
    const input = {
      templateId,
      ...(target === 'identity' ? { identityId } : target === 'group' ? { group } : { tenantDefault: true }),
      ...(dataClass ? { dataClass } : {}),
    };
    const templateName = templates.find((template) => template.id === templateId)?.name ?? 'the template';
    run(
      () => session.request(ASSIGN_POLICY_MUTATION, { input }),
      () => {
        setDone(`Assigned ${templateName}.`);
        onChanged();
      },
    );
  };

  return (
    <Paper withBorder p="md" mt="md" component="form" onSubmit={onSubmit} noValidate data-testid="assign-form">
      <Stack>
        <Title order={3} size="h4">
          Assign a template
        </Title>
        <NativeSelect
          name="templateId"
          label="Template"
          data={templates.map((template) => ({ value: template.id, label: `${template.name} (v${template.version})` }))}
        />
        <Radio.Group label="Applies to" value={target} onChange={(value) => setTarget(value as Target)} name="target">
          <Group mt="xs">
            <Radio value="identity" label="An identity" />
            <Radio value="group" label="A group" />
            <Radio value="tenant" label="Everyone (tenant default)" />
          </Group>
        </Radio.Group>
        {target === 'identity' ? (
          <NativeSelect
            name="identityId"
            label="Identity"
            data={[
              { value: '', label: 'Choose an identity' },
              ...identities.map((identity) => ({
                value: identity.id,
                label: `${identity.displayName} (${identity.externalId})`,
              })),
            ]}
          />
        ) : null}
        {target === 'group' ? <TextInput name="group" label="Group" placeholder="finance" /> : null}
        <TextInput
          name="dataClass"
          label="Data class (optional)"
          description="Only requests of this class use the assignment; leave empty for every class."
        />
        {problem ? (
          <Alert color="red" role="alert" data-testid="assign-problem">
            {problem}
          </Alert>
        ) : null}
        {error ? <ErrorNotice error={error} title="Not assigned" testId="assign-error" /> : null}
        {done ? (
          <Text role="status" data-testid="assign-done" c="green.9">
            {done}
          </Text>
        ) : null}
        <Group>
          <Button type="submit" loading={pending}>
            Assign
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

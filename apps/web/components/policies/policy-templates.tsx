'use client';

import { Anchor, Badge, Button, Group, Loader, Stack, Table, Text, Title } from '@mantine/core';
import Link from 'next/link';
import { formatDelay, ORDERING_WORDS } from '@/lib/policy-format';
import { POLICY_ASSIGNMENTS_QUERY, POLICY_CHOICES_QUERY, POLICY_TEMPLATES_QUERY } from '@/lib/operations';
import { ErrorNotice } from '../error-notice';
import { useSession } from '../session-gate';
import { useQuery } from '../use-query';
import { Assignments } from './assignments';

/** /policies: the tenant's templates (latest versions) and who they are assigned to. */
export function PolicyTemplates() {
  const session = useSession();
  const canWrite = session.can('policy:write');
  const templates = useQuery(POLICY_TEMPLATES_QUERY, {});
  const assignments = useQuery(POLICY_ASSIGNMENTS_QUERY, {});
  const choices = useQuery(POLICY_CHOICES_QUERY, {});

  return (
    <Stack gap="xl">
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <div>
          <Title order={1}>Policies</Title>
          <Text c="dimmed">
            A template says how data is protected: copies, where, and the delay between them. Each change publishes a
            new version.
          </Text>
        </div>
        <Group>
          {session.can('scheme:preview') ? (
            <Button component={Link} href="/policies/preview" variant="default">
              Preview a scheme
            </Button>
          ) : null}
          {canWrite ? (
            <Button component={Link} href="/policies/new">
              New template
            </Button>
          ) : null}
        </Group>
      </Group>

      <section aria-labelledby="templates-heading">
        <Title order={2} id="templates-heading" size="h3" mb="sm">
          Templates
        </Title>
        {templates.error ? (
          <ErrorNotice error={templates.error} title="Could not load the templates" testId="templates-error" />
        ) : templates.data === null ? (
          <Group gap="xs">
            <Loader size="xs" />
            <Text>Loading templates…</Text>
          </Group>
        ) : templates.data.policyTemplates.length === 0 ? (
          <Text data-testid="templates-empty">
            No templates yet. {canWrite ? 'Create one with “New template”.' : 'A tenant administrator can create one.'}
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={0}>
            <Table striped highlightOnHover data-testid="templates-table" className="responsive-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Version</Table.Th>
                  <Table.Th>Copies</Table.Th>
                  <Table.Th>Primary</Table.Th>
                  <Table.Th>Delay</Table.Th>
                  <Table.Th>Secondaries</Table.Th>
                  <Table.Th>Data class</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {templates.data.policyTemplates.map((template) => (
                  <Table.Tr key={template.id} data-testid="template-row" data-template-name={template.name}>
                    <Table.Td data-label="Name">
                      <Anchor component={Link} href={`/policies/${template.id}`}>
                        {template.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td data-label="Version">v{template.version}</Table.Td>
                    <Table.Td data-label="Copies">
                      {template.copies} (at least {template.minCopies})
                    </Table.Td>
                    <Table.Td data-label="Primary">{template.primary.name}</Table.Td>
                    <Table.Td data-label="Delay">{formatDelay(template.delaySeconds)}</Table.Td>
                    <Table.Td data-label="Secondaries">
                      {ORDERING_WORDS[template.ordering]}: {template.candidates.map((c) => c.name).join(', ') || '—'}
                    </Table.Td>
                    <Table.Td data-label="Data class">
                      {template.dataClass ? <Badge color="blue.9">{template.dataClass}</Badge> : 'any'}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </section>

      <Assignments
        assignments={assignments.data?.policyAssignments ?? null}
        error={assignments.error ?? choices.error}
        templates={templates.data?.policyTemplates ?? []}
        identities={choices.data?.identities ?? []}
        canWrite={canWrite}
        onChanged={assignments.reload}
      />
    </Stack>
  );
}

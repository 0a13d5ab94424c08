'use client';

import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  List,
  NativeSelect,
  Paper,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { useState } from 'react';
import type { TemplateFieldsFragment } from '@/lib/gql/graphql';
import { POLICY_TEMPLATE_QUERY } from '@/lib/operations';
import { formatDelay, ORDERING_WORDS } from '@/lib/policy-format';
import { ErrorNotice } from '../error-notice';
import { useSession } from '../session-gate';
import { useQuery } from '../use-query';

/** The settings of a version, in words, in a fixed order: what the detail shows and the diff compares. */
const SETTINGS: readonly { label: string; show: (template: TemplateFieldsFragment) => string }[] = [
  { label: 'Name', show: (t) => t.name },
  { label: 'Copies', show: (t) => String(t.copies) },
  { label: 'Minimum verified copies', show: (t) => String(t.minCopies) },
  { label: 'Primary', show: (t) => t.primary.name },
  { label: 'Secondary candidates', show: (t) => t.candidates.map((c) => c.name).join(', ') || 'none' },
  { label: 'Order of the secondaries', show: (t) => ORDERING_WORDS[t.ordering] },
  { label: 'Delay between copies', show: (t) => formatDelay(t.delaySeconds) },
  { label: 'Data class', show: (t) => t.dataClass ?? 'any' },
];

export function TemplateDetail({ templateId }: { templateId: string }) {
  const session = useSession();
  const saved = useSearchParams().get('saved');
  const latest = useQuery(POLICY_TEMPLATE_QUERY, { id: templateId });
  if (latest.error) return <ErrorNotice error={latest.error} title="Could not load the template" />;
  if (latest.data === null) return <Text>Loading the template…</Text>;
  const template = latest.data.policyTemplate;
  if (template === null) {
    return (
      <Stack>
        <Title order={1}>Template not found</Title>
        <Text data-testid="template-missing">
          There is no such template in your tenant.{' '}
          <Anchor component={Link} href="/policies">
            Back to policies
          </Anchor>
        </Text>
      </Stack>
    );
  }
  return (
    <Stack gap="xl" data-testid="template-detail" data-template-id={template.id}>
      <Anchor component={Link} href="/policies">
        ← Policies
      </Anchor>
      <Group justify="space-between" align="flex-start">
        <div>
          <Title order={1}>{template.name}</Title>
          <Text c="dimmed" data-testid="template-version">
            Version {template.version} of {template.versions.length}
          </Text>
        </div>
        {session.can('policy:write') ? (
          <Button component={Link} href={`/policies/${template.id}/edit`}>
            Edit
          </Button>
        ) : null}
      </Group>
      {saved ? (
        <Alert color="green" role="status" data-testid="template-saved">
          Saved as version {saved}.
        </Alert>
      ) : null}
      <Paper withBorder p="md">
        <Table data-testid="template-settings" className="key-value-table">
          <Table.Tbody>
            {SETTINGS.map((setting) => (
              <Table.Tr key={setting.label}>
                <Table.Th scope="row">{setting.label}</Table.Th>
                <Table.Td>{setting.show(template)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Paper>
      <section aria-labelledby="history-heading">
        <Title order={2} size="h3" id="history-heading" mb="xs">
          Version history
        </Title>
        <List data-testid="version-history">
          {[...template.versions].reverse().map((version) => (
            <List.Item key={version} data-testid="version-entry">
              Version {version}
              {version === template.version ? (
                <Badge ml="xs" color="blue.9">
                  current
                </Badge>
              ) : null}
            </List.Item>
          ))}
        </List>
      </section>
      <VersionDiff template={template} />
    </Stack>
  );
}

function VersionDiff({ template }: { template: TemplateFieldsFragment }) {
  const versions = template.versions;
  const [from, setFrom] = useState(String(versions.length > 1 ? versions[versions.length - 2] : versions[0]));
  const [to, setTo] = useState(String(template.version));
  const left = useQuery(POLICY_TEMPLATE_QUERY, { id: template.id, version: Number(from) });
  const right = useQuery(POLICY_TEMPLATE_QUERY, { id: template.id, version: Number(to) });
  const options = versions.map((version) => ({ value: String(version), label: `Version ${version}` }));
  const a = left.data?.policyTemplate ?? null;
  const b = right.data?.policyTemplate ?? null;
  const rows =
    a && b ? SETTINGS.map((setting) => ({ ...setting, before: setting.show(a), after: setting.show(b) })) : [];
  const changes = rows.filter((row) => row.before !== row.after).length;
  return (
    <section aria-labelledby="diff-heading">
      <Title order={2} size="h3" id="diff-heading" mb="xs">
        Compare versions
      </Title>
      {versions.length < 2 ? (
        <Text data-testid="diff-single">Only one version so far: edit the template to publish another.</Text>
      ) : (
        <Stack>
          <Group wrap="wrap">
            <NativeSelect label="From" value={from} onChange={(e) => setFrom(e.currentTarget.value)} data={options} />
            <NativeSelect label="To" value={to} onChange={(e) => setTo(e.currentTarget.value)} data={options} />
          </Group>
          {left.error || right.error ? (
            <ErrorNotice error={(left.error ?? right.error)!} title="Could not load a version" />
          ) : rows.length === 0 ? (
            <Text>Loading the versions…</Text>
          ) : (
            <>
              <Text data-testid="diff-summary">
                {changes === 0 ? 'No setting differs.' : `${changes} setting${changes === 1 ? '' : 's'} changed.`}
              </Text>
              <Table.ScrollContainer minWidth={0}>
                <Table data-testid="version-diff" className="responsive-table">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Setting</Table.Th>
                      <Table.Th>Version {from}</Table.Th>
                      <Table.Th>Version {to}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {rows.map((row) => {
                      const isChanged = row.before !== row.after;
                      return (
                        <Table.Tr
                          key={row.label}
                          data-testid="diff-row"
                          data-setting={row.label}
                          data-changed={isChanged ? 'true' : 'false'}
                          className={isChanged ? 'diff-row--changed' : undefined}
                        >
                          <Table.Td data-label="Setting">
                            {row.label}
                            {isChanged ? (
                              <Badge ml="xs" color="red.9">
                                changed
                              </Badge>
                            ) : null}
                          </Table.Td>
                          <Table.Td data-label={`Version ${from}`}>
                            {isChanged ? <del>{row.before}</del> : row.before}
                          </Table.Td>
                          <Table.Td data-label={`Version ${to}`}>
                            {isChanged ? <ins>{row.after}</ins> : row.after}
                          </Table.Td>
                        </Table.Tr>
                      );
                    })}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </>
          )}
        </Stack>
      )}
    </section>
  );
}

'use client';

import { Alert, Anchor, Button, Group, List, NativeSelect, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import Link from 'next/link';
import { type FormEvent, useState } from 'react';
import { formatBytes } from '@/lib/format';
import type { PreviewSchemeQuery } from '@/lib/gql/graphql';
import { POLICY_CHOICES_QUERY, PREVIEW_SCHEME_QUERY } from '@/lib/operations';
import { formatDelay, formatOffset } from '@/lib/policy-format';
import { ErrorNotice } from '../error-notice';
import { useSession } from '../session-gate';
import { useQuery } from '../use-query';
import { useSubmission } from '../use-submission';

const GIB = 1024 ** 3;

type Scheme = PreviewSchemeQuery['previewScheme'];

/** /policies/preview: which scheme a request would get, and when each copy would run on which system. */
export function SchemePreview() {
  const session = useSession();
  const choices = useQuery(POLICY_CHOICES_QUERY, {});
  const { pending, error, run } = useSubmission();
  const [problem, setProblem] = useState<string | null>(null);
  const [result, setResult] = useState<{ scheme: Scheme; sizeBytes: number; identity: string } | null>(null);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const identityId = String(form.get('identityId') ?? '');
    const size = Number(String(form.get('sizeGiB') ?? '').trim());
    const dataClass = String(form.get('dataClass') ?? '').trim();
    if (!identityId) return setProblem('Choose the identity that would ask for the backup.');
    if (!Number.isFinite(size) || size <= 0) return setProblem('The size must be a positive number of GiB.');
    setProblem(null);
    const sizeBytes = Math.round(size * GIB);
    const identity = choices.data?.identities.find((candidate) => candidate.id === identityId);
    run(
      () =>
        session.request(PREVIEW_SCHEME_QUERY, {
          input: { identityId, sizeBytes, ...(dataClass ? { dataClass } : {}) },
        }),
      (data) => setResult({ scheme: data.previewScheme, sizeBytes, identity: identity?.displayName ?? 'the identity' }),
    );
  };

  return (
    <Stack gap="lg">
      <Anchor component={Link} href="/policies">
        ← Policies
      </Anchor>
      <div>
        <Title order={1}>Preview a scheme</Title>
        <Text c="dimmed">
          Which template would apply to a request, where each copy would be written and when — from the storage systems'
          free capacity now. Nothing is written.
        </Text>
      </div>
      {choices.error ? <ErrorNotice error={choices.error} title="Could not load the identities" /> : null}
      <Paper withBorder p="md" component="form" onSubmit={onSubmit} noValidate data-testid="preview-form" maw={720}>
        <Stack>
          <NativeSelect
            name="identityId"
            label="Identity"
            data={[
              { value: '', label: choices.data ? 'Choose an identity' : 'Loading identities…' },
              ...(choices.data?.identities ?? []).map((identity) => ({
                value: identity.id,
                label: `${identity.displayName} (${identity.externalId})`,
              })),
            ]}
          />
          <Group grow wrap="wrap" align="flex-start">
            <TextInput name="sizeGiB" label="Size (GiB)" defaultValue="20" inputMode="decimal" miw={160} />
            <TextInput name="dataClass" label="Data class (optional)" miw={160} />
          </Group>
          {problem ? (
            <Alert color="red" role="alert" data-testid="preview-problem">
              {problem}
            </Alert>
          ) : null}
          {error ? <ErrorNotice error={error} title="No scheme" testId="preview-error" /> : null}
          <Group>
            <Button type="submit" loading={pending}>
              Preview
            </Button>
          </Group>
        </Stack>
      </Paper>
      {result ? <SchemeResult {...result} /> : null}
    </Stack>
  );
}

function SchemeResult({ scheme, sizeBytes, identity }: { scheme: Scheme; sizeBytes: number; identity: string }) {
  const copies = [scheme.primary, ...scheme.secondaries].map((system, order) => ({
    order,
    system,
    offset: scheme.plannedOffsetsSeconds[order] ?? 0,
  }));
  return (
    <Stack data-testid="preview-result">
      <Title order={2} size="h3">
        {identity}, {formatBytes(sizeBytes)}: {scheme.template.name} v{scheme.templateVersion}
      </Title>
      <Text data-testid="preview-matched-by">Why this template: {scheme.matchedBy}.</Text>
      <Text>
        {scheme.copies} {scheme.copies === 1 ? 'copy' : 'copies'}, {formatDelay(scheme.delaySeconds)} between copies.
        {copies.length < scheme.copies
          ? ` Only ${copies.length} can be placed now: the job would end with fewer copies than the template asks.`
          : ''}
      </Text>
      <SchemeTimeline copies={copies} />
      <section aria-labelledby="skipped-heading">
        <Title order={3} size="h4" id="skipped-heading">
          Skipped systems
        </Title>
        {scheme.skipped.length === 0 ? (
          <Text data-testid="skipped-none">None: every candidate has room.</Text>
        ) : (
          <List>
            {scheme.skipped.map((skipped) => (
              <List.Item
                key={skipped.storageSystem.id}
                data-testid="skipped-system"
                data-system={skipped.storageSystem.name}
              >
                <strong>{skipped.storageSystem.name}</strong> ({formatBytes(skipped.storageSystem.remainingBytes)}{' '}
                free): {skipped.reason}
              </List.Item>
            ))}
          </List>
        )}
      </section>
    </Stack>
  );
}

const ROW_HEIGHT = 44;
const LABEL_WIDTH = 150;
const CHART_WIDTH = 640;
const AXIS_HEIGHT = 28;

/**
 * The copies on a time axis from T1 (the primary's start): one row per copy, a marker where it starts. The same
 * facts are listed beside the drawing for screen readers and narrow screens.
 */
function SchemeTimeline({
  copies,
}: {
  copies: { order: number; system: { id: string; name: string }; offset: number }[];
}) {
  const last = Math.max(1, ...copies.map((copy) => copy.offset));
  const span = last * 1.15;
  const plotWidth = CHART_WIDTH - LABEL_WIDTH - 24;
  const x = (offset: number) => LABEL_WIDTH + (offset / span) * plotWidth;
  const height = copies.length * ROW_HEIGHT + AXIS_HEIGHT;
  const ticks = [0, last / 2, last];
  return (
    <Paper withBorder p="sm" data-testid="scheme-timeline">
      <svg
        viewBox={`0 0 ${CHART_WIDTH} ${height}`}
        width="100%"
        role="img"
        aria-labelledby="timeline-title"
        style={{ maxWidth: CHART_WIDTH, display: 'block' }}
      >
        <title id="timeline-title">
          {copies
            .map((copy) => `copy ${copy.order + 1} on ${copy.system.name} at ${formatOffset(copy.offset)}`)
            .join('; ')}
        </title>
        {copies.map((copy, row) => {
          const y = row * ROW_HEIGHT + ROW_HEIGHT / 2;
          return (
            <g key={copy.order} data-testid="timeline-copy" data-system={copy.system.name} data-offset={copy.offset}>
              <text x={8} y={y + 4} fontSize={13} fill="#0f172a">
                {copy.order === 0 ? 'Primary' : `Copy ${copy.order + 1}`}: {copy.system.name}
              </text>
              <line x1={LABEL_WIDTH} x2={CHART_WIDTH - 16} y1={y} y2={y} stroke="#cbd5e1" />
              <rect
                x={x(copy.offset)}
                y={y - 9}
                width={Math.max(10, plotWidth * 0.06)}
                height={18}
                rx={4}
                fill={copy.order === 0 ? '#1d4ed8' : '#6d28d9'}
              />
            </g>
          );
        })}
        <line
          x1={LABEL_WIDTH}
          x2={CHART_WIDTH - 16}
          y1={copies.length * ROW_HEIGHT + 4}
          y2={copies.length * ROW_HEIGHT + 4}
          stroke="#475569"
        />
        {ticks.map((tick) => (
          <text
            key={tick}
            x={x(tick)}
            y={copies.length * ROW_HEIGHT + 22}
            fontSize={12}
            fill="#334155"
            textAnchor={tick === 0 ? 'start' : 'middle'}
          >
            {formatOffset(Math.round(tick))}
          </text>
        ))}
      </svg>
      <List size="sm" mt="xs" data-testid="timeline-list">
        {copies.map((copy) => (
          <List.Item key={copy.order} data-testid="timeline-entry">
            {copy.order === 0 ? 'Primary' : `Copy ${copy.order + 1}`} on {copy.system.name}: starts at{' '}
            {formatOffset(copy.offset)}
          </List.Item>
        ))}
      </List>
      <Text size="xs" c="dimmed" mt={4}>
        Times count from T1, when the primary copy starts; each secondary waits the delay after the copy before it
        finished, so later copies may start later than shown.
      </Text>
    </Paper>
  );
}

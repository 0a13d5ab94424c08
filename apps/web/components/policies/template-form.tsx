'use client';

import {
  Alert,
  Anchor,
  Button,
  Checkbox,
  Group,
  NativeSelect,
  Paper,
  Radio,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type FormEvent, useState } from 'react';
import type { SecondaryOrdering, TemplateFieldsFragment } from '@/lib/gql/graphql';
import {
  CREATE_POLICY_TEMPLATE_MUTATION,
  POLICY_CHOICES_QUERY,
  POLICY_TEMPLATE_QUERY,
  UPDATE_POLICY_TEMPLATE_MUTATION,
} from '@/lib/operations';
import { ErrorNotice } from '../error-notice';
import { useSession } from '../session-gate';
import { useQuery } from '../use-query';
import { useSubmission } from '../use-submission';

const DELAY_UNITS = [
  { value: '1', label: 'seconds' },
  { value: '60', label: 'minutes' },
  { value: '3600', label: 'hours' },
  { value: '86400', label: 'days' },
];
const MAX_DELAY_SECONDS = 30 * 86_400;

interface TemplateDraft {
  name: string;
  primaryStorageSystemId: string;
  candidateStorageSystemIds: string[];
  copies: string;
  minCopies: string;
  delay: string;
  delayUnit: string;
  ordering: SecondaryOrdering;
  dataClass: string;
}

type Problems = Partial<Record<keyof TemplateDraft, string>>;

const draftOf = (template: TemplateFieldsFragment | null): TemplateDraft => {
  if (template === null) {
    return {
      name: '',
      primaryStorageSystemId: '',
      candidateStorageSystemIds: [],
      copies: '2',
      minCopies: '1',
      delay: '1',
      delayUnit: '3600',
      ordering: 'CAPACITY',
      dataClass: '',
    };
  }
  const unit = [...DELAY_UNITS].reverse().find((u) => template.delaySeconds % Number(u.value) === 0) ?? DELAY_UNITS[0];
  return {
    name: template.name,
    primaryStorageSystemId: template.primary.id,
    candidateStorageSystemIds: template.candidates.map((candidate) => candidate.id),
    copies: String(template.copies),
    minCopies: String(template.minCopies),
    delay: String(template.delaySeconds / Number(unit?.value ?? 1)),
    delayUnit: unit?.value ?? '1',
    ordering: template.ordering,
    dataClass: template.dataClass ?? '',
  };
};

const wholeNumber = (text: string): number | undefined => (/^\d+$/.test(text.trim()) ? Number(text) : undefined);

/** What is wrong with a draft, in plain words per field; the API checks the same again. */
function problemsOf(draft: TemplateDraft): Problems {
  const problems: Problems = {};
  if (!draft.name.trim()) problems.name = 'Give the template a name.';
  else if (draft.name.trim().length > 100) problems.name = 'Keep the name to 100 characters or fewer.';
  if (!draft.primaryStorageSystemId) problems.primaryStorageSystemId = 'Choose where the first copy is written.';
  const candidates = draft.candidateStorageSystemIds.filter((id) => id !== draft.primaryStorageSystemId);
  const copies = wholeNumber(draft.copies);
  if (copies === undefined || copies < 1) problems.copies = 'Copies must be a whole number, 1 or more.';
  else if (copies > 1 + candidates.length) {
    problems.copies = `${copies} copies need ${copies - 1} secondary systems; ${candidates.length} ${
      candidates.length === 1 ? 'is' : 'are'
    } ticked. Tick more secondaries or lower the copies.`;
  }
  const minCopies = wholeNumber(draft.minCopies);
  if (minCopies === undefined || minCopies < 1) problems.minCopies = 'The minimum must be a whole number, 1 or more.';
  else if (copies !== undefined && minCopies > copies) {
    problems.minCopies = `The minimum cannot be more than the copies (${copies}).`;
  }
  const delay = Number(draft.delay);
  if (draft.delay.trim() === '' || !Number.isFinite(delay) || delay < 0) {
    problems.delay = 'The delay must be 0 or more.';
  } else if (!Number.isInteger(delay * Number(draft.delayUnit))) {
    problems.delay = 'The delay must come to a whole number of seconds.';
  } else if (delay * Number(draft.delayUnit) > MAX_DELAY_SECONDS) {
    problems.delay = 'The delay can be at most 30 days.';
  }
  return problems;
}

/** Creates a template, or publishes the next version of one (`templateId`). */
export function TemplateForm({ templateId }: { templateId?: string }) {
  const choices = useQuery(POLICY_CHOICES_QUERY, {});
  const existing = useQuery(POLICY_TEMPLATE_QUERY, { id: templateId ?? '' }, { skip: templateId === undefined });
  if (choices.error) return <ErrorNotice error={choices.error} title="Could not load the storage systems" />;
  if (existing.error) return <ErrorNotice error={existing.error} title="Could not load the template" />;
  if (choices.data === null || (templateId !== undefined && existing.data === null)) return <Text>Loading…</Text>;
  const template = existing.data?.policyTemplate ?? null;
  if (templateId !== undefined && template === null) {
    return <Text data-testid="template-missing">This template does not exist (any more) in your tenant.</Text>;
  }
  return <TemplateFormFields template={template} systems={choices.data.storageSystems} />;
}

function TemplateFormFields({
  template,
  systems,
}: {
  template: TemplateFieldsFragment | null;
  systems: { id: string; name: string; healthy: boolean }[];
}) {
  const session = useSession();
  const router = useRouter();
  const { pending, error, run } = useSubmission();
  const [draft, setDraft] = useState<TemplateDraft>(() => draftOf(template));
  const [problems, setProblems] = useState<Problems>({});
  const set = <K extends keyof TemplateDraft>(key: K, value: TemplateDraft[K]) =>
    setDraft((current) => ({ ...current, [key]: value }));

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const found = problemsOf(draft);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    const input = {
      name: draft.name.trim(),
      primaryStorageSystemId: draft.primaryStorageSystemId,
      candidateStorageSystemIds: draft.candidateStorageSystemIds.filter((id) => id !== draft.primaryStorageSystemId),
      copies: Number(draft.copies),
      minCopies: Number(draft.minCopies),
      delaySeconds: Number(draft.delay) * Number(draft.delayUnit),
      ordering: draft.ordering,
      dataClass: draft.dataClass.trim() || null,
    };
    run(
      () =>
        template === null
          ? session.request(CREATE_POLICY_TEMPLATE_MUTATION, { input }).then((result) => result.createPolicyTemplate)
          : session
              .request(UPDATE_POLICY_TEMPLATE_MUTATION, { id: template.id, input })
              .then((result) => result.updatePolicyTemplate),
      (saved) => router.push(`/policies/${saved.id}?saved=${saved.version}`),
    );
  };

  const problemCount = Object.keys(problems).length;
  const secondaries = systems.filter((system) => system.id !== draft.primaryStorageSystemId);
  return (
    <Stack maw={720}>
      <Anchor component={Link} href={template ? `/policies/${template.id}` : '/policies'}>
        ← Back
      </Anchor>
      <Title order={1}>{template ? `Edit ${template.name}` : 'New policy template'}</Title>
      {template ? (
        <Text c="dimmed">Saving publishes version {template.version + 1}; jobs already made keep their version.</Text>
      ) : null}
      {systems.length === 0 ? (
        <Alert color="orange">Register a storage system first: a template needs somewhere to write.</Alert>
      ) : null}
      <Paper withBorder p="md" component="form" onSubmit={onSubmit} noValidate data-testid="template-form">
        <Stack>
          {problemCount > 0 ? (
            <Alert color="red" role="alert" data-testid="template-problems" title="Please correct the form">
              {problemCount === 1 ? 'One field needs' : `${problemCount} fields need`} your attention; see the messages
              below each field.
            </Alert>
          ) : null}
          <TextInput
            label="Name"
            value={draft.name}
            onChange={(event) => set('name', event.currentTarget.value)}
            error={problems.name}
            required
          />
          <NativeSelect
            label="Primary storage system"
            description="The first copy is written here, at once."
            value={draft.primaryStorageSystemId}
            onChange={(event) => set('primaryStorageSystemId', event.currentTarget.value)}
            error={problems.primaryStorageSystemId}
            data={[
              { value: '', label: 'Choose a storage system' },
              ...systems.map((system) => ({
                value: system.id,
                label: `${system.name}${system.healthy ? '' : ' (unavailable)'}`,
              })),
            ]}
            required
          />
          <Checkbox.Group
            label="Secondary candidates"
            description="Each later copy goes to one of these; skipped when it lacks room."
            value={draft.candidateStorageSystemIds}
            onChange={(value) => set('candidateStorageSystemIds', value)}
          >
            <Stack gap={6} mt="xs">
              {secondaries.length === 0 ? (
                <Text size="sm">No other storage system to choose.</Text>
              ) : (
                secondaries.map((system) => <Checkbox key={system.id} value={system.id} label={system.name} />)
              )}
            </Stack>
          </Checkbox.Group>
          <Group grow align="flex-start" wrap="wrap">
            <TextInput
              label="Copies"
              description="In total, the primary included."
              inputMode="numeric"
              value={draft.copies}
              onChange={(event) => set('copies', event.currentTarget.value)}
              error={problems.copies}
              miw={200}
            />
            <TextInput
              label="Minimum verified copies"
              description="A job with fewer fails."
              inputMode="numeric"
              value={draft.minCopies}
              onChange={(event) => set('minCopies', event.currentTarget.value)}
              error={problems.minCopies}
              miw={200}
            />
          </Group>
          <Group grow align="flex-start" wrap="wrap">
            <TextInput
              label="Delay between copies"
              description="Each secondary starts this long after the previous copy finished."
              inputMode="decimal"
              value={draft.delay}
              onChange={(event) => set('delay', event.currentTarget.value)}
              error={problems.delay}
              miw={200}
            />
            <NativeSelect
              label="Delay unit"
              value={draft.delayUnit}
              onChange={(event) => set('delayUnit', event.currentTarget.value)}
              data={DELAY_UNITS}
              miw={140}
            />
          </Group>
          <Radio.Group
            label="Order of the secondaries"
            value={draft.ordering}
            onChange={(value) => set('ordering', value as SecondaryOrdering)}
          >
            <Group mt="xs">
              <Radio value="CAPACITY" label="Most free capacity first" />
              <Radio value="FIXED" label="In the order listed" />
            </Group>
          </Radio.Group>
          <TextInput
            label="Data class (optional)"
            description="For example “finance”; leave empty for every class."
            value={draft.dataClass}
            onChange={(event) => set('dataClass', event.currentTarget.value)}
          />
          {error ? <ErrorNotice error={error} title="Not saved" testId="template-error" /> : null}
          <Group>
            <Button type="submit" loading={pending}>
              {template ? `Publish version ${template.version + 1}` : 'Create template'}
            </Button>
          </Group>
        </Stack>
      </Paper>
    </Stack>
  );
}

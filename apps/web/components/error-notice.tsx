import { Alert, Text } from '@mantine/core';
import { type GraphQLRequestError, plainMessage } from '@/lib/graphql-client';

/** An error in plain words, with the API's code and message kept in a detail line. */
export function ErrorNotice({ error, title, testId }: { error: GraphQLRequestError; title: string; testId?: string }) {
  return (
    <Alert color="red" title={title} role="alert" data-testid={testId} data-code={error.code}>
      <Text size="sm">{plainMessage(error)}</Text>
      <details>
        <summary>Details</summary>
        <Text size="xs" component="p">
          {error.code}: {error.message}
        </Text>
      </details>
    </Alert>
  );
}

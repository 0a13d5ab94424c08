import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

export { GraphQLJSON as JSONScalar } from 'graphql-scalars';

const toDate = (value: unknown): Date => {
  if (value instanceof Date) return value;
  if (typeof value === 'string' || typeof value === 'number') {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new GraphQLError(`"${String(value)}" is not an ISO 8601 date-time`, { extensions: { code: 'BAD_USER_INPUT' } });
};

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'ISO 8601 string, UTC',
  serialize: (value) => toDate(value).toISOString(),
  parseValue: (value) => toDate(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING)
      throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return toDate(ast.value);
  },
});

const toBytes = (value: unknown): number => {
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw new GraphQLError(`${String(value)} is not a byte count (a whole number from 0 to 2^53-1)`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return number;
};

export const BytesScalar = new GraphQLScalarType<number, number>({
  name: 'Bytes',
  description: 'a byte count, serialised as a JSON number (integer, at most 2^53-1)',
  serialize: toBytes,
  parseValue: toBytes,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT)
      throw new GraphQLError('Bytes must be an integer', { extensions: { code: 'BAD_USER_INPUT' } });
    return toBytes(Number(ast.value));
  },
});

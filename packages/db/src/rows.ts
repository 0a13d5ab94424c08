/**
 * Rows read as JSON (`to_jsonb(row)`) by statements that do in one round trip what Prisma would do in several:
 * the snake_case columns become the Prisma model's fields, its BigInt and DateTime fields typed. A test compares
 * each such read with Prisma's own (apps/api/test/request-backup.int.test.ts).
 */
export function modelOf<T>(row: unknown, types: { bigint?: readonly string[]; date?: readonly string[] }): T {
  const source = (typeof row === 'string' ? JSON.parse(row) : row) as Record<string, unknown>;
  const model: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(source)) {
    const field = column.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
    if (value !== null && types.bigint?.includes(field)) model[field] = BigInt(value as number | string);
    else if (value !== null && types.date?.includes(field)) model[field] = new Date(value as string);
    else model[field] = value;
  }
  return model as T;
}

/**
 * Runs `work` over `items` in order, at most `limit` at once, while `isOpen()` says more may start. After a
 * failure no new item starts; those in flight finish, then the first failure is thrown. Returns how many items
 * were started (all of them done): the first that many.
 */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  isOpen: () => boolean = () => true,
): Promise<number> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (failure === undefined && next < items.length && isOpen()) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== undefined) throw failure.error;
  return next;
}

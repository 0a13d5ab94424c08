import { describe, expect, it } from 'vitest';
import { Channel } from './channel.js';

describe('Channel', () => {
  it('delivers pushed values in order, to waiting and to later readers', async () => {
    const channel = new Channel<number>();
    const first = channel.next();
    channel.push(1);
    channel.push(2);
    channel.push(3);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await channel.next()).toEqual({ value: 2, done: false });
    expect(await channel.next()).toEqual({ value: 3, done: false });
  });

  it('ends waiting readers on close, runs the close hook once and ignores later pushes', async () => {
    let closed = 0;
    const channel = new Channel<number>(() => {
      closed++;
    });
    const waiting = channel.next();
    await channel.return();
    channel.close();
    channel.push(4);
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(await channel.next()).toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { RecentKeys } from '../../../src/shared/recent-keys.js';

describe('RecentKeys', () => {
  it('holds the last `limit` keys with their values and forgets the oldest first', () => {
    const recent = new RecentKeys<number>(3);
    for (const [i, key] of ['a', 'b', 'c', 'd', 'e'].entries()) recent.remember(key, i);
    expect(['a', 'b', 'c', 'd', 'e'].map((key) => recent.get(key))).toEqual([
      undefined,
      undefined,
      2,
      3,
      4,
    ]);
    expect(recent.has('b')).toBe(false);
    expect(recent.has('c')).toBe(true);
  });

  it('keeps evicting in order once the ring has wrapped more than once', () => {
    const recent = new RecentKeys<true>(2);
    for (let i = 0; i < 7; i++) recent.remember(`k${i}`, true);
    expect([...Array(7).keys()].filter((i) => recent.has(`k${i}`))).toEqual([5, 6]);
  });

  it('remembers nothing with a limit of 0', () => {
    const recent = new RecentKeys<true>(0);
    recent.remember('a', true);
    expect(recent.has('a')).toBe(false);
  });
});

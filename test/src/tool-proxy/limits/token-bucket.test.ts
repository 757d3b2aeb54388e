/**
 * The token bucket, the per-provider budgets built on it, and how limit options are resolved.
 * Every clock here is a number the test moves by hand.
 */
import { describe, expect, it } from 'vitest';
import { LIMIT_DEFAULTS, resolveLimits } from '../../../../src/tool-proxy/limits/limit-options.js';
import {
  ProviderLimits,
  REPORT_INTERVAL_MS,
} from '../../../../src/tool-proxy/limits/provider-limits.js';
import { TokenBucket } from '../../../../src/tool-proxy/limits/token-bucket.js';

const FRAME_CONTEXT = { maxFrameChars: 1_000, maxToolsPerProvider: 64 };

function takeAll(bucket: TokenBucket, now: number): number {
  let taken = 0;
  while (bucket.take(now)) taken++;
  return taken;
}

describe('TokenBucket', () => {
  it('starts full, then admits exactly its burst', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 5 }, 0);
    expect(takeAll(bucket, 0)).toBe(5);
    expect(bucket.take(0)).toBe(false);
  });

  it('refills at its rate, and says how long until the next token', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 5 }, 0);
    takeAll(bucket, 0);
    expect(bucket.msUntilNext(0)).toBe(100);
    expect(bucket.take(99)).toBe(false);
    expect(bucket.msUntilNext(99)).toBe(1);
    expect(bucket.take(100)).toBe(true);
    expect(takeAll(bucket, 350)).toBe(2);
    expect(bucket.msUntilNext(350)).toBe(50);
  });

  it('a charge past what is left puts it into debt, refused until refilled past it', () => {
    const bucket = new TokenBucket({ perSecond: 100, burst: 50 }, 0);
    bucket.charge(0, 250); // 50 there: 200 in debt
    expect(bucket.has(0, 1)).toBe(false);
    expect(bucket.msUntilNext(0, 10)).toBe(2_100);
    expect(bucket.has(2_099, 10)).toBe(false);
    expect(bucket.take(2_100, 10)).toBe(true);
    expect(bucket.isFull(2_100)).toBe(false);
    expect(bucket.isFull(2_600)).toBe(true);
  });

  it('never holds more than its burst, however long it was idle', () => {
    const bucket = new TokenBucket({ perSecond: 1_000, burst: 3 }, 0);
    expect(takeAll(bucket, 3_600_000)).toBe(3);
    expect(bucket.isFull(3_600_000)).toBe(false);
    expect(bucket.isFull(3_600_003)).toBe(true);
  });

  it('a refund gives one token back, never above the burst', () => {
    const bucket = new TokenBucket({ perSecond: 1, burst: 2 }, 0);
    expect(bucket.take(0)).toBe(true);
    bucket.refund();
    bucket.refund();
    expect(takeAll(bucket, 0)).toBe(2);
  });

  it('a clock stepping back adds nothing, and refilling resumes from there', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 1 }, 10_000);
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(5_000)).toBe(false); // back by 5 s: nothing gained
    expect(bucket.take(5_100)).toBe(true); // and not frozen until 10 s comes round again
  });

  it('handles rates below one per second', () => {
    const bucket = new TokenBucket({ perSecond: 0.5, burst: 1 }, 0);
    expect(bucket.take(0)).toBe(true);
    expect(bucket.msUntilNext(0)).toBe(2_000);
    expect(bucket.take(1_999)).toBe(false);
    expect(bucket.take(2_000)).toBe(true);
  });
});

describe('ProviderLimits', () => {
  function limits(now: () => number) {
    return new ProviderLimits(
      resolveLimits(
        { framesPerSecond: 10, frameBurst: 2, registrationsPerSecond: 1 },
        FRAME_CONTEXT,
      ),
      now,
    );
  }

  it('keeps one budget per provider; a spent one outlives its provider until it refills', () => {
    let now = 0;
    const budgets = limits(() => now);
    expect([budgets.take('frames', 'a'), budgets.take('frames', 'a')]).toEqual([true, true]);
    expect(budgets.take('frames', 'a')).toBe(false);
    expect(budgets.take('frames', 'b')).toBe(true);
    expect(budgets.size).toBe(2);
    budgets.forget('a');
    expect(budgets.size).toBe(2); // 'a' left with its budget spent
    expect(budgets.take('frames', 'a')).toBe(false); // and comes back to it
    budgets.forget('a');
    now += 60_000;
    expect(budgets.size).toBe(1); // refilled: forgotten
    budgets.clear();
    expect(budgets.size).toBe(0);
  });

  it('reports refusals once per interval, with the count since the last report', () => {
    let now = 0;
    const budgets = limits(() => now);
    budgets.take('frames', 'a');
    budgets.take('frames', 'a');
    const reports: Array<number | undefined> = [];
    for (; now < 2 * REPORT_INTERVAL_MS; now += 10) {
      if (!budgets.take('frames', 'a')) reports.push(budgets.refused('frames', 'a').report);
    }
    // Reported at 0 ms (the first refusal) and at the first refusal 1 s later, with the ~90 since.
    const due = reports.filter((report) => report !== undefined);
    expect(due).toEqual([1, expect.any(Number)]);
    expect(due[1]).toBeGreaterThan(80);
    expect(due[1]).toBeLessThanOrEqual(100);
  });

  it('keeps no state when every limit is off', () => {
    const budgets = new ProviderLimits(
      resolveLimits(
        { framesPerSecond: false, charsPerSecond: false, registrationsPerSecond: Infinity },
        FRAME_CONTEXT,
      ),
      () => 0,
    );
    for (let i = 0; i < 1_000; i++) expect(budgets.takeFrame(`p${i}`, 100)).toBeUndefined();
    expect(budgets.take('registrations', 'p0')).toBe(true);
    expect(budgets.size).toBe(0);
  });

  it('forgets providers whose budgets refilled, so state stays bounded without departures', () => {
    let now = 0;
    const budgets = limits(() => now);
    for (let i = 0; i < 10_000; i++) {
      budgets.take('frames', `p${i}`);
      now += 1;
    }
    // A budget refills in 100 ms here, so only the last ~100 providers can still hold state.
    expect(budgets.size).toBeLessThanOrEqual(2 * 128);
  });
});

describe('resolveLimits', () => {
  it('fills in the documented defaults', () => {
    expect(resolveLimits({}, { maxFrameChars: 1_048_576, maxToolsPerProvider: 64 })).toEqual({
      frames: { perSecond: LIMIT_DEFAULTS.framesPerSecond, burst: 400 },
      chars: { perSecond: 4 * 1_048_576, burst: 8 * 1_048_576 },
      registrations: { perSecond: LIMIT_DEFAULTS.registrationsPerSecond, burst: 128 },
      maxResultChars: 1_048_576,
      maxFrameDepth: 64,
      charsPerStructural: 32,
    });
  });

  it('scales the default registration burst with the tool cap', () => {
    const resolved = resolveLimits({}, { maxFrameChars: 1_000, maxToolsPerProvider: 200 });
    expect(resolved.registrations?.burst).toBe(400);
  });

  it('false or Infinity turns a limit off', () => {
    const off = resolveLimits(
      {
        framesPerSecond: false,
        charsPerSecond: Infinity,
        registrationsPerSecond: Infinity,
        maxResultChars: false,
      },
      FRAME_CONTEXT,
    );
    expect(off).toEqual({
      frames: undefined,
      chars: undefined,
      registrations: undefined,
      maxResultChars: 1_000,
      maxFrameDepth: 64,
      charsPerStructural: 32,
    });
  });

  it('a result cap above the frame cap is held to the frame cap', () => {
    expect(resolveLimits({ maxResultChars: 5_000 }, FRAME_CONTEXT).maxResultChars).toBe(1_000);
    expect(resolveLimits({ maxResultChars: 500.7 }, FRAME_CONTEXT).maxResultChars).toBe(500);
  });

  it.each<[string, object]>([
    ['a zero frame rate', { framesPerSecond: 0 }],
    ['a negative registration rate', { registrationsPerSecond: -1 }],
    ['a NaN frame rate', { framesPerSecond: Number.NaN }],
    ['a string rate', { framesPerSecond: '100' }],
    ['true as a rate', { registrationsPerSecond: true }],
    ['a burst below one', { frameBurst: 0.5 }],
    ['an infinite burst', { registrationBurst: Infinity }],
    ['a zero result cap', { maxResultChars: 0 }],
    ['a negative result cap', { maxResultChars: -10 }],
    ['a zero character rate', { charsPerSecond: 0 }],
    ['a character burst below the frame cap', { charBurst: 999 }],
    ['a frame depth below 8', { maxFrameDepth: 7 }],
    ['a fractional frame depth', { maxFrameDepth: 64.5 }],
  ])('%s is refused with a RangeError', (_what, options) => {
    expect(() => resolveLimits(options, FRAME_CONTEXT)).toThrow(RangeError);
  });
});

/**
 * Checks for numeric options given in code (a bad one is a programming error: a RangeError that
 * names the option, its owner, the accepted range and what was given).
 */

/** Node's timers hold at most 2^31 - 1 ms; a larger delay would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A count or a whole-ms duration: `fallback` when absent, else a whole number in 1..`max`. */
export function positiveInteger(
  value: number | undefined,
  fallback: number,
  what: string,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0 || value > max)
    throw new RangeError(`${what} must be a positive integer${upTo(max)}, not ${value}`);
  return value;
}

function upTo(max: number): string {
  return max === Number.MAX_SAFE_INTEGER ? '' : ` up to ${max}`;
}

/** A duration a timer will wait: `fallback` when absent, else rounded up to whole ms. */
export function positiveMs(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS)
    throw new RangeError(
      `${what} must be a positive number of ms up to ${MAX_TIMER_MS}, not ${value}`,
    );
  return Math.ceil(value);
}

/** The deadlines a proxy gives its calls, from its options, checked once at construction. */

export interface CallLimits {
  defaultMs: number;
  maxToolMs: number;
  maxTotalMs: number;
  resetOnProgress: boolean;
}

export interface CallLimitOptions {
  /** Deadline of a call when neither the caller nor the tool says otherwise. Default 30,000 ms. */
  defaultTimeoutMs?: number;
  /** Upper bound on a provider-declared per-tool deadline. Default 120,000 ms. */
  maxToolTimeoutMs?: number;
  /** Hard cap on one call, however much progress pushes its deadline. Default 600,000 ms. */
  maxTotalTimeoutMs?: number;
  /** Progress from the provider restarts the idle deadline (up to the hard cap). Default true. */
  resetTimeoutOnProgress?: boolean;
}

export function resolveCallLimits(options: CallLimitOptions): CallLimits {
  return {
    defaultMs: positive(options.defaultTimeoutMs, 30_000, 'defaultTimeoutMs'),
    maxToolMs: positive(options.maxToolTimeoutMs, 120_000, 'maxToolTimeoutMs'),
    maxTotalMs: positive(options.maxTotalTimeoutMs, 600_000, 'maxTotalTimeoutMs'),
    resetOnProgress: options.resetTimeoutOnProgress ?? true,
  };
}

/** Node's timers hold at most 2^31 - 1 ms; a larger value would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new RangeError(`${what} must be a positive number of ms, at most ${MAX_TIMER_MS}`);
  }
  return Math.ceil(value);
}

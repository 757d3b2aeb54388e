/** The deadlines a proxy gives its calls, from its options, checked once at construction. */
import { positiveMs } from '../../shared/option-checks.js';

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
    defaultMs: positiveMs(options.defaultTimeoutMs, 30_000, 'defaultTimeoutMs'),
    maxToolMs: positiveMs(options.maxToolTimeoutMs, 120_000, 'maxToolTimeoutMs'),
    maxTotalMs: positiveMs(options.maxTotalTimeoutMs, 600_000, 'maxTotalTimeoutMs'),
    resetOnProgress: options.resetTimeoutOnProgress ?? true,
  };
}

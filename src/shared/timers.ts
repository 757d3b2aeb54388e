/**
 * The clock seam. Defaults read the globals at call time, so `vi.useFakeTimers()` installed after
 * construction still drives every deadline. (AbortSignal.timeout is deliberately not used: fake
 * timers do not drive it.)
 */

export type TimerHandle = unknown;

export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  now(): number;
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** Small helpers shared by the tests. */
import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Lets the in-memory room deliver everything queued (and whatever that triggers): one macrotask
 * turn, or advancing fake timers by 0 ms when they are installed.
 */
export async function flush(): Promise<void> {
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(0);
  else await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A promise settled from outside. */
export function deferred<T = unknown>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A logger whose methods are spies. */
export function spyLogger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

/**
 * Fake timers and a spied logger for every test of the file: timers faked and the spies cleared
 * before each test; after it, the proxy `current()` returns (if any) closed and real timers back.
 */
export function useFakeClock(
  logger: ReturnType<typeof spyLogger>,
  current: () => { close(): Promise<void> } | undefined,
): void {
  beforeEach(() => {
    vi.useFakeTimers();
    for (const fn of Object.values(logger)) fn.mockClear();
  });
  afterEach(async () => {
    await current()?.close();
    vi.useRealTimers();
  });
}

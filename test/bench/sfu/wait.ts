/**
 * Waiting in the SFU bench: a bound on every wait (a scenario that cannot finish is a bug, not a
 * slow result), and a plain delay.
 */

/** Rejects after `ms` unless `promise` settled first; the timer goes either way. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

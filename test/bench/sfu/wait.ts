/**
 * Waiting in the SFU bench: reports handed over in arrival order, a bound on every wait (a scenario
 * that cannot finish is a bug, not a slow result), and a plain delay.
 */

/** Values of one kind, in arrival order, each taken once. */
export class Mailbox<T> {
  readonly #queue: T[] = [];
  readonly #waiting: Array<{ resolve: (value: T) => void; reject: (error: Error) => void }> = [];
  #failure: Error | undefined;

  put(value: T): void {
    const waiter = this.#waiting.shift();
    if (waiter === undefined) this.#queue.push(value);
    else waiter.resolve(value);
  }

  take(): Promise<T> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift() as T);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Every waiter, and every later `take` once the queue is empty, rejects with `error`. */
  fail(error: Error): void {
    this.#failure = error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }
}

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

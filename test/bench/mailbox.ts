/** Reports from a bench's other processes, handed over in arrival order. */

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

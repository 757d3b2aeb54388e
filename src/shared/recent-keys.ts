/**
 * The last `limit` keys remembered, each with a value; remembering one more forgets the oldest.
 * For ids that recently ended, so a frame naming one is known as late or duplicate. The order is a
 * ring: evicting the oldest is one array read, where `map.keys().next()` would allocate an iterator
 * and step over every hole deletions leave. Each key must be remembered at most once while held.
 */
export class RecentKeys<V> {
  readonly #values = new Map<string, V>();
  readonly #order: string[] = [];
  #next = 0;
  readonly #limit: number;

  /** `limit` 0 remembers nothing. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  remember(key: string, value: V): void {
    if (this.#limit <= 0) return;
    this.#values.set(key, value);
    if (this.#order.length < this.#limit) {
      this.#order.push(key);
      return;
    }
    const oldest = this.#order[this.#next] as string;
    this.#order[this.#next] = key;
    this.#next = (this.#next + 1) % this.#limit;
    this.#values.delete(oldest);
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  get(key: string): V | undefined {
    return this.#values.get(key);
  }
}

/**
 * At most one log line per key per window, so a peer cannot turn each frame it sends into a line
 * in the operator's log (log amplification). The line that opens a window reports how many were
 * suppressed in the one before. Bounded: at most `maxKeys` keys are remembered.
 */

export interface LogThrottleOptions {
  /** Default 10,000 ms. */
  windowMs?: number;
  /** Default 1,024; past it, keys whose window ended are dropped, then the oldest. */
  maxKeys?: number;
}

interface Window {
  startedAt: number;
  suppressed: number;
}

export class LogThrottle {
  readonly windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  constructor(now: () => number, options: LogThrottleOptions = {}) {
    this.#now = now;
    this.windowMs = options.windowMs ?? 10_000;
    this.#maxKeys = options.maxKeys ?? 1_024;
  }

  /**
   * Whether to log for `key` now: undefined to stay quiet (counted), else how many lines for it
   * were suppressed since the last one logged.
   */
  admit(key: string): { suppressed: number } | undefined {
    const now = this.#now();
    const open = this.#windows.get(key);
    if (open !== undefined && now - open.startedAt < this.windowMs) {
      open.suppressed++;
      return undefined;
    }
    const suppressed = open?.suppressed ?? 0;
    this.#windows.delete(key); // re-inserted last: the map stays in window order
    this.#windows.set(key, { startedAt: now, suppressed: 0 });
    if (this.#windows.size > this.#maxKeys) this.#prune(now);
    return { suppressed };
  }

  get size(): number {
    return this.#windows.size;
  }

  #prune(now: number): void {
    for (const [key, window] of this.#windows) {
      if (this.#windows.size <= this.#maxKeys) return;
      // In window order: the first one still open means every later one is open too.
      if (now - window.startedAt < this.windowMs) break;
      this.#windows.delete(key);
    }
    while (this.#windows.size > this.#maxKeys) {
      const oldest = this.#windows.keys().next().value;
      if (oldest === undefined) return;
      this.#windows.delete(oldest);
    }
  }
}

/**
 * A token bucket refilled lazily from the clock it is handed: no timer, so a bucket nobody touches
 * costs nothing, and fake timers (which drive `Timers.now()`) drive it in tests.
 */

export interface RateLimit {
  /** Tokens added per second. */
  readonly perSecond: number;
  /** Most tokens the bucket holds: how many may go at once after a quiet spell. */
  readonly burst: number;
}

/**
 * Refills add fractions of a token (0.1 + 0.2 + ... is not exactly what it should be), so "one
 * whole token" is compared with this much slack: a frame is not refused for a rounding error.
 */
const SLACK = 1e-9;

export class TokenBucket {
  readonly #limit: RateLimit;
  #tokens: number;
  #at: number;

  /** Starts full: a provider that just arrived may use its whole burst. */
  constructor(limit: RateLimit, now: number) {
    this.#limit = limit;
    this.#tokens = limit.burst;
    this.#at = now;
  }

  /** Whether `cost` tokens are there now. */
  has(now: number, cost = 1): boolean {
    this.#refill(now);
    return this.#tokens >= cost - SLACK;
  }

  /** Takes `cost` tokens if they are there. */
  take(now: number, cost = 1): boolean {
    if (!this.has(now, cost)) return false;
    this.#tokens = Math.max(0, this.#tokens - cost);
    return true;
  }

  /**
   * Takes `cost` tokens whatever is there, into debt if need be: for a cost known only after
   * admission (what a frame's structure costs to parse), so a frame costing more than the burst is
   * not free. A bucket in debt refuses until it has refilled past it.
   */
  charge(now: number, cost: number): void {
    this.#refill(now);
    this.#tokens -= cost;
  }

  /** Gives `cost` tokens back (never above the burst). */
  refund(cost = 1): void {
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + cost);
  }

  /** Whole ms until `take(cost)` can succeed; 0 if it can now. */
  msUntilNext(now: number, cost = 1): number {
    this.#refill(now);
    if (this.#tokens >= cost - SLACK) return 0;
    return Math.max(1, Math.ceil(((cost - this.#tokens) * 1_000) / this.#limit.perSecond - SLACK));
  }

  /** A full bucket is the same as a fresh one, so its owner's state can be forgotten. */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#limit.burst - SLACK;
  }

  #refill(now: number): void {
    const elapsed = now - this.#at;
    this.#at = now;
    // A clock that steps back (a wall-clock change) adds nothing, and refilling resumes from there.
    if (elapsed <= 0) return;
    const tokens = this.#tokens + (elapsed * this.#limit.perSecond) / 1_000;
    this.#tokens = Math.min(this.#limit.burst, tokens);
  }
}

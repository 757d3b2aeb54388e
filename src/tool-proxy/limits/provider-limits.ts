/**
 * Per-provider budgets: a frame bucket and a registration bucket per identity, made on first use.
 * A provider that leaves with a budget spent keeps it until it has refilled, so leaving and
 * joining again (a new connection with the same token) does not buy a fresh burst. Also decides
 * when a refusal is worth reporting, so a flood costs one log line and one notice per interval,
 * not one per frame.
 */
import type { ResolvedLimits } from './limit-options.js';
import { type RateLimit, TokenBucket } from './token-bucket.js';

/** How often a throttled provider is told, and the log says, that it is over budget. */
export const REPORT_INTERVAL_MS = 1_000;

/** A state count below which no sweep runs: sweeping a handful of entries is not worth it. */
const MIN_SWEEP_AT = 64;

export interface Refusal {
  /** Whole ms until the next one would be admitted. */
  readonly retryAfterMs: number;
  /** Set when this refusal is due to be reported: how many were refused since the last report. */
  readonly report: number | undefined;
}

/** The budgets: frames and their characters (charged together), and registrations. */
export type BudgetKind = 'frames' | 'chars' | 'registrations';
type Kind = BudgetKind;

class Budget {
  readonly bucket: TokenBucket;
  #refusedSinceReport = 0;
  #reportedAt = Number.NEGATIVE_INFINITY;

  constructor(limit: RateLimit, now: number) {
    this.bucket = new TokenBucket(limit, now);
  }

  /** Counts a refusal of `cost`; reports it (with those since the last report) once per interval. */
  refused(now: number, cost = 1): Refusal {
    this.#refusedSinceReport++;
    const retryAfterMs = this.bucket.msUntilNext(now, cost);
    // A clock that stepped back makes a report due rather than silencing them until it catches up.
    const since = now - this.#reportedAt;
    if (since >= 0 && since < REPORT_INTERVAL_MS) return { retryAfterMs, report: undefined };
    const report = this.#refusedSinceReport;
    this.#refusedSinceReport = 0;
    this.#reportedAt = now;
    return { retryAfterMs, report };
  }
}

type ProviderState = Record<Kind, Budget | undefined>;

function refilled(state: ProviderState, now: number): boolean {
  return (
    (state.frames?.bucket.isFull(now) ?? true) &&
    (state.chars?.bucket.isFull(now) ?? true) &&
    (state.registrations?.bucket.isFull(now) ?? true)
  );
}

export class ProviderLimits {
  readonly limits: ResolvedLimits;
  readonly #now: () => number;
  readonly #states = new Map<string, ProviderState>();
  /** Providers gone with a budget still spent, oldest departure first, until it has refilled. */
  readonly #departed = new Map<string, ProviderState>();
  #sweepAt = MIN_SWEEP_AT;

  constructor(limits: ResolvedLimits, now: () => number) {
    this.limits = limits;
    this.#now = now;
  }

  /** Providers with state kept now, present or departed with a budget still spent. */
  get size(): number {
    if (this.#departed.size > 0) this.#pruneDeparted(this.#now());
    return this.#states.size + this.#departed.size;
  }

  /** Takes a token of `kind` from the provider's budget; true if there was one (or no limit). */
  take(kind: Kind, provider: string): boolean {
    if (this.limits[kind] === undefined) return true;
    const now = this.#now();
    if (this.#departed.size > 0) this.#pruneDeparted(now);
    return this.#state(provider)[kind]?.bucket.take(now) ?? true;
  }

  /**
   * Charges one frame of `chars` characters to the provider's frame and character budgets, both or
   * neither; returns the budget that refused it, or undefined when it was admitted. `parseCost`,
   * called only once the frame is admitted (it scans the text), adds what the frame's structure
   * costs beyond its characters; that may put the character budget into debt.
   */
  takeFrame(
    provider: string,
    chars: number,
    parseCost?: () => number,
  ): 'frames' | 'chars' | undefined {
    const { frames, chars: text } = this.limits;
    if (frames === undefined && text === undefined) return undefined;
    const now = this.#now();
    if (this.#departed.size > 0) this.#pruneDeparted(now);
    const state = this.#state(provider);
    if (state.frames?.bucket.has(now) === false) return 'frames';
    if (state.chars?.bucket.has(now, chars) === false) return 'chars';
    state.frames?.bucket.take(now);
    if (state.chars !== undefined) state.chars.bucket.charge(now, chars + (parseCost?.() ?? 0));
    return undefined;
  }

  /**
   * A frame that turned out to settle one of the provider's calls is not charged to it: `chars` is
   * all it was charged, its structure's cost included.
   */
  refundFrame(provider: string, chars: number): void {
    const state = this.#states.get(provider);
    state?.frames?.bucket.refund();
    state?.chars?.bucket.refund(chars);
  }

  /** Records that something of `kind` (costing `cost`) was refused after a take said no. */
  refused(kind: Kind, provider: string, cost = 1): Refusal {
    const budget = this.#state(provider)[kind];
    return budget?.refused(this.#now(), cost) ?? { retryAfterMs: 0, report: undefined };
  }

  /** The provider left: its state goes, unless its budget is still spent (then once refilled). */
  forget(provider: string): void {
    const state = this.#states.get(provider);
    if (state === undefined) return;
    this.#states.delete(provider);
    const now = this.#now();
    if (!refilled(state, now)) this.#departed.set(provider, state);
    this.#pruneDeparted(now);
  }

  clear(): void {
    this.#states.clear();
    this.#departed.clear();
    this.#sweepAt = MIN_SWEEP_AT;
  }

  #state(provider: string): ProviderState {
    const known = this.#states.get(provider);
    if (known !== undefined) return known;
    const back = this.#departed.get(provider);
    if (back !== undefined) {
      this.#departed.delete(provider);
      this.#states.set(provider, back);
      return back;
    }
    const now = this.#now();
    if (this.#states.size >= this.#sweepAt) this.#sweep(now);
    const { frames, chars, registrations } = this.limits;
    const state: ProviderState = {
      frames: frames === undefined ? undefined : new Budget(frames, now),
      chars: chars === undefined ? undefined : new Budget(chars, now),
      registrations: registrations === undefined ? undefined : new Budget(registrations, now),
    };
    this.#states.set(provider, state);
    return state;
  }

  /**
   * Drops the entries whose buckets have refilled: a full bucket is what a new entry would hold,
   * so nothing is lost, and state stays bounded even if a transport never reports a departure.
   * Runs when the map doubles, so its cost per new provider stays constant.
   */
  #sweep(now: number): void {
    for (const [provider, state] of this.#states) {
      if (refilled(state, now)) this.#states.delete(provider);
    }
    this.#sweepAt = Math.max(MIN_SWEEP_AT, 2 * this.#states.size);
  }

  /**
   * Drops departed providers whose budgets have refilled, oldest first, stopping at the first one
   * still spent: budgets refill at the same rates, so earlier departures refill first (near
   * enough), and the check costs one entry per call when nothing is due.
   */
  #pruneDeparted(now: number): void {
    for (const [provider, state] of this.#departed) {
      if (!refilled(state, now)) return;
      this.#departed.delete(provider);
    }
  }
}

/**
 * Whether providers with calls in flight are still there, on transports that learn of a crash late
 * (LiveKit: when ICE gives up, about 20 s after the process died). One timer for the whole proxy,
 * running only while calls are pending: each tick pings every provider with calls; one that has
 * answered a ping before and has sent nothing for `timeoutMs` is given up (its calls fail with
 * PROVIDER_GONE at once). A provider that never answers (a hermes-livekit v0.3 client) is left to
 * the transport. One given up that speaks again is greeted, so it registers again.
 */
import type { Timers } from '../../shared/timers.js';

export interface LivenessOptions {
  /** Between pings to a provider with calls in flight. Default 1,000 ms. */
  intervalMs?: number;
  /** Silence after which a provider that answers pings is given up. Default 4,000 ms. */
  timeoutMs?: number;
}

export const DEFAULT_LIVENESS = { intervalMs: 1_000, timeoutMs: 4_000 } as const;

export interface LivenessDeps {
  readonly timers: Timers;
  /** Providers with calls in flight now. */
  busy(): Iterable<string>;
  ping(provider: string, timeoutMs: number): void;
  /** `provider` answers pings but has been silent for `silentMs`: fail its calls, drop its tools. */
  unresponsive(provider: string, silentMs: number): void;
  /** A provider given up on spoke again. */
  revived(provider: string): void;
}

export class ProviderLiveness {
  readonly #deps: LivenessDeps;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  /** Providers that have answered a ping: only they can be given up. */
  readonly #answering = new Set<string>();
  /** When each answering provider last sent anything. */
  readonly #heardAt = new Map<string, number>();
  /** When each provider was first seen busy by a tick (silence before its calls does not count). */
  readonly #busySince = new Map<string, number>();
  readonly #givenUp = new Set<string>();
  #enabled = false;
  #timer: unknown;

  constructor(deps: LivenessDeps, options: LivenessOptions = {}) {
    const intervalMs = options.intervalMs ?? DEFAULT_LIVENESS.intervalMs;
    const timeoutMs = options.timeoutMs ?? DEFAULT_LIVENESS.timeoutMs;
    if (!(intervalMs > 0) || !(timeoutMs > intervalMs))
      throw new RangeError('liveness: intervalMs must be > 0 and timeoutMs greater than it');
    this.#deps = deps;
    this.#intervalMs = intervalMs;
    this.#timeoutMs = timeoutMs;
  }

  /** The transport cannot tell soon that a peer died: probe from now on. */
  enable(): void {
    this.#enabled = true;
  }

  /** Something came from `provider`; `pong` when it was the answer to a ping. */
  heard(provider: string, pong: boolean): void {
    if (!this.#enabled) return;
    if (pong) this.#answering.add(provider);
    if (this.#answering.has(provider)) this.#heardAt.set(provider, this.#deps.timers.now());
    if (this.#givenUp.delete(provider)) this.#deps.revived(provider);
  }

  /**
   * How long after now, at the soonest, `provider` could be given up if it stays silent: the
   * window a call sent to it now is vouched for. Undefined while the probe is off or the provider
   * never answered a ping (then it is never given up here).
   */
  silenceLeftMs(provider: string): number | undefined {
    if (!this.#enabled || !this.#answering.has(provider)) return undefined;
    const since = this.#busySince.get(provider);
    // Not busy yet: its silence starts counting at the next tick, no sooner than now.
    if (since === undefined) return this.#timeoutMs;
    const silentMs =
      this.#deps.timers.now() - Math.max(since, this.#heardAt.get(provider) ?? since);
    return Math.max(0, this.#timeoutMs - silentMs);
  }

  /** A call was sent: make sure the timer runs. */
  callStarted(): void {
    if (!this.#enabled || this.#timer !== undefined) return;
    this.#timer = this.#deps.timers.setTimeout(this.#tick, this.#intervalMs);
  }

  /** The provider left: nothing of it is kept. */
  forget(provider: string): void {
    this.#answering.delete(provider);
    this.#heardAt.delete(provider);
    this.#busySince.delete(provider);
    this.#givenUp.delete(provider);
  }

  stop(): void {
    this.#deps.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#enabled = false;
  }

  /** Providers the proxy tracks now (bounded by those present). */
  get size(): number {
    return Math.max(this.#answering.size, this.#busySince.size) + this.#givenUp.size;
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    const now = this.#deps.timers.now();
    const busy = new Set(this.#deps.busy());
    for (const provider of this.#busySince.keys())
      if (!busy.has(provider)) this.#busySince.delete(provider);
    for (const provider of busy) {
      const since = this.#busySince.get(provider) ?? now;
      this.#busySince.set(provider, since);
      const silentMs = now - Math.max(since, this.#heardAt.get(provider) ?? since);
      if (this.#answering.has(provider) && silentMs >= this.#timeoutMs) {
        this.#giveUp(provider, silentMs);
      } else {
        this.#deps.ping(provider, this.#timeoutMs);
      }
    }
    if (busy.size > 0 && this.#enabled && this.#timer === undefined)
      this.#timer = this.#deps.timers.setTimeout(this.#tick, this.#intervalMs);
  };

  #giveUp(provider: string, silentMs: number): void {
    this.forget(provider);
    this.#givenUp.add(provider);
    this.#deps.unresponsive(provider, silentMs);
  }
}

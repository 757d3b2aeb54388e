/**
 * How late a frame reached this provider, on the sending proxy's clock. Proxies stamp frames with
 * `sent_at_ms` (their clock, epoch ms); clocks differ by an unknown offset, so each proxy's is
 * estimated as the least (local receive time − sent_at_ms) over its recent stamped frames. Network
 * delay only ever adds to that difference, so the least is the offset plus the shortest delay seen:
 * a frame's age is then how much later than the quickest one it came, a lower bound of its true
 * age (never older than it really is). A frame read out of a buffer after the process was paused
 * is as late as the pause: its age shows it, whatever the skew between the two clocks.
 */
/** Stamped frames kept per proxy: enough that one late burst cannot push out every prompt one. */
export const CLOCK_SAMPLES = 32;

export class ProxyClock {
  readonly #now: () => number;
  readonly #samples = new Map<string, number[]>();
  readonly #next = new Map<string, number>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /**
   * A stamped frame from `proxy` arrived now: counted, and its age on the proxy's clock returned.
   * Undefined when the frame carries no stamp (an older proxy): it is taken as fresh.
   */
  observe(proxy: string, sentAtMs: number | undefined): number | undefined {
    if (sentAtMs === undefined) return undefined;
    const offset = this.#now() - sentAtMs;
    let samples = this.#samples.get(proxy);
    if (samples === undefined) {
      samples = [];
      this.#samples.set(proxy, samples);
    }
    // A ring: the oldest sample gives way, so a clock that drifts or steps is followed in time.
    const at = this.#next.get(proxy) ?? 0;
    samples[at] = offset;
    this.#next.set(proxy, (at + 1) % CLOCK_SAMPLES);
    let least = offset;
    for (const sample of samples) if (sample < least) least = sample;
    return offset - least;
  }

  /** The proxy left: what was learnt of its clock goes with it. */
  forget(proxy: string): void {
    this.#samples.delete(proxy);
    this.#next.delete(proxy);
  }

  /** Proxies whose clock is tracked (bounded by those seen and not yet gone). */
  get size(): number {
    return this.#samples.size;
  }
}

/** What a call frame says of its own freshness, and what this provider measured. */
export interface CallAge {
  readonly ageMs: number;
  readonly staleAfterMs: number;
}

/** The call's age when it is past the window the proxy gave it, else undefined (run it). */
export function staleness(
  ageMs: number | undefined,
  staleAfterMs: number | undefined,
): CallAge | undefined {
  if (ageMs === undefined || staleAfterMs === undefined || !(ageMs > staleAfterMs))
    return undefined;
  return { ageMs, staleAfterMs };
}

/** Sent back for a stale call, and what the proxy's caller reads: nothing was done. */
export function callStaleMessage(tool: string, age: CallAge): string {
  return `Tool "${tool}" did not run: the call reached its provider ${Math.round(age.ageMs)} ms after the proxy sent it, past the ${age.staleAfterMs} ms within which the proxy could vouch for the provider, so the proxy may already have reported it failed. Nothing was done; call the tool again if the action is still wanted.`;
}

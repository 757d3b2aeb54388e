/**
 * Memory over a soak: `process.memoryUsage()` sampled on a timer, each reading after full garbage
 * collections, and the rule that decides whether it stayed flat.
 *
 * Flat, precisely: samples taken during the warm-up (the first `warmupFraction` of the run: JIT,
 * tables and pools reaching their working size) are ignored. The rest of the run is cut into four
 * equal spans of time; the baseline is the median of the samples in the first span, the final
 * figure the median of those in the last. A measure is flat when final ≤ baseline × (1 + ratio) +
 * slack. Only growth counts: memory handed back is not a leak. Medians, so one reading taken in the
 * middle of a burst of calls moves nothing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Sample {
  /** Seconds since the sampler started. */
  readonly t: number;
  readonly rss: number;
  readonly heapUsed: number;
}

export interface MemoryBounds {
  /** Allowed growth, as a fraction of the baseline (0.1 is 10 %). */
  readonly ratio: number;
  readonly rssSlackBytes: number;
  readonly heapSlackBytes: number;
}

export type Measure = 'rss' | 'heapUsed';
export const MEASURES: readonly Measure[] = ['rss', 'heapUsed'];

export interface Flatness {
  readonly warmupS: number;
  /** Time spans (s) the baseline and the final figure are the medians of. */
  readonly baselineSpanS: readonly [number, number];
  readonly finalSpanS: readonly [number, number];
  readonly baseline: Record<Measure, number>;
  readonly final: Record<Measure, number>;
  /** (final − baseline) / baseline. */
  readonly growth: Record<Measure, number>;
  /** The largest final figure that passes. */
  readonly limit: Record<Measure, number>;
  readonly flat: Record<Measure, boolean>;
  readonly samplesUsed: { baseline: number; final: number };
}

/**
 * A full collection. Node started with `--expose-gc` has `gc`; otherwise (a vitest worker) the flag is
 * turned on now and the function taken from a fresh context, where V8 installs it.
 */
export function gcFunction(): { gc: () => void; how: 'expose-gc' | 'set-flags' } {
  const exposed = globalThis.gc;
  if (typeof exposed === 'function') return { gc: () => exposed(), how: 'expose-gc' };
  setFlagsFromString('--expose-gc');
  return { gc: runInNewContext('gc') as () => void, how: 'set-flags' };
}

export class MemorySampler {
  readonly samples: Sample[] = [];
  readonly #gc: () => void;
  readonly #started = performance.now();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(gc: () => void) {
    this.#gc = gc;
  }

  start(everyMs: number): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  stop(): Sample[] {
    clearInterval(this.#timer);
    this.#timer = undefined;
    return this.samples;
  }

  /** Two collections: objects freed by finalizers during the first go in the second. */
  sample(): void {
    this.#gc();
    this.#gc();
    const { rss, heapUsed } = process.memoryUsage();
    this.samples.push({ t: (performance.now() - this.#started) / 1_000, rss, heapUsed });
  }
}

export function flatness(
  samples: readonly Sample[],
  durationS: number,
  warmupFraction: number,
  bounds: MemoryBounds,
): Flatness {
  const warmupS = durationS * warmupFraction;
  const quarter = (durationS - warmupS) / 4;
  const baselineSpanS = [warmupS, warmupS + quarter] as const;
  const finalSpanS = [durationS - quarter, Number.POSITIVE_INFINITY] as const;
  const within = ([from, to]: readonly [number, number]) =>
    samples.filter((s) => s.t >= from && s.t < to);
  const first = within(baselineSpanS);
  const last = within(finalSpanS);
  if (first.length === 0 || last.length === 0)
    throw new Error(`too few memory samples (${samples.length}) for a ${durationS} s run`);
  const pair = (f: (measure: Measure) => number | boolean) =>
    Object.fromEntries(MEASURES.map((m) => [m, f(m)]));
  const baseline = pair((m) => median(first.map((s) => s[m]))) as Record<Measure, number>;
  const final = pair((m) => median(last.map((s) => s[m]))) as Record<Measure, number>;
  const slack = { rss: bounds.rssSlackBytes, heapUsed: bounds.heapSlackBytes };
  const limit = pair((m) => baseline[m] * (1 + bounds.ratio) + slack[m]) as Record<Measure, number>;
  return {
    warmupS,
    baselineSpanS,
    finalSpanS: [finalSpanS[0], durationS],
    baseline,
    final,
    growth: pair((m) => (final[m] - baseline[m]) / baseline[m]) as Record<Measure, number>,
    limit,
    flat: pair((m) => final[m] <= limit[m]) as Record<Measure, boolean>,
    samplesUsed: { baseline: first.length, final: last.length },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

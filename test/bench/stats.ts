/**
 * Small helpers the scenarios share: a summary of repeated runs (median, min, max), percentiles of
 * one run's latencies, a clock shared across processes, waiting without timers, and a forced
 * garbage collection when available.
 */

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Every run's value, in run order. */
  readonly samples: readonly number[];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return {
    median,
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    samples: [...samples],
  };
}

/** The `p`-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: Float64Array | readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Milliseconds on CLOCK_MONOTONIC (`process.hrtime`), which every process on the machine shares:
 * times taken in two processes can be subtracted (`performance.now()` counts from each's start).
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Yields to the event loop once (I/O and timers get a turn, not only microtasks). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Turns the event loop until `done()` holds; throws after `limitMs` of real time (a scenario that
 * cannot finish is a bug, not a slow result).
 */
export async function until(done: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await turn();
  }
}

/** True when the process runs with `--expose-gc`. */
export function canCollect(): boolean {
  return typeof globalThis.gc === 'function';
}

/**
 * Full collections (at least two, so objects freed by finalizers go too); a no-op without
 * `--expose-gc`.
 */
export function collect(rounds = 2): void {
  const gc = globalThis.gc;
  if (gc === undefined) return;
  for (let i = 0; i < rounds; i++) gc();
}

/**
 * Heap in use after full collections, in bytes. Many rounds let V8 age out and flush the bytecode
 * of functions that ran only during setup, so a later reading does not come out lower for that.
 */
export async function settledHeap(rounds = 2): Promise<number> {
  await turn();
  collect(rounds);
  return process.memoryUsage().heapUsed;
}

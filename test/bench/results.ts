/** The shape of what the bench measures, prints and writes to JSON. */
import { type Summary, summarize } from './stats.js';

export type BenchId = 'B1' | 'B2' | 'B3' | 'B4';
export const BENCH_IDS: readonly BenchId[] = ['B1', 'B2', 'B3', 'B4'];
export type Unit = 'ms' | 'µs' | 'calls/s' | 'B/call' | 'KiB';

export interface Metric {
  /** Stable key, e.g. `B1.toolproxy.rejected.10000`. */
  readonly id: string;
  readonly bench: BenchId;
  /** What was measured: toolproxy or a peer, and over what. */
  readonly subject: string;
  readonly measure: string;
  /** The size of the scenario (calls pending, calls made). */
  readonly n: number;
  readonly unit: Unit;
  readonly better: 'lower' | 'higher';
  /** Median, min and max over the runs, and each run's value. */
  readonly summary: Summary;
}

export interface Ratio {
  readonly id: string;
  readonly label: string;
  /**
   * The first over the second, by median, as the label says: for B1–B3 how many times better
   * toolproxy is (>1: better); for B4 toolproxy's latency over the floor's (>1: slower).
   */
  readonly value: number;
}

/** A scenario that ran but could not be measured as specified, and why (printed, never faked). */
export interface Unavailable {
  readonly id: string;
  readonly bench: BenchId;
  readonly label: string;
  readonly reason: string;
}

export interface Target {
  readonly id: string;
  readonly label: string;
  readonly measured: number;
  readonly limit: number;
  readonly unit: string;
  /** The target is an upper bound (`≤ limit`), else a lower bound (`≥ limit`). */
  readonly atMost: boolean;
  readonly pass: boolean;
}

export interface BenchReport {
  readonly meta: {
    readonly date: string;
    readonly quick: boolean;
    readonly runs: number;
    readonly gc: boolean;
    readonly node: string;
    readonly cpu: string;
    readonly cpus: number;
    readonly memoryGiB: number;
    readonly durationS: number;
  };
  readonly metrics: readonly Metric[];
  readonly ratios: readonly Ratio[];
  readonly targets: readonly Target[];
  readonly references: readonly string[];
  readonly unavailable: readonly Unavailable[];
}

/** Collects one metric's samples run by run. */
export class Samples {
  readonly #metrics = new Map<string, Omit<Metric, 'summary'> & { samples: number[] }>();

  add(metric: Omit<Metric, 'summary' | 'id'> & { id?: string }, value: number): void {
    const id = metric.id ?? `${metric.bench}.${metric.subject}.${metric.measure}.${metric.n}`;
    let entry = this.#metrics.get(id);
    if (entry === undefined) {
      entry = { ...metric, id, samples: [] };
      this.#metrics.set(id, entry);
    }
    if (!Number.isFinite(value)) throw new Error(`bench: ${id} measured ${value}`);
    entry.samples.push(value);
  }

  /** Forgets the metrics whose id `matches` (a scenario found unmeasurable after some runs). */
  drop(matches: (id: string) => boolean): void {
    for (const id of [...this.#metrics.keys()]) if (matches(id)) this.#metrics.delete(id);
  }

  metrics(): Metric[] {
    return [...this.#metrics.values()].map(({ samples, ...metric }) => ({
      ...metric,
      summary: summarize(samples),
    }));
  }
}

/**
 * The whole bench as a function: which scenarios, at which sizes, and the report they make. `run.ts`
 * is the command line around it; the smoke test calls it with tiny sizes.
 */
import { availableParallelism, cpus, totalmem } from 'node:os';
import { runCancelFanOut } from './b1-cancel.js';
import { runCallOverhead } from './b2-overhead.js';
import { runMemory } from './b3-memory.js';
import { runStopLatency } from './b4-stop.js';
import { HERMES_V03_WAIT_MS, ratios, targets } from './report.js';
import { type BenchId, type BenchReport, Samples, type Unavailable } from './results.js';
import { canCollect } from './stats.js';

export interface BenchConfig {
  readonly quick: boolean;
  /** Runs per figure (at least 5 for a report worth reading). */
  readonly runs: number;
  readonly only?: readonly BenchId[];
  readonly b1: { readonly sizes: readonly number[]; readonly warmups: number };
  readonly b2: {
    readonly inProcess: { readonly sequential: number; readonly concurrent: number };
    readonly loopback: { readonly sequential: number; readonly concurrent: number };
  };
  readonly b3: { readonly pending: number; readonly completed: number };
  /** Repetitions of each stop path per run, after `warmups` unmeasured ones. */
  readonly b4: { readonly repetitions: number; readonly warmups: number };
}

export const FULL: BenchConfig = {
  quick: false,
  runs: 5,
  b1: { sizes: [1, 1_000, 10_000], warmups: 1 },
  b2: {
    inProcess: { sequential: 20_000, concurrent: 50_000 },
    loopback: { sequential: 2_000, concurrent: 4_000 },
  },
  b3: { pending: 100_000, completed: 1_000_000 },
  b4: { repetitions: 500, warmups: 50 },
};

export const QUICK: BenchConfig = {
  quick: true,
  runs: 5,
  b1: { sizes: [1, 1_000, 10_000], warmups: 1 },
  b2: {
    inProcess: { sequential: 2_000, concurrent: 4_000 },
    loopback: { sequential: 150, concurrent: 256 },
  },
  b3: { pending: 20_000, completed: 100_000 },
  b4: { repetitions: 100, warmups: 20 },
};

export type Progress = (message: string) => void;

export async function runBench(
  config: BenchConfig,
  progress: Progress = () => {},
): Promise<BenchReport> {
  const started = performance.now();
  const samples = new Samples();
  const unavailable: Unavailable[] = [];
  const stages: ReadonlyArray<[BenchId, string, () => Promise<void>]> = [
    [
      'B1',
      'cancel fan-out',
      () =>
        runCancelFanOut(
          { sizes: config.b1.sizes, runs: config.runs, warmups: config.b1.warmups },
          samples,
        ),
    ],
    ['B2', 'call overhead', () => runCallOverhead({ runs: config.runs, ...config.b2 }, samples)],
    ['B3', 'memory', () => runMemory({ runs: config.runs, ...config.b3 }, samples)],
    [
      'B4',
      'stop latency end to end',
      () => runStopLatency({ runs: config.runs, ...config.b4 }, samples, unavailable),
    ],
  ];
  for (const [id, name, stage] of stages) {
    if (config.only !== undefined && !config.only.includes(id)) continue;
    const at = performance.now();
    progress(`${id} ${name}…`);
    await stage();
    progress(`${id} ${name}: ${((performance.now() - at) / 1_000).toFixed(1)} s`);
  }
  const metrics = samples.metrics();
  const computed = ratios(metrics);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return {
    meta: {
      date: new Date().toISOString(),
      quick: config.quick,
      runs: config.runs,
      gc: canCollect(),
      node: process.version,
      cpu,
      cpus: availableParallelism(),
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      durationS: Math.round((performance.now() - started) / 100) / 10,
    },
    metrics,
    ratios: computed,
    targets: targets(metrics, computed),
    references:
      config.only === undefined || config.only.includes('B1')
        ? [
            `hermes-livekit v0.3 has no stop hook: a call whose provider never answers waits out its ${HERMES_V03_WAIT_MS.toLocaleString('en-US')} ms deadline`,
          ]
        : [],
    unavailable,
  };
}

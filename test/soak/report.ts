/** What a soak run reports: per world, calls, outcomes and invariants; memory; the verdict. */
import type { CallOutcome, ProxyStats } from '../../src/index.js';
import type { Driver } from './churn.js';
import type { Ledger } from './ledger.js';
import { OUTCOMES, type ViolationKind } from './verdict.js';
import { type Flatness, type MemoryBounds, type Measure, MEASURES, type Sample } from './memory.js';
import type { World } from './worlds.js';

export interface WorldReport {
  readonly name: string;
  readonly calls: { started: number; refused: number; perSecond: number };
  readonly outcomes: Record<CallOutcome, number>;
  readonly ledger: Ledger['counts'];
  readonly violations: Record<ViolationKind, number>;
  readonly actions: Driver['actions'];
  readonly providers: World['churn'];
  readonly stats: ProxyStats;
}

export interface SoakReport {
  readonly meta: {
    readonly node: string;
    readonly cpus: number;
    readonly startedAt: string;
    readonly seed: number;
    readonly durationS: number;
    /** Wall time including set-up and the drain at the end. */
    readonly wallS: number;
    readonly gc: string;
  };
  readonly worlds: readonly WorldReport[];
  /** Active timers (`process.getActiveResourcesInfo()`) before the run and after everything closed. */
  readonly timers: { readonly before: number; readonly after: number };
  readonly memory: {
    readonly bounds: MemoryBounds;
    /** The measures whose growth fails the run. */
    readonly enforced: readonly Measure[];
    readonly flatness: Flatness;
    readonly samples: readonly Sample[];
  };
  /** The first violations, word for word. */
  readonly messages: readonly string[];
  readonly failures: readonly string[];
  readonly pass: boolean;
}

export function worldReport(world: World, driver: Driver, durationS: number): WorldReport {
  const { ledger } = world;
  return {
    name: world.name,
    calls: {
      started: ledger.counts.started,
      refused: ledger.counts.refused,
      perSecond: Math.round(ledger.counts.started / durationS),
    },
    outcomes: { ...ledger.outcomes },
    ledger: { ...ledger.counts },
    violations: { ...ledger.violations },
    actions: { ...driver.actions },
    providers: { ...world.churn },
    stats: world.proxy.stats(),
  };
}

/** Why the run fails: each invariant broken, each enforced measure that grew past its limit. */
export function failuresOf(
  worlds: readonly WorldReport[],
  flat: Flatness,
  enforced: readonly Measure[],
): string[] {
  const failures: string[] = [];
  for (const world of worlds)
    for (const [kind, n] of Object.entries(world.violations))
      if (n > 0) failures.push(`${world.name}: ${n} ${kind}`);
  for (const measure of enforced)
    if (!flat.flat[measure])
      failures.push(
        `${measure} grew ${pct(flat.growth[measure])}: ${mib(flat.final[measure])} > limit ${mib(flat.limit[measure])}`,
      );
  return failures;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

function table(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, c) => (c === 0 ? cell.padEnd : cell.padStart).call(cell, widths[c] ?? 0))
        .join('  '),
    )
    .join('\n');
}

export function formatReport(report: SoakReport): string {
  const { meta, memory } = report;
  const { flatness: flat, bounds } = memory;
  const lines = [
    `soak: ${meta.durationS} s of churn (wall ${meta.wallS} s), seed ${meta.seed}, node ${meta.node}, ${meta.cpus} CPUs, gc ${meta.gc}`,
    '',
    table([
      ['world', 'started', 'calls/s', ...OUTCOMES, 'refused'],
      ...report.worlds.map((w) => [
        w.name,
        fmt(w.calls.started),
        fmt(w.calls.perSecond),
        ...OUTCOMES.map((o) => fmt(w.outcomes[o])),
        fmt(w.calls.refused),
      ]),
    ]),
    '',
    table([
      [
        'world',
        'lost',
        'duplicated',
        'unexpected',
        'misrouted',
        'unsettled',
        'frames',
        'stats',
        'leftover',
        'raced',
        'late answers',
        'providers in/out',
        'sessions ended',
        'registry changes',
      ],
      ...report.worlds.map((w) => [
        w.name,
        ...(
          [
            'lost',
            'duplicated',
            'unexpected',
            'misrouted',
            'unsettled',
            'frames',
            'stats',
            'leftover',
          ] as const
        ).map((k) => fmt(w.violations[k])),
        fmt(w.ledger.raced),
        fmt(w.ledger.lateAnswers),
        `${w.providers.joined}/${w.providers.left}`,
        fmt(w.actions.sessionsEnded),
        fmt(w.actions.registryChanges),
      ]),
    ]),
    '',
    `memory after full GC, ${memory.samples.length} samples; warm-up (first ${flat.warmupS.toFixed(0)} s) ignored;`,
    `baseline = median of ${flat.baselineSpanS.map((s) => s.toFixed(0)).join('–')} s, final = median of ${flat.finalSpanS.map((s) => s.toFixed(0)).join('–')} s;`,
    `flat = final ≤ baseline × ${1 + bounds.ratio} + slack (rss ${mib(bounds.rssSlackBytes)}, heap ${mib(bounds.heapSlackBytes)}); enforced: ${memory.enforced.join(', ')}`,
    table([
      ['', 'baseline', 'final', 'growth', 'limit', 'flat'],
      ...MEASURES.map((m) => [
        m,
        mib(flat.baseline[m]),
        mib(flat.final[m]),
        pct(flat.growth[m]),
        mib(flat.limit[m]),
        flat.flat[m] ? 'yes' : 'NO',
      ]),
    ]),
    '',
    `timers (process.getActiveResourcesInfo): ${report.timers.before} before the run, ${report.timers.after} after everything closed`,
    ...report.messages.map((m) => `  ${m}`),
    report.pass
      ? 'PASS: zero lost, zero duplicated, every outcome explained, nothing left behind, memory flat'
      : `FAIL: ${report.failures.join('; ')}`,
  ];
  return lines.join('\n');
}

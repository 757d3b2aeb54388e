/** The agents bench's printed table: per case, median / p95 / max in ms, and the split. */
import type { AgentsReport } from './bench.js';
import type { Spread } from './rounds.js';

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const triple = (spread: Spread) => `${ms(spread.median)} / ${ms(spread.p95)} / ${ms(spread.max)}`;

export function formatAgentsReport(report: AgentsReport): string {
  const { meta } = report;
  const load = (values: readonly number[]) => values.map((value) => value.toFixed(1)).join(' ');
  const lines = [
    `toolproxy agents bench: interrupt → provider abort, ${meta.rounds} rounds per case, ms median / p95 / max`,
    `${meta.cpu}, ${meta.cpus} CPUs, Node ${meta.node}; load average ${load(meta.loadBefore)} at the start, ${load(meta.loadAfter)} at the end`,
    '',
  ];
  const head = [
    'case',
    'agent',
    'N',
    'interrupt → abort',
    'interrupt → serve',
    'serve → provider',
    'serve saw',
  ];
  const rows = report.cases.map((result) => [
    result.label,
    result.peer,
    String(result.rounds.length),
    triple(result.figures.total),
    triple(result.figures.toServe),
    triple(result.figures.serveToProvider),
    Object.entries(result.figures.reasons)
      .map(([reason, count]) => `${reason} ×${count}`)
      .join(', '),
  ]);
  const widths = head.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    '  ' +
    cells
      .map((cell, i) => (i === 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  if (rows.length > 0)
    lines.push(line(head), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line));
  for (const result of report.cases)
    for (const [name, spread] of Object.entries(result.figures.extra))
      lines.push(`  ${result.id}: ${name}: ${triple(spread)}`);
  for (const entry of report.unavailable)
    lines.push(`  not measured: ${entry.id}: ${entry.reason}`);
  return lines.join('\n');
}

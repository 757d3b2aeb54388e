/** Ratios, targets and the printed table, all computed from the metrics' medians. */
import { STOP_LABELS, type StopPath, stopMetricId } from './b4-stop.js';
import { BENCH_IDS, type BenchReport, type Metric, type Ratio, type Target } from './results.js';

const SUBJECTS: Record<string, string> = {
  toolproxy: 'toolproxy (in-memory bridge)',
  'mcp-sdk': 'MCP SDK (InMemoryTransport)',
  floor: 'floor (Map + JSON + timer)',
  'toolproxy-ws': 'toolproxy (WebSocket, loopback)',
  'mcp-sdk-http': 'MCP SDK (Streamable HTTP, loopback)',
  'toolproxy-serve': 'toolproxy serve (loopback)',
  'floor-ws': 'floor (bare HTTP → ws frame)',
};

const MEASURES: Record<string, string> = {
  rejected: 'all callers rejected',
  notices: 'all cancel notices handed to the bridge',
  'seq-rate': 'sequential: throughput',
  'seq-p50': 'sequential: latency p50',
  'seq-p99': 'sequential: latency p99',
  'c64-rate': '64 in flight: throughput',
  'c64-p50': '64 in flight: latency p50',
  'c64-p99': '64 in flight: latency p99',
  'pending-heap': 'heap per pending call',
  'retained-heap': 'heap retained after the calls completed',
  'hook-p50': `${STOP_LABELS.hook}: p50`,
  'hook-p99': `${STOP_LABELS.hook}: p99`,
  'mcp-abort-p50': `${STOP_LABELS['mcp-abort']}: p50`,
  'mcp-abort-p99': `${STOP_LABELS['mcp-abort']}: p99`,
  'caller-gone-p50': `${STOP_LABELS['caller-gone']}: p50`,
  'caller-gone-p99': `${STOP_LABELS['caller-gone']}: p99`,
  'frame-p50': `${STOP_LABELS.floor}: p50`,
  'frame-p99': `${STOP_LABELS.floor}: p99`,
};

const TITLES: Record<string, string> = {
  B1: 'B1 cancel fan-out: one agent_loop_stopped, N pending calls over 10 silent providers',
  B2: 'B2 call overhead: echo tool',
  B3: 'B3 memory',
  B4: 'B4 stop latency end to end: toolproxy serve, a provider over WebSocket holding one call',
};

/** B4's aim: hook → provider abort at p50 within this many times the floor's p50. */
export const B4_HOOK_VS_FLOOR_LIMIT = 1.2;

/** hermes-livekit v0.3 has no stop hook: a call to a provider that never answers waits this long. */
export const HERMES_V03_WAIT_MS = 30_000;

function find(metrics: readonly Metric[], id: string): Metric | undefined {
  return metrics.find((metric) => metric.id === id);
}

function largest(metrics: readonly Metric[], bench: string): number | undefined {
  const sizes = metrics.filter((metric) => metric.bench === bench).map((metric) => metric.n);
  return sizes.length === 0 ? undefined : Math.max(...sizes);
}

function sizeOf(metrics: readonly Metric[], prefix: string): number | undefined {
  return metrics.find((metric) => metric.id.startsWith(prefix))?.n;
}

export function ratios(metrics: readonly Metric[]): Ratio[] {
  const out: Ratio[] = [];
  const push = (id: string, label: string, better: string, worse: string, higher: boolean) => {
    const a = find(metrics, better);
    const b = find(metrics, worse);
    if (a === undefined || b === undefined) return;
    const value = higher
      ? a.summary.median / b.summary.median
      : b.summary.median / a.summary.median;
    out.push({ id, label, value });
  };
  for (const n of new Set(metrics.filter((m) => m.bench === 'B1').map((m) => m.n))) {
    const ours = `B1.toolproxy.rejected.${n}`;
    push(
      `B1.vs-mcp.${n}`,
      `B1 N=${n}: MCP SDK time / toolproxy time`,
      ours,
      `B1.mcp-sdk.rejected.${n}`,
      false,
    );
    const metric = find(metrics, ours);
    if (metric !== undefined)
      out.push({
        id: `B1.vs-hermes.${n}`,
        label: `B1 N=${n}: hermes-livekit v0.3 wait (${HERMES_V03_WAIT_MS} ms) / toolproxy time`,
        value: HERMES_V03_WAIT_MS / metric.summary.median,
      });
  }
  for (const mode of ['seq', 'c64'] as const) {
    const word = mode === 'seq' ? 'sequential' : '64 in flight';
    const n = sizeOf(metrics, `B2.toolproxy.${mode}-rate.`);
    const ours = `B2.toolproxy.${mode}-rate.${n}`;
    push(
      `B2.vs-mcp.${mode}`,
      `B2 ${word}: toolproxy / MCP SDK throughput`,
      ours,
      `B2.mcp-sdk.${mode}-rate.${n}`,
      true,
    );
    push(
      `B2.vs-floor.${mode}`,
      `B2 ${word}: toolproxy / floor throughput`,
      ours,
      `B2.floor.${mode}-rate.${n}`,
      true,
    );
    const m = sizeOf(metrics, `B2.toolproxy-ws.${mode}-rate.`);
    push(
      `B2.ws-vs-http.${mode}`,
      `B2 loopback ${word}: toolproxy WebSocket / MCP Streamable HTTP throughput`,
      `B2.toolproxy-ws.${mode}-rate.${m}`,
      `B2.mcp-sdk-http.${mode}-rate.${m}`,
      true,
    );
  }
  const repetitions = sizeOf(metrics, 'B4.floor-ws.frame-p50.');
  if (repetitions !== undefined) {
    for (const path of ['hook', 'mcp-abort', 'caller-gone'] as const satisfies StopPath[]) {
      for (const p of ['p50', 'p99'] as const) {
        const ours = find(metrics, stopMetricId(path, p, repetitions));
        const floor = find(metrics, stopMetricId('floor', p, repetitions));
        if (ours === undefined || floor === undefined) continue;
        out.push({
          id: `B4.${path}-vs-floor.${p}`,
          label: `B4 ${STOP_LABELS[path]} ${p}: toolproxy / floor latency`,
          value: ours.summary.median / floor.summary.median,
        });
      }
    }
  }
  return out;
}

export function targets(metrics: readonly Metric[], computed: readonly Ratio[]): Target[] {
  const out: Target[] = [];
  const check = (
    id: string,
    label: string,
    measured: number | undefined,
    limit: number,
    unit: string,
    atMost: boolean,
  ) => {
    if (measured === undefined) return;
    out.push({
      id,
      label,
      measured,
      limit,
      unit,
      atMost,
      pass: atMost ? measured <= limit : measured >= limit,
    });
  };
  const median = (id: string) => find(metrics, id)?.summary.median;
  const ratio = (id: string) => computed.find((r) => r.id === id)?.value;
  const n = largest(metrics, 'B1');
  if (n !== undefined) {
    check(
      'B1.rejected',
      `B1 N=${n}: all callers rejected`,
      median(`B1.toolproxy.rejected.${n}`),
      10,
      'ms',
      true,
    );
    check(
      'B1.notices',
      `B1 N=${n}: all notices handed over`,
      median(`B1.toolproxy.notices.${n}`),
      25,
      'ms',
      true,
    );
    check(
      'B1.vs-mcp',
      `B1 N=${n}: faster than the MCP SDK`,
      ratio(`B1.vs-mcp.${n}`),
      10,
      '×',
      false,
    );
  }
  check(
    'B2.vs-mcp.seq',
    'B2 sequential: throughput vs MCP SDK',
    ratio('B2.vs-mcp.seq'),
    2.5,
    '×',
    false,
  );
  check(
    'B2.vs-mcp.c64',
    'B2 64 in flight: throughput vs MCP SDK',
    ratio('B2.vs-mcp.c64'),
    2.5,
    '×',
    false,
  );
  const percent = (value: number | undefined) => (value === undefined ? undefined : value * 100);
  check(
    'B2.vs-floor.seq',
    'B2 sequential: share of the floor',
    percent(ratio('B2.vs-floor.seq')),
    50,
    '%',
    false,
  );
  check(
    'B2.vs-floor.c64',
    'B2 64 in flight: share of the floor',
    percent(ratio('B2.vs-floor.c64')),
    50,
    '%',
    false,
  );
  const pending = metrics.find((m) => m.id.startsWith('B3.toolproxy.pending-heap.'));
  check(
    'B3.pending',
    `B3 heap per pending call (N=${pending?.n})`,
    pending?.summary.median,
    1_024,
    'B',
    true,
  );
  const retained = metrics.find((m) => m.id.startsWith('B3.toolproxy.retained-heap.'));
  check(
    'B3.retained',
    `B3 heap retained after ${retained?.n} calls`,
    retained?.summary.median,
    1_024,
    'KiB',
    true,
  );
  check(
    'B4.hook-vs-floor.p50',
    `B4 ${STOP_LABELS.hook} p50: times the floor's`,
    ratio('B4.hook-vs-floor.p50'),
    B4_HOOK_VS_FLOOR_LIMIT,
    '×',
    true,
  );
  return out;
}

function number(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 10_000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

export function formatReport(report: BenchReport): string {
  const { meta } = report;
  const lines: string[] = [
    `toolproxy bench${meta.quick ? ' (--quick)' : ''}: ${meta.runs} runs per figure, median [min … max]`,
    `${meta.cpu}, ${meta.cpus} CPUs, ${meta.memoryGiB} GiB, Node ${meta.node}, gc ${meta.gc ? 'exposed' : 'NOT exposed (memory figures are not meaningful)'}`,
  ];
  for (const bench of BENCH_IDS) {
    const rows = report.metrics.filter((metric) => metric.bench === bench);
    const missing = report.unavailable.filter((entry) => entry.bench === bench);
    if (rows.length === 0 && missing.length === 0) continue;
    lines.push('', TITLES[bench] ?? bench);
    const cells = rows.map((m) => [
      SUBJECTS[m.subject] ?? m.subject,
      MEASURES[m.measure] ?? m.measure,
      m.n.toLocaleString('en-US'),
      `${number(m.summary.median)} ${m.unit}`,
      `[${number(m.summary.min)} … ${number(m.summary.max)}]`,
    ]);
    const head = ['subject', 'measure', 'N', 'median', 'min … max'];
    const widths = head.map((h, i) =>
      Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)),
    );
    const row = (values: readonly string[]) =>
      '  ' + values.map((v, i) => pad(v, widths[i] ?? 0, i >= 2)).join('  ');
    if (rows.length > 0)
      lines.push(row(head), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(row));
    for (const entry of missing) lines.push(`  not measured: ${entry.label}: ${entry.reason}`);
  }
  if (report.references.length > 0)
    lines.push('', ...report.references.map((r) => `reference: ${r}`));
  if (report.ratios.length > 0) {
    lines.push('', 'Ratios (by median)');
    for (const r of report.ratios) lines.push(`  ${r.label}: ${number(r.value)}×`);
  }
  if (report.targets.length > 0) {
    lines.push('', 'Targets');
    for (const t of report.targets) {
      const cmp = t.atMost ? '≤' : '≥';
      lines.push(
        `  ${t.pass ? 'PASS' : 'FAIL'}  ${t.label}: ${number(t.measured)} ${t.unit} (target ${cmp} ${number(t.limit)} ${t.unit})`,
      );
    }
  }
  return lines.join('\n');
}

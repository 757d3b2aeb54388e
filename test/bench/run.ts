/**
 * `npm run bench [-- --quick] [-- --runs N] [-- --only B1,B2]`: runs the bench, prints the table,
 * writes test-artifacts/bench-results.json. Timing targets are reported, never enforced: the exit
 * code is 0 unless a scenario itself fails.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { type BenchConfig, FULL, QUICK, runBench } from './bench.js';
import { formatReport } from './report.js';
import { BENCH_IDS, type BenchId } from './results.js';
import { canCollect } from './stats.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string', default: resolve(root, 'test-artifacts/bench-results.json') },
  },
});

const base = values.quick ? QUICK : FULL;
const runs = values.runs === undefined ? base.runs : Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
const only = values.only
  ?.split(',')
  .map((id) => id.trim().toUpperCase())
  .filter((id): id is BenchId => (BENCH_IDS as readonly string[]).includes(id));
const config: BenchConfig = { ...base, runs, ...(only === undefined ? {} : { only }) };

if (!canCollect()) console.warn('bench: run with node --expose-gc for the memory figures');
// V8 drops the bytecode of functions that have not run for a few collections (setup code, the other
// scenarios): hundreds of KiB that would make "heap retained" readings swing by that much. Hot code
// is never flushed, so this changes no measured path; it only keeps the heap readings about calls.
setFlagsFromString('--no-flush-bytecode');

// Node's default printer would flood the output: the MCP SDK's Streamable HTTP client passes one
// AbortSignal to every fetch, and undici adds an 'abort' listener per request that goes only when the
// request is garbage-collected. Such warnings are counted and summarised; others are printed.
const listenerWarnings = new Map<string, number>();
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'MaxListenersExceededWarning') {
    const what = warning.message.replace(/\d+ (\w+) listeners added/, 'N $1 listeners added');
    listenerWarnings.set(what, (listenerWarnings.get(what) ?? 0) + 1);
  } else {
    console.warn(`${warning.name}: ${warning.message}`);
  }
});

const report = await runBench(config, (message) => console.error(message));
console.log(formatReport(report));
for (const [what, count] of listenerWarnings)
  console.log(`note: Node warned ${count}× (peers' runs): ${what}`);
await mkdir(dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote ${values.out} (${report.meta.durationS} s)`);

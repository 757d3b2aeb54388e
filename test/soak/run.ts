/**
 * `npm run soak [-- --minutes N | --seconds N] [-- --seed S] [-- --rate N] [-- --ws-rate N]`:
 * churn for 10 minutes by default, then a table and test-artifacts/soak-<seconds>s.json. Exits 1 if
 * a call was lost, duplicated or ended unexplained, if anything was left behind, if the ledger and
 * the proxy's counters disagree, or if RSS or the heap grew more than 10 % past the baseline.
 *
 * Launched like the bench (`node --expose-gc --import ./test/bench/register.mjs`): the TypeScript is
 * transpiled the way `tsc` emits it, without tsx's `keepNames` wrappers (which add a property
 * dictionary to every closure made at run time and so change what memory readings measure).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatReport } from './report.js';
import { runSoak } from './soak.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    rate: { type: 'string', default: '250' },
    'ws-rate': { type: 'string', default: '25' },
    out: { type: 'string' },
  },
});

const seconds =
  values.seconds !== undefined
    ? Number(values.seconds)
    : values.minutes !== undefined
      ? Number(values.minutes) * 60
      : 600;
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const rate = Number(values.rate);
const wsRate = Number(values['ws-rate']);
if (
  ![seconds, rate, wsRate].every((x) => Number.isFinite(x) && x >= 0) ||
  seconds < 10 ||
  !Number.isInteger(seed)
) {
  console.error(
    'usage: npm run soak -- [--minutes N | --seconds N (≥ 10)] [--seed S] [--rate N] [--ws-rate N] [--out FILE]',
  );
  process.exit(2);
}
const out = values.out ?? resolve(root, `test-artifacts/soak-${seconds}s.json`);

// A rejection or exception nobody handled is a bug the soak found, not noise.
const uncaught: string[] = [];
process.on('unhandledRejection', (reason) =>
  uncaught.push(`unhandled rejection: ${String(reason)}`),
);
process.on('uncaughtException', (error) =>
  uncaught.push(`uncaught exception: ${error.stack ?? String(error)}`),
);

console.error(
  `soak: ${seconds} s, seed ${seed}, ${rate} calls/s in memory, ${wsRate} calls/s over WebSocket`,
);
const report = await runSoak(
  {
    durationMs: seconds * 1_000,
    seed,
    callsPerSecond: rate,
    webSocketCallsPerSecond: wsRate,
    // About 120 samples, whatever the length; at least one a second.
    sampleEveryMs: Math.min(5_000, Math.max(1_000, (seconds * 1_000) / 120)),
    warmupFraction: 0.2,
    bounds: { ratio: 0.1, rssSlackBytes: 0, heapSlackBytes: 1_048_576 },
    enforce: ['rss', 'heapUsed'],
  },
  (line) => console.error(line),
);
const failures = [...report.failures, ...uncaught];
console.log(formatReport(report));
for (const line of uncaught) console.log(line);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify({ ...report, uncaught }, null, 2)}\n`);
console.log(`\nwrote ${out}`);
process.exitCode = failures.length === 0 ? 0 : 1;

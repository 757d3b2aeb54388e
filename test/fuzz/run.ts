/**
 * `npm run fuzz`: the decoder fuzzing of test/src/protocol/fuzz-decoders.test.ts, at scale. Half of the frames go
 * to a ToolProxy (as provider frames), half to a ToolProvider (as proxy frames); a progress line as
 * it goes, then a summary. Exits 1 on any crash, unhandled rejection, oracle violation, polluted
 * prototype or unbounded heap.
 *
 *   npm run fuzz                                    1,000,000 frames, a random seed
 *   npm run fuzz -- --frames 200000 --seed 42       fewer frames, a chosen seed (runs repeat)
 *   npm run fuzz -- --only proxy                    one side only
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { Rng } from '../support/rng.js';
import {
  type FuzzSummary,
  ProviderFuzz,
  ProxyFuzz,
  prototypeKeys,
  prototypePolluted,
} from './harness.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '1000000' },
    seed: { type: 'string' },
    only: { type: 'string' },
  },
});
const total = Number(values.frames);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const only = values.only;
if (!Number.isInteger(total) || total <= 0 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--frames N] [--seed S] [--only proxy|provider]');
  process.exit(2);
}

/** The heap after a full collection (node was not started with --expose-gc; this turns it on). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapMb(): number {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}
/** How much the heap may grow over a run, once garbage is collected. */
const HEAP_BOUND_MB = 64;

let unhandled = 0;
const uncaught: string[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled++;
  uncaught.push(`unhandled rejection: ${String(reason)}`);
});
process.on('uncaughtException', (error) => {
  uncaught.push(`uncaught exception: ${error.stack ?? String(error)}`);
});

const interactive = process.stdout.isTTY;
const prototypesBefore = prototypeKeys();
const fmt = (n: number) => n.toLocaleString('en-US');

interface Side {
  readonly name: 'proxy' | 'provider';
  readonly frames: number;
  readonly target: ProxyFuzz | ProviderFuzz;
  summary?: FuzzSummary;
  heapBefore?: number;
  heapAfter?: number;
  heapPeak?: number;
  seconds?: number;
}

const sides: Side[] = [];
const half = Math.ceil(total / 2);
if (only !== 'provider')
  sides.push({
    name: 'proxy',
    frames: only === 'proxy' ? total : half,
    target: new ProxyFuzz(new Rng(seed)),
  });
if (only !== 'proxy')
  sides.push({
    name: 'provider',
    frames: only === 'provider' ? total : total - half,
    target: new ProviderFuzz(new Rng(seed + 1)),
  });

console.log(
  `fuzzing ${fmt(total)} frames, seed ${seed} (again: npm run fuzz -- --seed ${seed} --frames ${total})`,
);

for (const side of sides) {
  const { target } = side;
  await target.start();
  side.heapBefore = heapMb();
  side.heapPeak = side.heapBefore;
  const started = performance.now();
  const every = interactive ? 1_000 : 50_000;
  for (let i = 1; i <= side.frames; i++) {
    await target.step();
    if (i % 50_000 === 0) {
      side.heapPeak = Math.max(side.heapPeak, heapMb());
      if (target instanceof ProxyFuzz) target.checkBounds();
    }
    if (i % every === 0 || i === side.frames) {
      const s = target.summary;
      const rate = i / ((performance.now() - started) / 1000);
      const line =
        `${side.name.padEnd(8)} ${fmt(i).padStart(9)}/${fmt(side.frames)}  ${fmt(Math.round(rate))} frames/s  ` +
        `crashes ${s.crashes}  violations ${s.violationCount}  unhandled ${unhandled}  ` +
        `heap ${Math.round(process.memoryUsage().heapUsed / 1024 / 1024)} MB`;
      if (interactive) process.stdout.write(`\r${line}`);
      else console.log(line);
    }
  }
  if (interactive) process.stdout.write('\n');
  if (target instanceof ProviderFuzz) await target.cancelRunning();
  else target.checkBounds();
  await target.close();
  side.seconds = (performance.now() - started) / 1000;
  side.heapAfter = heapMb();
  side.summary = target.summary;
}

// ---- summary -------------------------------------------------------------------------------------

function table(title: string, tally: Record<string, number>): void {
  const entries = Object.entries(tally).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return;
  console.log(`  ${title}:`);
  for (const [key, value] of entries) console.log(`    ${fmt(value).padStart(9)}  ${key}`);
}

let failed = false;
const polluted = prototypePolluted() || prototypeKeys() !== prototypesBefore;
console.log('\nsummary');
for (const side of sides) {
  const s = side.summary;
  if (s === undefined) continue;
  const growth = (side.heapAfter ?? 0) - (side.heapBefore ?? 0);
  console.log(`\n${side.name}: ${fmt(s.frames)} frames in ${(side.seconds ?? 0).toFixed(1)} s`);
  console.log(`  crashes: ${s.crashes}`);
  console.log(`  violations: ${s.violationCount}`);
  for (const v of s.violations) console.log(`    - ${v}`);
  console.log(`  refused by the room (over its size limit): ${fmt(s.refusedByRoom)}`);
  console.log(
    `  slowest frame: ${s.slowestFrameMs.toFixed(1)} ms; slowest call to a fuzzed tool: ${s.slowestCallMs.toFixed(1)} ms`,
  );
  console.log(
    `  memory: heap ${side.heapBefore?.toFixed(1)} MB before, ${side.heapAfter?.toFixed(1)} MB after ` +
      `(${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB, bound ${HEAP_BOUND_MB} MB), peak ${side.heapPeak?.toFixed(1)} MB (after GC)`,
  );
  table('frames made', s.made);
  table('replies by reason', s.replies);
  table('calls by outcome', s.calls);
  if (s.crashes > 0 || s.violationCount > 0 || growth > HEAP_BOUND_MB) failed = true;
}
console.log(
  `\nunhandled rejections: ${unhandled}; uncaught exceptions: ${uncaught.length - unhandled}`,
);
for (const line of uncaught.slice(0, 10)) console.log(`  - ${line}`);
console.log(`prototypes: ${polluted ? 'POLLUTED' : 'intact'}`);
if (uncaught.length > 0 || polluted) failed = true;
console.log(failed ? '\nFAILED' : '\nok');
process.exit(failed ? 1 : 0);

/**
 * What a command hook costs the agent: from spawning `toolproxy hook <event>` (hook JSON on its
 * stdin) to its exit, against `toolproxy serve` (delivered) and a closed port (not delivered), next
 * to `node -e ''` (Node's own start-up, the floor for any Node command) and curl (the one-liner for
 * projects without toolproxy). Subjects take turns run by run, so load on the machine falls on all
 * of them alike. Targets (hook p50 ≤ 100 ms, ≤ 1.5× the floor's p50) are reported, never enforced.
 *
 *   node --import ./test/bench/register.mjs test/bench/hook-cost.ts [--n 20] [--node PATH]
 *     [--baseline DIR] [--npx DIR]
 *
 * `--node PATH`: the Node that runs the hook and the floor (default: the one running this).
 * `--baseline DIR`: also time `node DIR/bin/toolproxy.mjs hook` (another checkout, e.g. an older
 * commit with `npm run build` done in it), for a before/after. `--npx DIR`: also time
 * `npx toolproxy hook` run in DIR, a project with toolproxy installed (e.g. from `npm pack`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServe } from '../../proxy/cli/serve.js';
import type { Logger } from '../../src/index.js';
import { percentile } from './stats.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    baseline: { type: 'string' },
    npx: { type: 'string' },
    node: { type: 'string', default: process.execPath },
  },
});
const N = Number(values.n);
const WARMUP = Number(values.warmup);
if (!Number.isInteger(N) || N < 1) throw new Error('--n must be a positive integer');
if (!Number.isInteger(WARMUP) || WARMUP < 0) throw new Error('--warmup must be an integer ≥ 0');

const NODE = values.node;
const nodeVersion = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
const EVENT = 'agent_loop_stopped';
const INPUT = JSON.stringify({ session_key: 'bench', reason: 'Stop requested' });

interface Subject {
  name: string;
  /** The argv for a target base URL. */
  argv: (base: string) => [string, ...string[]];
  /** Whether its stderr must be empty when delivered and non-empty when not (the floor says nothing). */
  reports: boolean;
  /** Exits non-zero when not delivered (curl; the README's one-liner adds `|| true`). */
  failsWhenUndelivered?: boolean;
  cwd?: string;
}

const hasCurl = spawnSync('curl', ['--version']).status === 0;
const subjects: Subject[] = [
  { name: "node -e ''", argv: () => [NODE, '-e', ''], reports: false },
  {
    name: 'toolproxy hook',
    argv: (base) => [NODE, join(root, 'bin/toolproxy.mjs'), 'hook', EVENT, '--url', base],
    reports: true,
  },
];
if (values.baseline !== undefined) {
  const bin = join(resolve(values.baseline), 'bin/toolproxy.mjs');
  subjects.push({
    name: 'baseline hook',
    argv: (base) => [NODE, bin, 'hook', EVENT, '--url', base],
    reports: true,
  });
}
if (values.npx !== undefined) {
  subjects.push({
    name: 'npx toolproxy hook',
    argv: (base) => ['npx', 'toolproxy', 'hook', EVENT, '--url', base],
    reports: true,
    cwd: resolve(values.npx),
  });
}
if (hasCurl) {
  subjects.push({
    name: 'curl',
    argv: (base) => [
      'curl',
      ...['-sS', '-m', '1', '-f', '-o', '/dev/null', '-H', 'content-type: application/json'],
      ...['--data-binary', '@-', `${base}/hooks/${EVENT}`],
    ],
    reports: true,
    failsWhenUndelivered: true,
  });
}

interface Ran {
  ms: number;
  /** The child's user + system CPU time (ms), in clock ticks (10 ms here): meaningful as a mean. */
  cpuMs: number;
  code: number | null;
  stderr: string;
}

const ticksPerSecond =
  Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU time of this process's reaped children so far (ms), from /proc; NaN where there is none. */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after "(comm)": state is field 3, cutime field 16, cstime field 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/** Spawn to exit (and its pipes closed), with the hook JSON written to its stdin. */
function time(argv: readonly [string, ...string[]], cwd?: string): Promise<Ran> {
  const [command, ...args] = argv;
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'], cwd });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on('error', () => {}); // the floor exits without reading: EPIPE is expected
  child.stdin.end(INPUT);
  return new Promise((resolveRan, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      resolveRan({ ms, cpuMs: childrenCpuMs() - cpuBefore, code, stderr });
    });
  });
}

let accepted = 0;
const logger: Logger = {
  debug: () => {},
  info: (_fields, message) => {
    if (message === 'hook accepted') accepted++;
  },
  warn: () => {},
  error: () => {},
};
const serve = await startServe(
  {
    host: '127.0.0.1',
    port: 0,
    logLevel: 'info',
    mcp: 'http',
    room: 'bench',
    keys: {
      apiKey: 'bench-key',
      apiSecret: 'bench-secret-0123456789abcdef012345',
      generated: false,
    },
    livekit: undefined,
  },
  { logger, announce: () => {} },
);
const closed = createServer();
await new Promise<void>((resolveListen) => closed.listen(0, '127.0.0.1', resolveListen));
const closedBase = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
await new Promise<void>((resolveClose) => closed.close(() => resolveClose()));

const targets = [
  { name: 'serve', base: serve.url, delivered: true },
  { name: 'closed port', base: closedBase, delivered: false },
];

const load = loadavg()
  .map((value) => value.toFixed(1))
  .join(' ');
console.log(
  `hook command cost: N = ${N} per subject and target (after ${WARMUP} warm-ups), Node ${nodeVersion}, ` +
    `${cpus().length} CPUs, load average ${load}`,
);
// Node 20 reads NODE_EXTRA_CA_CERTS at start-up, before any JavaScript: tens of ms on every start.
if (process.env.NODE_EXTRA_CA_CERTS !== undefined)
  console.log('NODE_EXTRA_CA_CERTS is set: Node 20 loads those certificates on every start');

const samples = new Map<string, number[]>();
const cpu = new Map<string, number[]>();
const key = (subject: Subject, target: (typeof targets)[number]) =>
  `${subject.name}|${target.name}`;
try {
  for (const target of targets) {
    const expectedAccepts = accepted;
    let deliveries = 0;
    for (let round = 0; round < WARMUP + N; round++) {
      for (const subject of subjects) {
        const ran = await time(subject.argv(target.base), subject.cwd);
        if (subject.reports) {
          deliveries += target.delivered ? 1 : 0;
          const quiet = ran.stderr === '';
          const exitOk =
            ran.code === 0 || (subject.failsWhenUndelivered === true && !target.delivered);
          if (!exitOk || quiet !== target.delivered)
            throw new Error(
              `${subject.name} against ${target.name}: exit ${String(ran.code)}, stderr ${JSON.stringify(ran.stderr)}`,
            );
        }
        if (round < WARMUP) continue;
        const list = samples.get(key(subject, target)) ?? [];
        list.push(ran.ms);
        samples.set(key(subject, target), list);
        const cpuList = cpu.get(key(subject, target)) ?? [];
        cpuList.push(ran.cpuMs);
        cpu.set(key(subject, target), cpuList);
      }
    }
    if (accepted - expectedAccepts !== deliveries)
      throw new Error(`serve accepted ${accepted - expectedAccepts} hooks of ${deliveries} sent`);
  }
} finally {
  await serve.close();
}

const rows: string[][] = [
  ['subject', 'target', 'p50 ms', 'p95 ms', 'min', 'max', '× floor p50', 'CPU ms (mean)'],
];
const mean = (list: readonly number[]) => list.reduce((sum, value) => sum + value, 0) / list.length;
for (const target of targets) {
  const floor = percentile(samples.get(key(subjects[0] as Subject, target)) ?? [], 50);
  for (const subject of subjects) {
    const list = samples.get(key(subject, target)) ?? [];
    const p50 = percentile(list, 50);
    rows.push([
      subject.name,
      target.name,
      p50.toFixed(0),
      percentile(list, 95).toFixed(0),
      Math.min(...list).toFixed(0),
      Math.max(...list).toFixed(0),
      (p50 / floor).toFixed(2),
      mean(cpu.get(key(subject, target)) ?? []).toFixed(0),
    ]);
  }
}
const widths = rows[0]?.map((_, column) =>
  Math.max(...rows.map((row) => row[column]?.length ?? 0)),
);
for (const row of rows)
  console.log(row.map((cell, column) => cell.padEnd(widths?.[column] ?? 0)).join('  '));

for (const target of targets) {
  const hook = percentile(samples.get(`toolproxy hook|${target.name}`) ?? [], 50);
  const floor = percentile(samples.get(`node -e ''|${target.name}`) ?? [], 50);
  const absolute = hook <= 100 ? 'PASS' : 'FAIL';
  const relative = hook <= 1.5 * floor ? 'PASS' : 'FAIL';
  console.log(
    `${target.name}: hook p50 ${hook.toFixed(0)} ms ≤ 100 ms ${absolute}; ` +
      `≤ 1.5 × node -e '' (${(1.5 * floor).toFixed(0)} ms) ${relative}`,
  );
}

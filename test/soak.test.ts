/**
 * Thirty seconds of `npm run soak`: providers joining and leaving, tools registered, updated and
 * withdrawn, calls answered, failed, aborted, stopped by session hooks, timed out, and cut off by
 * their provider leaving, on the in-memory room and over the WebSocket bridge on 127.0.0.1.
 *
 * The correctness invariants are asserted exactly as in the long run. Memory is not: thirty seconds
 * in a vitest worker, beside other test files on a small machine, leave RSS too noisy to judge, so
 * only the heap after full collections is held to the 10 % bound, with 2 MiB of slack for the calls
 * that happen to be in flight when a sample is taken. That still catches a leak of about 2 KB per
 * call; the 10-minute run bounds RSS as well, and the heap to within tens of bytes per call.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { formatReport } from './soak/report.js';
import { runSoak } from './soak/soak.js';

const out = resolve(dirname(fileURLToPath(import.meta.url)), '../test-artifacts/soak-test.json');
const seed = Math.floor(Math.random() * 2 ** 31);

it('30 s of churn: nothing lost, duplicated, unexplained or left behind; the heap stays flat', async () => {
  const report = await runSoak({
    durationMs: 30_000,
    seed,
    callsPerSecond: 150,
    webSocketCallsPerSecond: 15,
    sampleEveryMs: 500,
    warmupFraction: 0.2,
    bounds: { ratio: 0.1, rssSlackBytes: 0, heapSlackBytes: 2 * 1_048_576 },
    enforce: ['heapUsed'],
  });
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  const summary = formatReport(report);

  expect(report.messages, summary).toEqual([]);
  for (const world of report.worlds) {
    for (const [kind, n] of Object.entries(world.violations))
      expect(n, `${world.name} ${kind} (seed ${seed})\n${summary}`).toBe(0);
    expect(world.calls.started, world.name).toBeGreaterThan(100);
    expect(world.outcomes.result, world.name).toBeGreaterThan(0);
  }
  // The churn did what it is for: on the in-memory room every way a call can end came up.
  const memory = report.worlds.find((world) => world.name === 'memory');
  for (const outcome of [
    'result',
    'remote-error',
    'timeout',
    'cancelled',
    'provider-gone',
    'tool-unregistered',
  ] as const)
    expect(memory?.outcomes[outcome], outcome).toBeGreaterThan(0);
  expect(memory?.calls.refused).toBeGreaterThan(0);
  expect(report.memory.flatness.flat.heapUsed, summary).toBe(true);
  expect(report.pass, summary).toBe(true);
}, 60_000);

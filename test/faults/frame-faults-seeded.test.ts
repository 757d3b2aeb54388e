/**
 * Many calls over a wire that drops, delays, duplicates and reorders call, result, progress and
 * notice frames at random (seeded: the same seed gives the same faults), against a real provider
 * runtime, with stops arriving meanwhile. Whatever the wire does, every call settles exactly once,
 * a result is always the one the provider computed for that call, no progress reaches a caller
 * after its call settled, every result frame that arrives is accounted for, and nothing is left
 * behind.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../bridge/memory.js';
import {
  defineTool,
  isToolProxyError,
  type ProxyEvents,
  ToolProvider,
  ToolProxy,
} from '../../src/index.js';
import { Rng } from '../support/rng.js';
import { microtasks } from '../support/harness.js';
import { FaultyChannel, seededRule } from '../support/faulty-channel.js';
import { measured } from '../support/measured.js';

const CALLS = 200;
const SEEDS = [1, 2, 3, 4, 5];
/** Past every deadline, delay and handler: everything has happened by then. */
const SETTLE_ALL_MS = 60_000;
const FAULTED = new Set([
  'agent:tool-call',
  'agent:tool-call-cancelled',
  'agent:tool-call-timeout',
  'client:tool-result',
  'client:tool-progress',
]);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * Echoes `n` after `ms`, reporting progress every second, unless the proxy gives up first. (The
 * provider stays well under any per-provider frame budget: a few dozen frames a second.)
 */
const work = defineTool({
  name: 'work',
  description: 'echoes n after ms',
  input: z.object({ n: z.number(), ms: z.number() }),
  handler: ({ n, ms }, { signal, progress }) =>
    new Promise((resolve, reject) => {
      let step = 0;
      const ticker = setInterval(() => progress(++step, Math.ceil(ms / 1_000)), 1_000);
      const done = setTimeout(() => {
        clearInterval(ticker);
        resolve({ n });
      }, ms);
      signal.addEventListener('abort', () => {
        clearInterval(ticker);
        clearTimeout(done);
        reject(new Error('aborted'));
      });
    }),
});

interface CallRecord {
  outcomes: Array<'resolved' | 'rejected'>;
  value: unknown;
  error: unknown;
  progressAfterSettle: number;
  settled: boolean;
}

async function run(seed: number) {
  const rng = new Rng(seed * 7_919);
  const room = new InMemoryRoom();
  const rule = seededRule(
    seed,
    { drop: 0.08, duplicate: 0.08, reorder: 0.08, delay: 0.15, maxDelayMs: 3_000 },
    (frame) => frame.type !== undefined && FAULTED.has(frame.type),
  );
  const channel = new FaultyChannel(room.join('agent', { isAgent: true }), rule);
  const proxy = new ToolProxy({ defaultTimeoutMs: 4_000, maxTotalTimeoutMs: 8_000 });
  await proxy.start(channel);
  const provider = new ToolProvider({ tools: [work] });
  await provider.connect(room.join('arm'));
  await proxy.waitForTool('work');
  const settledEvents = new Map<string, ProxyEvents['call:settled'][]>();
  proxy.hooks.on('call:settled', (event) => {
    settledEvents.set(event.callId, [...(settledEvents.get(event.callId) ?? []), event]);
  });

  const records: CallRecord[] = [];
  for (let n = 0; n < CALLS; n++) {
    const record: CallRecord = {
      outcomes: [],
      value: undefined,
      error: undefined,
      progressAfterSettle: 0,
      settled: false,
    };
    records.push(record);
    const sessionKey = `s${rng.int(4)}`;
    const timeoutMs = rng.chance(0.3) ? 500 + rng.int(3_000) : undefined;
    proxy
      .call(
        'work',
        { n, ms: rng.int(3_000) },
        {
          sessionKey,
          timeoutMs,
          onProgress: () => {
            if (record.settled) record.progressAfterSettle++;
          },
        },
      )
      .then(
        (value) => {
          record.settled = true;
          record.outcomes.push('resolved');
          record.value = value;
        },
        (error: unknown) => {
          record.settled = true;
          record.outcomes.push('rejected');
          record.error = error;
        },
      );
    if (rng.chance(0.02)) proxy.lifecycle('agent_loop_stopped', { session_key: sessionKey });
    await vi.advanceTimersByTimeAsync(rng.int(60));
  }
  channel.release();
  await vi.advanceTimersByTimeAsync(SETTLE_ALL_MS);
  channel.release();
  await vi.advanceTimersByTimeAsync(SETTLE_ALL_MS);
  await microtasks();
  return { proxy, provider, channel, records, settledEvents };
}

it.for(SEEDS)(
  `seed %i: ${CALLS} calls over a faulty wire each settle exactly once`,
  { timeout: 30_000 },
  async (seed, context) => {
    const { proxy, provider, channel, records, settledEvents } = await run(seed);

    for (const [n, record] of records.entries()) {
      expect(record.outcomes).toHaveLength(1);
      expect(record.progressAfterSettle).toBe(0);
      if (record.outcomes[0] === 'resolved') expect(record.value).toEqual({ n });
      else expect(isToolProxyError(record.error)).toBe(true);
    }
    expect(settledEvents.size).toBe(CALLS);
    for (const events of settledEvents.values()) expect(events).toHaveLength(1);

    const stats = proxy.stats();
    expect(stats.calls.started).toBe(CALLS);
    const settledTotal = Object.values(stats.calls.settled).reduce((a, b) => a + b, 0);
    expect(settledTotal).toBe(CALLS);
    // Every result frame that reached the proxy is either taken or dropped and counted.
    const { accepted, late, duplicate, unknown, spoofed } = stats.results;
    expect(accepted + late + duplicate + unknown + spoofed).toBe(
      channel.deliveredOf('in', 'client:tool-result').length,
    );
    expect(spoofed + unknown).toBe(0);
    expect(stats.progress.accepted + stats.progress.dropped).toBe(
      channel.deliveredOf('in', 'client:tool-progress').length,
    );
    // Nothing left behind on either side.
    expect(proxy.pendingCalls).toBe(0);
    expect(provider.runningCalls).toBe(0);
    expect(vi.getTimerCount()).toBe(0);

    const outcomes = Object.entries(stats.calls.settled)
      .filter(([, count]) => count > 0)
      .map(([outcome, count]) => `${outcome} ${count}`)
      .join(', ');
    const faults = (['drop', 'duplicate', 'reorder', 'delay'] as const)
      .map(
        (kind) => `${kind} ${[...FAULTED].reduce((sum, t) => sum + channel.faulted(t, kind), 0)}`,
      )
      .join(', ');
    await measured(
      context,
      `faults: ${faults}; outcomes: ${outcomes}; results late ${late}, duplicate ${duplicate}`,
    );
    await provider.close();
    await proxy.close();
  },
);

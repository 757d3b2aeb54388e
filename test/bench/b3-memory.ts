/**
 * B3, memory. (1) Heap per pending call on the proxy side: N calls pending on silent providers,
 * heap after a full GC before and after, divided by N (the caller keeps each returned promise, in
 * an array allocated before the first reading). (2) Heap retained after M completed echo calls
 * that all share one long-lived session AbortSignal, after a full GC, against a reading taken
 * after a warm-up on the same proxy.
 */
import { getEventListeners } from 'node:events';
import type PCancelable from 'p-cancelable';
import { concurrent } from './b2-overhead.js';
import type { Samples } from './results.js';
import { settledHeap, until } from './stats.js';
import {
  callsDelivered,
  type EchoSubject,
  expectText,
  inMemoryEchoWorld,
  silentWorld,
} from './worlds.js';

export interface MemoryOptions {
  readonly runs: number;
  /** Calls pending at once, e.g. 100,000. */
  readonly pending: number;
  /** Calls completed on one session signal, e.g. 1,000,000. */
  readonly completed: number;
}

const SESSION = 'chat-1';

/** Bytes of heap per pending call (proxy side), and a check that they all go again. */
export async function heapPerPendingCall(n: number): Promise<number> {
  const world = await silentWorld(10);
  const calls = new Array<PCancelable<unknown> | undefined>(n).fill(undefined);
  // One call through every path first, so what is measured is the calls, not first-time setup.
  const warm = world.proxy.call(world.tools[0] as string, { step: 0 }, { sessionKey: 'warm' });
  await callsDelivered(world, 1);
  warm.cancel();
  await warm.catch(() => undefined);

  const before = await settledHeap();
  for (let step = 0; step < n; step++) {
    const tool = world.tools[step % world.tools.length] as string;
    calls[step] = world.proxy.call(tool, { step }, { sessionKey: SESSION });
  }
  await callsDelivered(world, n + 1);
  const after = await settledHeap();

  if (world.proxy.pendingCalls !== n) throw new Error('bench: calls did not all stay pending');
  let rejected = 0;
  for (const call of calls) void call?.catch(() => rejected++);
  world.proxy.lifecycle('agent_loop_stopped', { session_key: SESSION });
  await until(() => rejected === n, 'the pending calls to be cancelled');
  if (world.proxy.pendingCalls !== 0) throw new Error('bench: calls left pending');
  await world.close();
  return (after - before) / n;
}

/**
 * Heap retained (bytes) after `n` completed calls sharing one session signal, 64 in flight, and
 * a check that the signal is left with no listener.
 */
export async function heapRetainedAfterCalls(n: number): Promise<number> {
  const world = await inMemoryEchoWorld();
  const session = new AbortController(); // lives as long as the agent session
  const onSession: EchoSubject = {
    call: async (text) =>
      expectText(
        await world.proxy.call('echo', { text }, { signal: session.signal, sessionKey: SESSION }),
      ),
    close: () => Promise.resolve(),
  };
  // Warm-up: JIT, the settled-id memory at its cap, the tables at their working size.
  await concurrent(onSession, Math.min(20_000, Math.ceil(n / 20)));
  const before = await settledHeap();
  await concurrent(onSession, n);
  const after = await settledHeap();

  const listeners = getEventListeners(session.signal, 'abort').length;
  if (listeners !== 0 || world.proxy.watchedSignals !== 0 || world.proxy.pendingCalls !== 0)
    throw new Error(`bench: ${listeners} listeners left on the session signal`);
  await world.close();
  return after - before;
}

export async function runMemory(options: MemoryOptions, samples: Samples): Promise<void> {
  for (let run = 0; run < options.runs; run++) {
    samples.add(
      {
        bench: 'B3',
        subject: 'toolproxy',
        measure: 'pending-heap',
        n: options.pending,
        unit: 'B/call',
        better: 'lower',
      },
      await heapPerPendingCall(options.pending),
    );
    samples.add(
      {
        bench: 'B3',
        subject: 'toolproxy',
        measure: 'retained-heap',
        n: options.completed,
        unit: 'KiB',
        better: 'lower',
      },
      (await heapRetainedAfterCalls(options.completed)) / 1_024,
    );
  }
}

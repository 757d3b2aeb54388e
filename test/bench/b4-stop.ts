/**
 * B4, stop latency end to end: `toolproxy serve` on loopback with a provider holding a call, and
 * the time from the moment a stop leaves the agent side to the moment the provider's handler sees
 * its AbortSignal abort, by three paths:
 *   1. hook: `POST /hooks/agent_loop_stopped {"session_key": K}` (keep-alive) for an MCP call
 *      made in session K;
 *   2. MCP abort: the SDK's `Client.callTool` with an AbortSignal, then `abort()` (the client
 *      posts `notifications/cancelled`);
 *   3. caller gone: a raw `tools/call` POST whose connection is destroyed mid-call.
 * Beside them, the floor (b4-worlds.ts): a POST to a bare HTTP server that writes one WebSocket
 * frame, from the POST leaving to the frame's `message` event. The agent side and the servers run
 * here, the provider and the floor's client in a child process (b4-provider.ts), both clocks
 * CLOCK_MONOTONIC. Each stop is sent with the call established and nothing in flight. One
 * repetition of each path in turn, order rotating, so drift falls on all alike; p50 and p99 per
 * run.
 */
import { SESSION_KEY_META } from '../../proxy/mcp/call-placement.js';
import { CancelReason, ErrorCode } from '../../src/index.js';
import { droppableToolCall } from './b4-http.js';
import { type AbortedReport, FarEnd, HOLD_TOOL, type StartedReport } from './b4-peer.js';
import { type FloorWorld, floorWorld, type ServeWorld, serveWorld } from './b4-worlds.js';
import type { Samples, Unavailable } from './results.js';
import { monotonicMs, percentile, turn, until } from './stats.js';

export type StopPath = 'hook' | 'mcp-abort' | 'caller-gone' | 'floor';
export const STOP_PATHS: readonly StopPath[] = ['hook', 'mcp-abort', 'caller-gone', 'floor'];

export interface StopLatencyOptions {
  readonly runs: number;
  /** Measured repetitions of each path per run. */
  readonly repetitions: number;
  /** Unmeasured repetitions of each path first, in every run (JIT, connections). */
  readonly warmups: number;
}

/** How long a provider may take to see a stop before the path counts as not working. */
const ABORT_LIMIT_MS = 2_000;
/** How long a call may take to reach the provider's handler. */
const START_LIMIT_MS = 10_000;

/** Rejects after `ms` unless `promise` settled first; the timer goes either way. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new LimitExceeded(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

class LimitExceeded extends Error {}

/** A path that cannot be measured as specified: it does not work yet, or aborts otherwise. */
class PathUnavailable extends Error {}

/**
 * Lets what the last step left in flight finish, then collects the young generation, so neither
 * lands inside the measured interval (the same for every path).
 */
async function quiet(): Promise<void> {
  await turn();
  await turn();
  globalThis.gc?.({ type: 'minor' });
}

/** Until the MCP client's requests have their answers' headers: the call's stream is open. */
async function mcpSettled(world: ServeWorld): Promise<void> {
  await until(() => world.mcpRequestsOpen() === 0, 'the MCP client requests to be answered');
}

/** The provider's handler saw the stop of `started`, and its signal aborted as `expected`. */
function expectAbort(aborted: AbortedReport, started: StartedReport, expected: CancelReason): void {
  if (aborted.callId !== started.callId)
    throw new Error(`bench: call ${aborted.callId} aborted, not ${started.callId}`);
  if (aborted.code === ErrorCode.Cancelled && aborted.reason === expected) return;
  const got = `${aborted.code} ${aborted.reason ?? ''}`.trim();
  throw new PathUnavailable(`the provider's signal aborted as ${got}, not ${expected}`);
}

type Repetition = (step: number) => Promise<number>;

/** The next call to reach the provider's handler. */
function nextStarted(far: FarEnd): Promise<StartedReport> {
  return within(far.started.take(), START_LIMIT_MS, 'the call to reach the provider');
}

function hookRepetition(world: ServeWorld, far: FarEnd): Repetition {
  return async (step) => {
    const session = `bench-stop-${step}`;
    const call = world.mcp.callTool(
      { name: HOLD_TOOL, arguments: { step }, _meta: { [SESSION_KEY_META]: session } },
      undefined,
      { timeout: 60_000 },
    );
    const started = await nextStarted(far);
    await mcpSettled(world);
    await quiet();
    const body = JSON.stringify({ session_key: session });
    const sent = monotonicMs();
    const answer = world.hooks.post('/hooks/agent_loop_stopped', body);
    const aborted = await within(
      far.aborted.take(),
      ABORT_LIMIT_MS,
      'the provider to see the stop',
    );
    expectAbort(aborted, started, CancelReason.AgentLoopStopped);
    const { status, body: text } = await answer;
    const accepted = JSON.parse(text) as { cancelled?: number };
    if (status !== 200 || accepted.cancelled !== 1)
      throw new Error(`bench: the hook answered ${status} ${text}`);
    const result = await call;
    if (result.isError !== true) throw new Error('bench: the stopped MCP call did not fail');
    return aborted.at - sent;
  };
}

function mcpAbortRepetition(world: ServeWorld, far: FarEnd): Repetition {
  return async (step) => {
    const controller = new AbortController();
    const rejected = world.mcp
      .callTool({ name: HOLD_TOOL, arguments: { step } }, undefined, {
        signal: controller.signal,
        timeout: 60_000,
      })
      .then(
        () => false,
        () => true,
      );
    const started = await nextStarted(far);
    await mcpSettled(world);
    await quiet();
    const sent = monotonicMs();
    controller.abort();
    const aborted = await within(
      far.aborted.take(),
      ABORT_LIMIT_MS,
      'the provider to see the abort',
    );
    expectAbort(aborted, started, CancelReason.CallerAborted);
    if (!(await rejected)) throw new Error('bench: the aborted MCP call did not reject');
    await mcpSettled(world); // the `notifications/cancelled` POST, before the next repetition
    return aborted.at - sent;
  };
}

function callerGoneRepetition(world: ServeWorld, far: FarEnd): Repetition {
  return async (step) => {
    const call = droppableToolCall(world.port, world, 1_000_000 + step, {
      name: HOLD_TOOL,
      arguments: { step },
    });
    const started = await nextStarted(far);
    await within(call.answering, START_LIMIT_MS, 'the call to be answered with a stream');
    await quiet();
    const sent = monotonicMs();
    call.drop();
    const abort = far.aborted.take();
    let aborted: AbortedReport;
    try {
      aborted = await within(abort, ABORT_LIMIT_MS, 'the provider to see the drop');
    } catch (error) {
      if (!(error instanceof LimitExceeded)) throw error;
      // Free the provider's handler (every call of the proxy: only this one is running).
      world.serve.proxy.lifecycle('agent_loop_stopped', {});
      await abort;
      throw new PathUnavailable(
        `the provider's signal did not abort within ${ABORT_LIMIT_MS} ms of the connection closing`,
      );
    }
    expectAbort(aborted, started, CancelReason.CallerGone);
    await call.closed;
    return aborted.at - sent;
  };
}

function floorRepetition(floor: FloorWorld, far: FarEnd): Repetition {
  return async (step) => {
    const session = `bench-stop-${step}`;
    await quiet();
    const body = JSON.stringify({ session_key: session });
    const sent = monotonicMs();
    const answer = floor.hooks.post('/hooks/agent_loop_stopped', body);
    const { at, text } = await within(far.frames.take(), ABORT_LIMIT_MS, 'the floor frame');
    if (!text.includes(session)) throw new Error(`bench: the floor sent ${text}`);
    const { status } = await answer;
    if (status !== 200) throw new Error(`bench: the floor answered ${status}`);
    return at - sent;
  };
}

const MEASURE: Record<StopPath, string> = {
  hook: 'hook',
  'mcp-abort': 'mcp-abort',
  'caller-gone': 'caller-gone',
  floor: 'frame',
};

/** The B4 metric ids of `path`'s percentile (`p50`, `p99`) at `n` repetitions. */
export function stopMetricId(path: StopPath, p: 'p50' | 'p99', n: number): string {
  return `B4.${path === 'floor' ? 'floor-ws' : 'toolproxy-serve'}.${MEASURE[path]}-${p}.${n}`;
}

export async function runStopLatency(
  options: StopLatencyOptions,
  samples: Samples,
  unavailable: Unavailable[],
): Promise<void> {
  const { runs, repetitions, warmups } = options;
  const broken = new Map<StopPath, string>();
  let step = 0;
  for (let run = 0; run < runs; run++) {
    const far = FarEnd.start();
    let world: ServeWorld | undefined;
    let floor: FloorWorld | undefined;
    try {
      world = await serveWorld(far);
      floor = await floorWorld(far);
      const paths: Record<StopPath, Repetition> = {
        hook: hookRepetition(world, far),
        'mcp-abort': mcpAbortRepetition(world, far),
        'caller-gone': callerGoneRepetition(world, far),
        floor: floorRepetition(floor, far),
      };
      const latencies = new Map(STOP_PATHS.map((path) => [path, new Float64Array(repetitions)]));
      for (let i = -warmups; i < repetitions; i++) {
        // The order rotates, so no path always follows the same one.
        for (let k = 0; k < STOP_PATHS.length; k++) {
          const path = STOP_PATHS[(k + i + warmups) % STOP_PATHS.length] as StopPath;
          if (broken.has(path)) continue;
          try {
            const ms = await paths[path](step++);
            if (i >= 0) (latencies.get(path) as Float64Array)[i] = ms;
          } catch (error) {
            if (!(error instanceof PathUnavailable)) throw error;
            broken.set(path, error.message);
          }
        }
      }
      for (const path of STOP_PATHS) {
        if (broken.has(path)) continue;
        const values = latencies.get(path) as Float64Array;
        for (const p of ['p50', 'p99'] as const) {
          samples.add(
            {
              id: stopMetricId(path, p, repetitions),
              bench: 'B4',
              subject: path === 'floor' ? 'floor-ws' : 'toolproxy-serve',
              measure: `${MEASURE[path]}-${p}`,
              n: repetitions,
              unit: 'µs',
              better: 'lower',
            },
            percentile(values, p === 'p50' ? 50 : 99) * 1_000,
          );
        }
      }
    } finally {
      await floor?.close();
      await world?.close();
      await far.close();
    }
  }
  for (const [path, reason] of broken) {
    unavailable.push({ id: `B4.${path}`, bench: 'B4', label: STOP_LABELS[path], reason });
    samples.drop((id) => id.startsWith(`B4.toolproxy-serve.${MEASURE[path]}-`));
  }
}

/** What each path is called in the report. */
export const STOP_LABELS: Record<StopPath, string> = {
  hook: 'hook → provider abort',
  'mcp-abort': 'MCP client abort → provider abort',
  'caller-gone': 'caller connection drop → provider abort',
  floor: 'POST → WebSocket frame',
};

/**
 * B1, cancel fan-out: N calls pending in one session, spread over 10 providers on the in-memory
 * bridge that never answer; one `proxy.lifecycle('agent_loop_stopped', …)`. Measured from that
 * call until (a) every caller's promise has rejected (the moment its rejection handler runs) and
 * (b) every `agent:tool-call-cancelled` notice has been handed to the bridge (counted at the
 * channel).
 *
 * Peer: the MCP SDK, N `Client.callTool` requests in flight over `InMemoryTransport` to a server
 * whose tool never answers, all on one AbortController; measured from `abort()` until every
 * promise has rejected.
 */
import { ErrorCode, isToolProxyError } from '../../src/index.js';
import { mcpHoldWorld, mcpRequestsDelivered } from './peers.js';
import type { Samples } from './results.js';
import { collect, until } from './stats.js';
import { callsDelivered, silentWorld } from './worlds.js';

export interface CancelFanOutOptions {
  /** Pending calls per scenario, e.g. [1, 1_000, 10_000]. */
  readonly sizes: readonly number[];
  readonly runs: number;
  /** Unmeasured runs first (JIT warm-up). Default 1. */
  readonly warmups?: number;
  /** Providers the calls are spread over. Default 10. */
  readonly providers?: number;
}

export interface ToolproxyFanOut {
  /** From the stop until the last caller's rejection handler ran. */
  readonly rejectedMs: number;
  /** From the stop until the last cancel notice was handed to the bridge. */
  readonly noticesMs: number;
}

const SESSION = 'chat-1';

/** One toolproxy run: a fresh proxy and providers, `n` calls, one stop. */
export async function toolproxyFanOut(n: number, providers = 10): Promise<ToolproxyFanOut> {
  const world = await silentWorld(providers);
  let rejected = 0;
  let wrong = 0;
  let rejectedAt = Number.NaN;
  const onResult = () => {
    wrong++;
  };
  const onRejected = (error: unknown) => {
    if (!isToolProxyError(error, ErrorCode.Cancelled)) wrong++;
    if (++rejected === n) rejectedAt = performance.now();
  };
  for (let step = 0; step < n; step++) {
    const tool = world.tools[step % world.tools.length] as string;
    void world.proxy.call(tool, { step }, { sessionKey: SESSION }).then(onResult, onRejected);
  }
  await callsDelivered(world, n);
  if (world.proxy.pendingCalls !== n) throw new Error('bench: calls did not all start');
  world.channel.expect(n);
  collect();

  const start = performance.now();
  world.proxy.lifecycle('agent_loop_stopped', {
    session_key: SESSION,
    reason: 'Stop requested',
    invalidation_reason: 'stop_command',
  });
  await until(() => rejected === n && world.channel.cancelNotices >= n, 'the cancel fan-out');

  if (wrong > 0) throw new Error(`bench: ${wrong} calls did not reject with CANCELLED`);
  if (world.proxy.pendingCalls !== 0) throw new Error('bench: calls left pending');
  await until(() => world.cancelsReceived() === n, 'the notices to reach the providers');
  const noticesAt = world.channel.reachedAt;
  await world.close();
  return { rejectedMs: rejectedAt - start, noticesMs: noticesAt - start };
}

/** One MCP SDK run: a fresh client and server, `n` requests in flight, one abort. */
export async function mcpFanOut(n: number): Promise<number> {
  const world = await mcpHoldWorld();
  const controller = new AbortController();
  let settled = 0;
  let wrong = 0;
  let rejectedAt = Number.NaN;
  world.start(n, controller.signal, (rejected) => {
    if (!rejected) wrong++;
    if (++settled === n) rejectedAt = performance.now();
  });
  await mcpRequestsDelivered(world, n);
  collect();

  const start = performance.now();
  controller.abort('Stop requested');
  await until(() => settled === n, 'the MCP SDK requests to reject');

  if (wrong > 0) throw new Error(`bench: ${wrong} MCP requests did not reject`);
  await world.close();
  return rejectedAt - start;
}

export async function runCancelFanOut(
  options: CancelFanOutOptions,
  samples: Samples,
): Promise<void> {
  const providers = options.providers ?? 10;
  const warmups = options.warmups ?? 1;
  for (const n of options.sizes) {
    for (let run = -warmups; run < options.runs; run++) {
      const ours = await toolproxyFanOut(n, providers);
      const theirs = await mcpFanOut(n);
      if (run < 0) continue;
      const base = { bench: 'B1', n, unit: 'ms', better: 'lower' } as const;
      samples.add({ ...base, subject: 'toolproxy', measure: 'rejected' }, ours.rejectedMs);
      samples.add({ ...base, subject: 'toolproxy', measure: 'notices' }, ours.noticesMs);
      samples.add({ ...base, subject: 'mcp-sdk', measure: 'rejected' }, theirs);
    }
  }
}

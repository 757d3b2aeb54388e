/**
 * The bridge itself goes away mid-call, with calls pending on several providers: the proxy's
 * in-memory channel dropped; the WebSocket bridge closed (every provider told 1001), or every
 * socket it serves cut at once. Every pending call settles, with which code, how fast, what each
 * provider is told, and what is left.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { InMemoryRoom } from '../../bridge/memory.js';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { isToolProxyError, type ToolChannel, ToolProxy } from '../../src/index.js';
import { microtasks } from '../support/harness.js';
import { type HoldingProvider, holdingProvider } from '../support/hold-provider.js';
import { elapsedMs, measured } from '../support/measured.js';
import { startRelay } from '../support/tcp-relay.js';
import { newBridge, providerToken, serve, waitFor } from '../support/ws-harness.js';

const CALLS_EACH = 20;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** A provider with a `hold` tool, closed after the test. */
function holding(): HoldingProvider {
  const held = holdingProvider();
  cleanups.push(() => held.provider.close());
  return held;
}

/** Starts `count` calls of each tool; resolves with their error codes once all have settled. */
function callAll(proxy: ToolProxy, tools: string[], count: number): Promise<string[]> {
  const calls = tools.flatMap((tool) => Array.from({ length: count }, () => proxy.call(tool)));
  return Promise.all(
    calls.map((call) =>
      call.then(
        () => 'resolved',
        (error: unknown) => (isToolProxyError(error) ? error.code : 'other'),
      ),
    ),
  );
}

/** [code, count] pairs, in order of first appearance. */
function tally(codes: string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  return [...counts];
}

describe('in-memory bridge', () => {
  it("the proxy's channel dropped: every pending call fails PROVIDER_GONE inside drop(); providers abort their handlers", async (context) => {
    const room = new InMemoryRoom();
    const agent = room.join('agent', { isAgent: true });
    const proxy = new ToolProxy();
    await proxy.start(agent);
    const arms = [holding(), holding(), holding()];
    for (const [i, arm] of arms.entries()) await arm.provider.connect(room.join(`arm-${i}`));
    await waitFor(() => proxy.tools().length === 3);
    const tools = proxy.tools().map((tool) => tool.name);
    const codes = callAll(proxy, tools, CALLS_EACH);
    await waitFor(() => arms.every((arm) => arm.provider.runningCalls === CALLS_EACH));

    agent.drop();
    expect(proxy.pendingCalls).toBe(0); // settled synchronously, before drop() returned
    expect(proxy.tools()).toEqual([]);
    expect(tally(await codes)).toEqual([['PROVIDER_GONE', 3 * CALLS_EACH]]);
    await microtasks();
    for (const arm of arms) {
      expect(arm.aborts).toHaveLength(CALLS_EACH);
      expect(arm.aborts[0]).toMatchObject({ code: 'CANCELLED', detail: 'the proxy left' });
    }
    expect(proxy.stats().notices).toEqual({ sent: 0, failed: 0 });

    // Back on a new channel: the providers are greeted and register again.
    await proxy.start(room.join('agent', { isAgent: true }));
    await waitFor(() => proxy.tools().length === 3);
    await measured(
      context,
      `${3 * CALLS_EACH} calls PROVIDER_GONE synchronously in drop(); handlers aborted ("the proxy left"); no notices; registry empty`,
    );
    await proxy.close();
  });
});

describe('WebSocket bridge (real sockets)', () => {
  /** A bridge, its proxy, and providers `robot` (direct) and `mute` (through a relay). */
  async function world() {
    const served = await serve(newBridge());
    const proxy = new ToolProxy();
    await proxy.start(served.bridge);
    cleanups.push(() => served.close());
    cleanups.push(() => proxy.close());
    const relay = await startRelay(served.port);
    const connect = async (identity: string, port: number) => {
      const held = holding();
      const channel: ToolChannel = webSocketProviderChannel({
        url: `ws://127.0.0.1:${port}/bridge`,
        token: () => providerToken(identity),
        WebSocket,
        reconnect: { initialDelayMs: 50, maxDelayMs: 50 },
      });
      await held.provider.connect(channel);
      return held;
    };
    const robot = await connect('robot', served.port);
    const mute = await connect('mute', relay.port);
    cleanups.push(() => relay.close()); // first: a blackholed socket would wait out its close
    await waitFor(() => proxy.tools().length === 2);
    const tools = proxy.tools().map((tool) => tool.name);
    return { served, proxy, relay, robot, mute, tools };
  }

  it('bridge.close() mid-call: every call PROVIDER_GONE at once, even with a provider that never answers the close', async (context) => {
    const { served, proxy, relay, robot, mute, tools } = await world();
    const codes = callAll(proxy, tools, CALLS_EACH);
    await waitFor(() => robot.provider.runningCalls + mute.provider.runningCalls === 40);
    relay.connections[0]?.blackhole(); // `mute` will never answer the close handshake
    const since = performance.now();
    const closing = served.bridge.close();
    expect(tally(await codes)).toEqual([['PROVIDER_GONE', 2 * CALLS_EACH]]);
    const settled = elapsedMs(since);
    await closing;
    const closed = elapsedMs(since);
    expect(settled).toBeLessThan(500);
    expect(proxy.pendingCalls).toBe(0);
    expect(proxy.tools()).toEqual([]);
    // `robot` got the 1001 close: its handlers were stopped. `mute` heard nothing.
    await waitFor(() => robot.aborts.length === CALLS_EACH);
    expect(robot.aborts[0]).toMatchObject({ code: 'CANCELLED', detail: 'the proxy left' });
    expect(mute.aborts).toEqual([]);
    await measured(
      context,
      `${2 * CALLS_EACH} calls PROVIDER_GONE after ${settled} ms; close() resolved after ${closed} ms (a provider not answering the close)`,
    );
  });

  it('every socket cut by the server at once mid-call: every call PROVIDER_GONE; providers reconnect and register again', async (context) => {
    const { served, proxy, robot, mute, tools } = await world();
    const codes = callAll(proxy, tools, CALLS_EACH);
    await waitFor(() => robot.provider.runningCalls + mute.provider.runningCalls === 40);
    const before = robot.registrations() + mute.registrations();
    const since = performance.now();
    for (const socket of served.upgrades) socket.destroy();
    expect(tally(await codes)).toEqual([['PROVIDER_GONE', 2 * CALLS_EACH]]);
    const settled = elapsedMs(since);
    expect(settled).toBeLessThan(1_000);
    await waitFor(() => robot.aborts.length + mute.aborts.length === 2 * CALLS_EACH);
    expect(proxy.stats().notices).toEqual({ sent: 0, failed: 0 });
    await waitFor(() => robot.registrations() + mute.registrations() > before + 1);
    await waitFor(() => proxy.tools().length === 2);
    const back = elapsedMs(since);
    await measured(
      context,
      `${2 * CALLS_EACH} calls PROVIDER_GONE after ${settled} ms; handlers aborted; both providers registered again after ${back} ms`,
    );
  });
});

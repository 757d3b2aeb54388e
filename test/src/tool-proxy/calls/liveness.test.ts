/**
 * The proxy's own liveness probe (`agent:ping` / `client:pong`), for transports that learn of a
 * crashed peer late (LiveKit: when ICE gives up, about 20 s), and the provider's watch on a proxy
 * that pings. On the in-memory room with `livenessProbes` and `crash()`; fake timers throughout.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../../bridge/memory.js';
import {
  defineTool,
  ToolProvider,
  ToolProxy,
  type ToolProxyOptions,
} from '../../../../src/index.js';
import { holdingProvider } from '../../../support/hold-provider.js';
import { flush } from '../../../support/util.js';
import { type JsonObject, WirePeer } from '../../../support/wire-peer.js';

const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  vi.useRealTimers();
});

async function world(options: ToolProxyOptions = {}, livenessProbes = true) {
  const room = new InMemoryRoom();
  const wire: Array<{ from: string; to: string; frame: JsonObject }> = [];
  room.tap((from, to, text) => wire.push({ from, to, frame: JSON.parse(text) as JsonObject }));
  const proxy = new ToolProxy(options);
  await proxy.start(room.join('agent', { isAgent: true, livenessProbes }));
  cleanups.push(() => proxy.close());
  const robot = holdingProvider();
  const robotChannel = room.join('robot');
  await robot.provider.connect(robotChannel);
  cleanups.push(() => robot.provider.close());
  await flush();
  await proxy.waitForTool('hold');
  const pings = () => wire.filter((w) => w.frame.type === 'agent:ping').length;
  return { room, proxy, robot, robotChannel, wire, pings };
}

describe('the proxy probes providers with calls in flight', () => {
  it('pings every second while a call runs; a provider that answers is never given up', async () => {
    const { proxy, robot, wire, pings } = await world();
    const call = proxy.call('hold', {}, { timeoutMs: 20_000 });
    call.catch(() => {});
    await robot.started;
    await vi.advanceTimersByTimeAsync(10_500);
    expect(pings()).toBe(10);
    expect(wire.filter((w) => w.frame.type === 'client:pong')).toHaveLength(10);
    expect(wire.find((w) => w.frame.type === 'agent:ping')?.frame).toEqual({
      type: 'agent:ping',
      timeout_ms: 4_000,
      sent_at_ms: expect.any(Number),
    });
    call.cancel();
    await flush();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(pings()).toBe(10); // nothing pending: no more pings, no timer
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a provider that crashed mid-call is given up within the timeout: PROVIDER_GONE, told, tools gone', async () => {
    const { proxy, robot, robotChannel } = await world();
    const call = proxy.call('hold');
    const failed = expect(call).rejects.toMatchObject({
      code: 'PROVIDER_GONE',
      reason: 'provider-unresponsive',
      message: expect.stringContaining('stopped answering'),
    });
    await robot.started;
    await vi.advanceTimersByTimeAsync(1_500); // one ping, at 1 s, answered
    robotChannel.crash();
    await vi.advanceTimersByTimeAsync(3_400);
    expect(proxy.pendingCalls).toBe(1); // not before 4 s of silence
    await vi.advanceTimersByTimeAsync(600);
    await failed;
    expect(proxy.tools()).toEqual([]);
    // Told to stop, should it still be there (the frame is lost on the way to a dead process).
    expect(proxy.stats().notices.sent).toBe(1);
  });

  it('a provider given up that speaks again is greeted and registers again', async () => {
    const { proxy, robot, robotChannel, wire } = await world();
    const call = proxy.call('hold');
    const failed = expect(call).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
    await robot.started;
    await vi.advanceTimersByTimeAsync(1_000);
    robotChannel.crash();
    await vi.advanceTimersByTimeAsync(6_000);
    await failed;
    // It was only cut off: it comes back, and its next frame (say, a late result) is heard.
    robotChannel.revive();
    await robotChannel.send(
      'agent',
      JSON.stringify({ type: 'client:tool-progress', call_id: 'gone', progress: 1 }),
    );
    await flush();
    expect(wire.filter((w) => w.frame.type === 'agent:hello' && w.to === 'robot')).toHaveLength(1);
    await proxy.waitForTool('hold');
  });

  it('a provider that never answers pings (hermes-livekit v0.3) is left to the transport and its deadline', async () => {
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    await proxy.start(room.join('agent', { isAgent: true, livenessProbes: true }));
    cleanups.push(() => proxy.close());
    const desktop = await WirePeer.join(room, 'desktop');
    await desktop.register('notify');
    await flush();
    const call = proxy.call('notify');
    const timedOut = expect(call).rejects.toMatchObject({ code: 'TIMEOUT' });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(desktop.frames('agent:ping').length).toBeGreaterThan(20);
    expect(proxy.pendingCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await timedOut;
  });

  it('sends no ping on a transport that reports deaths itself, or with liveness: false', async () => {
    for (const [options, probes] of [
      [{}, false],
      [{ liveness: false }, true],
    ] as const) {
      const { proxy, robot, pings } = await world(options, probes);
      const call = proxy.call('hold', {}, { timeoutMs: 10_000 });
      call.catch(() => {});
      await robot.started;
      await vi.advanceTimersByTimeAsync(9_000);
      expect(pings()).toBe(0);
      call.cancel();
      await flush();
    }
  });

  it('one timer for the probe, however many calls are pending', async () => {
    const { proxy, robot } = await world();
    const calls = Array.from({ length: 200 }, () => proxy.call('hold'));
    for (const call of calls) call.catch(() => {});
    await robot.started;
    await flush();
    expect(vi.getTimerCount()).toBe(200 + 1);
    for (const call of calls) call.cancel();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects a timeout not longer than the interval', () => {
    expect(() => new ToolProxy({ liveness: { intervalMs: 1_000, timeoutMs: 1_000 } })).toThrow(
      RangeError,
    );
  });
});

describe('the provider watches a proxy that pings', () => {
  it('stops its calls once the proxy is silent past its timeout, and answers them with an error', async () => {
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    const proxyChannel = room.join('agent', { isAgent: true, livenessProbes: true });
    await proxy.start(proxyChannel);
    cleanups.push(() => proxy.close());
    const aborted: unknown[] = [];
    const provider = new ToolProvider({
      tools: [
        defineTool({
          name: 'move',
          description: 'moves until stopped',
          input: z.object({}),
          handler: (_args, { signal }) =>
            new Promise((resolve) => {
              signal.addEventListener('abort', () => {
                aborted.push(signal.reason);
                resolve('stopped');
              });
            }),
        }),
      ],
    });
    await provider.connect(room.join('arm'));
    cleanups.push(() => provider.close());
    await flush();
    await proxy.waitForTool('move');
    void proxy.call('move').catch(() => {});
    await vi.advanceTimersByTimeAsync(1_200); // a ping: the arm now watches the proxy
    proxyChannel.crash(); // the proxy's process dies: no leave for ~20 s on LiveKit
    await vi.advanceTimersByTimeAsync(3_700);
    expect(aborted).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(aborted).toHaveLength(1);
    expect(aborted[0]).toMatchObject({
      code: 'CANCELLED',
      message: expect.stringContaining('nothing from the proxy for'),
    });
    expect(provider.runningCalls).toBe(0);
    expect(vi.getTimerCount()).toBe(1); // the proxy's own deadline for the call, in this process
  });

  it('does not watch a proxy that never pinged (a transport that reports deaths itself)', async () => {
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    const proxyChannel = room.join('agent', { isAgent: true });
    await proxy.start(proxyChannel);
    cleanups.push(() => proxy.close());
    const robot = holdingProvider();
    await robot.provider.connect(room.join('robot'));
    cleanups.push(() => robot.provider.close());
    await flush();
    await proxy.waitForTool('hold');
    void proxy.call('hold', {}, { timeoutMs: 60_000 }).catch(() => {});
    await robot.started;
    proxyChannel.crash();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(robot.aborts).toEqual([]);
  });
});

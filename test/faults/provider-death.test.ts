/**
 * A provider's connection dies mid-call, without a goodbye. On the in-memory bridge the room sees
 * it go (drop). On the WebSocket bridge, through a TCP relay: the connection reset (the bridge
 * sees the socket close, no close frame), or gone silent (nothing forwarded and nothing closed,
 * as when a cable is pulled: only pings can tell, the bridge's and, on the provider side, their
 * absence). How fast the call fails, what the
 * provider is told, and what is left.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { ToolProxy } from '../../src/index.js';
import { microtasks, observe, setup } from '../support/harness.js';
import { holdingProvider } from '../support/hold-provider.js';
import { elapsedMs, measured } from '../support/measured.js';
import { startRelay } from '../support/tcp-relay.js';
import { newBridge, providerToken, serve, waitFor } from '../support/ws-harness.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe('in-memory bridge', () => {
  it('a provider dropped mid-call: PROVIDER_GONE on the next microtasks, no time passing', async (context) => {
    vi.useFakeTimers();
    const { proxy, robot } = await setup();
    const call = observe(proxy.call('ping'));
    await microtasks();
    const clock = Date.now();
    robot.channel.drop();
    let rounds = 0;
    while (call.state() === 'pending' && rounds < 100) {
      await microtasks(1);
      rounds++;
    }
    await expect(call.promise).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
    expect(Date.now() - clock).toBe(0);
    expect(rounds).toBeLessThan(10);
    expect(proxy.tools()).toEqual([]);
    expect(proxy.pendingCalls).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(proxy.stats().notices).toEqual({ sent: 0, failed: 0 });
    await measured(context, `PROVIDER_GONE after ${rounds} microtask rounds, 0 ms; no notice`);
  });
});

describe('WebSocket bridge (real sockets, ping every 100 ms)', () => {
  const PING_MS = 100;

  /** Bridge, proxy, relay, and a provider reaching the bridge through the relay. */
  async function world() {
    const served = await serve(newBridge({ pingIntervalMs: PING_MS }));
    cleanups.push(() => served.close());
    const proxy = new ToolProxy();
    await proxy.start(served.bridge);
    cleanups.push(() => proxy.close());
    const relay = await startRelay(served.port);
    const { provider, aborts, started, registrations } = holdingProvider();
    cleanups.push(() => provider.close());
    cleanups.push(() => relay.close()); // runs first: a blackholed socket would wait out its close
    await provider.connect(
      webSocketProviderChannel({
        url: `ws://127.0.0.1:${relay.port}/bridge`,
        token: () => providerToken('robot'),
        WebSocket,
        reconnect: { initialDelayMs: 50 },
        heartbeatTimeoutMs: 3 * PING_MS,
      }),
    );
    await proxy.waitForTool('hold');
    return { served, proxy, relay, provider, aborts, started, registrations };
  }

  it('connection reset mid-call (no close frame): PROVIDER_GONE as soon as the socket closes', async (context) => {
    const { served, proxy, relay, aborts, started, registrations } = await world();
    const call = observe(proxy.call('hold'));
    await started;
    const before = registrations();
    const since = performance.now();
    relay.connections[0]?.reset();
    await expect(call.promise).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
    const gone = elapsedMs(since);
    expect(gone).toBeLessThan(1_000);
    expect(proxy.pendingCalls).toBe(0);
    // The provider saw its socket close too: its handler was stopped, and it came back.
    await waitFor(() => aborts.length === 1);
    expect(aborts[0]).toMatchObject({ code: 'CANCELLED' });
    await waitFor(() => registrations() > before && proxy.tools().length === 1);
    const back = elapsedMs(since);
    expect(served.bridge.peers().map((peer) => peer.identity)).toEqual(['robot']);
    await measured(
      context,
      `PROVIDER_GONE after ${gone} ms; provider handler aborted; reconnected and registered again after ${back} ms`,
    );
  });

  it('connection gone silent mid-call (half-open): PROVIDER_GONE within two ping intervals; the provider notices within its heartbeat, aborts and reconnects', async (context) => {
    const { served, proxy, relay, provider, aborts, started, registrations } = await world();
    const call = observe(proxy.call('hold'));
    await started;
    const before = registrations();
    const since = performance.now();
    relay.connections[0]?.blackhole();
    await expect(call.promise).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
    const gone = elapsedMs(since);
    expect(gone).toBeLessThan(2 * PING_MS + 1_000);
    expect(proxy.pendingCalls).toBe(0);
    // The provider's socket still looks open, but no ping has come for its heartbeat period.
    await waitFor(() => aborts.length === 1);
    const noticed = elapsedMs(since);
    expect(aborts[0]).toMatchObject({ code: 'CANCELLED' });
    expect(provider.runningCalls).toBe(0);
    await waitFor(() => registrations() > before && proxy.tools().length === 1);
    const back = elapsedMs(since);
    expect(served.bridge.peers().map((peer) => peer.identity)).toEqual(['robot']);
    await measured(
      context,
      `PROVIDER_GONE after ${gone} ms (ping ${PING_MS} ms); provider aborted its handler after ${noticed} ms (heartbeat ${3 * PING_MS} ms), registered again after ${back} ms`,
    );
  });

  it('a quiet but healthy connection (pinged, no frames) stays up past the heartbeat', async () => {
    const { served, relay } = await world();
    await new Promise((resolve) => setTimeout(resolve, 10 * PING_MS));
    expect(relay.connections).toHaveLength(1); // never replaced
    expect(served.bridge.peers().map((peer) => peer.identity)).toEqual(['robot']);
  });

  it('a heartbeat that is not a positive number is refused', () => {
    for (const heartbeatTimeoutMs of [0, -1, Number.NaN])
      expect(() =>
        webSocketProviderChannel({
          url: 'ws://127.0.0.1:1/bridge',
          token: 't',
          WebSocket,
          heartbeatTimeoutMs,
        }),
      ).toThrow(/heartbeatTimeoutMs/);
  });
});

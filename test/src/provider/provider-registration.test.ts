/**
 * How ToolProvider registers its tools: once per tool per connection, however the channel reports
 * the proxy and whatever hellos arrive meanwhile; a `rate-limited` refusal sent again when the
 * proxy says, by one timer per proxy and one retry at a time; other refusals left alone. And the
 * scenario this fixed: 64 tools, a reconnect within a second, all 64 registered again. In-memory
 * room on fake timers; the reconnect also over the real WebSocket bridge, waiting on events.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { InMemoryRoom } from '../../../bridge/memory.js';
import { webSocketProviderChannel } from '../../../bridge/websocket/provider.js';
import {
  defineTool,
  type ProviderEvents,
  systemTimers,
  type Timers,
  type ToolChannel,
  ToolProvider,
  type ToolProviderOptions,
  ToolProxy,
  type ToolProxyOptions,
} from '../../../src/index.js';
import { flush, spyLogger } from '../../support/util.js';
import { type JsonObject, WirePeer } from '../../support/wire-peer.js';
import { newBridge, providerToken, serve } from '../../support/ws-harness.js';

const PROVIDER = 'robot';

function tools(count: number) {
  return Array.from({ length: count }, (_, i) =>
    defineTool({ name: `t${i}`, description: `tool ${i}`, input: z.object({}), handler: () => i }),
  );
}

/** The global (fake) timers, counting the ones alive: set, and neither fired nor cleared. */
function liveTimers(): { timers: Timers; live: () => number } {
  const alive = new Set<unknown>();
  const timers: Timers = {
    now: () => systemTimers.now(),
    setTimeout: (callback, ms) => {
      const handle = systemTimers.setTimeout(() => {
        alive.delete(handle);
        callback();
      }, ms);
      alive.add(handle);
      return handle;
    },
    clearTimeout: (handle) => {
      alive.delete(handle);
      systemTimers.clearTimeout(handle);
    },
  };
  return { timers, live: () => alive.size };
}

/** A channel that counts the `client:tool-register` frames handed to it. */
function countingRegistrations(channel: ToolChannel): { channel: ToolChannel; sent: () => number } {
  let sent = 0;
  const counting: ToolChannel = {
    get identity() {
      return channel.identity;
    },
    start: (handlers) => channel.start(handlers),
    peers: () => channel.peers(),
    send: (to, text) => {
      if ((JSON.parse(text) as { type?: unknown }).type === 'client:tool-register') sent++;
      return channel.send(to, text);
    },
    close: () => channel.close(),
  };
  return { channel: counting, sent: () => sent };
}

function recordFailures(provider: ToolProvider): Array<ProviderEvents['registration-failed']> {
  const failures: Array<ProviderEvents['registration-failed']> = [];
  provider.events.on('registration-failed', (failure) => failures.push(failure));
  return failures;
}

const cleanups: Array<() => Promise<unknown>> = [];

function track<T extends { close(): Promise<unknown> }>(closable: T): T {
  cleanups.push(() => closable.close());
  return closable;
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  vi.useRealTimers();
});

/** A raw proxy peer `proxy` (it answers nothing unless told) and a provider connected after it. */
async function withWireProxy(count: number, options: Partial<ToolProviderOptions> = {}) {
  const room = new InMemoryRoom();
  const proxy = await WirePeer.join(room, 'proxy', { isAgent: true });
  const clock = liveTimers();
  const provider = track(
    new ToolProvider({ timers: clock.timers, ...options, tools: tools(count) }),
  );
  const channel = room.join(PROVIDER);
  await provider.connect(channel);
  await flush();
  const sent = () => proxy.frames('client:tool-register').map((frame) => frame.name);
  const answer = async (name: string, fields: JsonObject = { success: true }) => {
    await proxy.send({ type: 'agent:tool-registered', name, ...fields }, PROVIDER);
    await flush();
  };
  return { room, proxy, provider, channel, clock, sent, answer };
}

const DETAIL = 'over 20 registrations per second (burst 128); retry after 999 ms';

/** A `rate-limited` refusal; `detail: null` for none. */
function rateLimited(retryAfterMs: unknown, detail: string | null = DETAIL): JsonObject {
  return {
    success: false,
    reason: 'rate-limited',
    ...(detail === null ? {} : { detail }),
    ...(retryAfterMs === undefined ? {} : { retry_after_ms: retryAfterMs }),
  };
}

/** A real proxy `agent` on an in-memory room, recording the registrations `robot` sends it. */
async function withRealProxy(options: ToolProxyOptions = {}) {
  const room = new InMemoryRoom();
  const proxy = track(new ToolProxy(options));
  const toProxy: JsonObject[] = [];
  const toRobot: JsonObject[] = [];
  room.tap((from, to, text) => {
    if (from === PROVIDER) toProxy.push(JSON.parse(text) as JsonObject);
    if (to === PROVIDER) toRobot.push(JSON.parse(text) as JsonObject);
  });
  const registrations = () => toProxy.filter((frame) => frame.type === 'client:tool-register');
  return { room, proxy, toRobot, registrations };
}

function countsByName(frames: JsonObject[]): Map<unknown, number> {
  const counts = new Map<unknown, number>();
  for (const frame of frames) counts.set(frame.name, (counts.get(frame.name) ?? 0) + 1);
  return counts;
}

describe('one registration per tool per connection', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it('with a real proxy present: one client:tool-register per tool, each registered', async () => {
    const { room, proxy, registrations } = await withRealProxy();
    await proxy.start(room.join('agent', { isAgent: true }));
    const provider = track(new ToolProvider({ tools: tools(5) }));
    await provider.connect(room.join(PROVIDER));
    await flush();
    expect([...countsByName(registrations()).values()]).toEqual([1, 1, 1, 1, 1]);
    expect(proxy.tools()).toHaveLength(5);
  });

  it('a proxy starting after the provider (a join, then its hello before any answer): every tool registered, at most twice', async () => {
    const { room, proxy, registrations } = await withRealProxy();
    const provider = track(new ToolProvider({ tools: tools(5) }));
    await provider.connect(room.join(PROVIDER));
    await flush();
    await proxy.start(room.join('agent', { isAgent: true }));
    await flush();
    // The hello arrived while every registration was in flight, so it asked for each again; the
    // second one is answered as unchanged.
    for (const count of countsByName(registrations()).values())
      expect(count).toBeLessThanOrEqual(2);
    expect(proxy.tools()).toHaveLength(5);
  });

  it('registrations a hello finds unanswered are sent again (a proxy that was not listening yet lost them)', async () => {
    const { proxy, sent, answer } = await withWireProxy(3);
    await answer('t1');
    await proxy.hello(PROVIDER);
    await flush();
    expect(sent()).toEqual(['t0', 't1', 't2', 't0', 't1', 't2']);
  });

  it('a hello re-sends nothing waiting for its retry', async () => {
    const { proxy, sent } = await withWireProxy(2);
    await proxy.send(
      {
        type: 'agent:tool-registered',
        name: 't0',
        success: false,
        reason: 'rate-limited',
        detail: 'retry after 500 ms',
        retry_after_ms: 500,
      },
      PROVIDER,
    );
    await flush();
    await proxy.hello(PROVIDER);
    await flush();
    expect(sent()).toEqual(['t0', 't1', 't1']);
  });

  it('a proxy reported both present on connect and joining is registered with once', async () => {
    const { room, proxy, registrations } = await withRealProxy();
    await proxy.start(room.join('agent', { isAgent: true }));
    const channel = room.join(PROVIDER);
    const provider = track(new ToolProvider({ tools: tools(5) }));
    await provider.connect(channel);
    // The WebSocket channel reports the proxy present on connect and then as joining.
    const agent = channel.peers().find((peer) => peer.identity === 'agent');
    expect(agent).toBeDefined();
    if (agent !== undefined) channel.enqueue((handlers) => handlers.onPeerJoined(agent));
    await flush();
    expect(registrations()).toHaveLength(5);
    expect(proxy.tools()).toHaveLength(5);
  });

  it('a hello sends again every tool but one waiting for its retry', async () => {
    const { proxy, sent, answer } = await withWireProxy(4);
    await answer('t0');
    await answer('t1', { success: false, reason: 'not-allowed', detail: 'no' });
    await answer('t2', rateLimited(60_000));
    await proxy.hello(PROVIDER);
    await flush();
    // t0 registered, t1 refused and t3 unanswered go again; t2 waits for its retry.
    expect(sent()).toEqual(['t0', 't1', 't2', 't3', 't0', 't1', 't3']);
  });

  it('the proxy leaving and joining again, and a resumed connection, start over', async () => {
    const { room, proxy, channel } = await withWireProxy(3);
    expect(proxy.frames('client:tool-register')).toHaveLength(3);
    await proxy.channel.close();
    await flush();
    const again = await WirePeer.join(room, 'proxy', { isAgent: true });
    await flush();
    expect(again.frames('client:tool-register').map((frame) => frame.name)).toEqual([
      't0',
      't1',
      't2',
    ]);
    again.clear();
    channel.resume(); // frames may have been lost meanwhile: everything again, once
    await flush();
    expect(again.frames('client:tool-register').map((frame) => frame.name)).toEqual([
      't0',
      't1',
      't2',
    ]);
  });
});

describe('rate-limited registrations', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it('are sent again at retry_after_ms, not before, until registered', async () => {
    const { sent, answer, clock } = await withWireProxy(1);
    await answer('t0', rateLimited(250)); // the field wins over the 999 ms of the detail
    await vi.advanceTimersByTimeAsync(249);
    expect(sent()).toEqual(['t0']);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent()).toEqual(['t0', 't0']);

    await answer('t0', rateLimited(100));
    await vi.advanceTimersByTimeAsync(99);
    expect(sent()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent()).toHaveLength(3);

    await answer('t0');
    expect(clock.live()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent()).toHaveLength(3);
  });

  it.each([
    [
      'the "retry after N ms" of the detail, without the field',
      undefined,
      'retry after 120 ms',
      120,
    ],
    ['1 s, with neither', undefined, null, 1_000],
    ['the detail, when the field is malformed', 'soon', 'retry after 80 ms', 80],
    ['the detail, when the field is negative', -5, 'retry after 80 ms', 80],
    ['a whole ms, rounded up', 12.2, null, 13],
  ])('wait %s', async (_what, field, detail, ms) => {
    const { sent, answer } = await withWireProxy(1);
    await answer('t0', rateLimited(field, detail));
    await vi.advanceTimersByTimeAsync(ms - 1);
    expect(sent()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent()).toHaveLength(2);
  });

  it('other refusals are not retried, and are warned about; retried ones say when', async () => {
    const logger = spyLogger();
    const { provider, sent, answer, clock } = await withWireProxy(3, { logger });
    const failures = recordFailures(provider);
    await answer('t0', { success: false, reason: 'not-allowed', detail: 'policy' });
    await answer('t1', { success: false, reason: 'schema-invalid', detail: 'bad' });
    await answer('t2', rateLimited(40));
    expect(failures).toEqual([
      { proxy: 'proxy', name: 't0', reason: 'not-allowed', detail: 'policy' },
      { proxy: 'proxy', name: 't1', reason: 'schema-invalid', detail: 'bad' },
      { proxy: 'proxy', name: 't2', reason: 'rate-limited', detail: DETAIL, retryAfterMs: 40 },
    ]);
    expect(failures[0]).toHaveProperty('retryAfterMs', undefined);
    expect(logger.warn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(40);
    await answer('t2');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sent()).toEqual(['t0', 't1', 't2', 't2']);
    expect(clock.live()).toBe(0);
  });

  it('several refused: one timer, one retry at a time, the next as soon as one is admitted', async () => {
    const { sent, answer, clock } = await withWireProxy(4);
    for (const name of ['t0', 't1', 't2', 't3']) await answer(name, rateLimited(50));
    expect(clock.live()).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(49);
    expect(sent()).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent().slice(4)).toEqual(['t0']); // one, not all four

    await answer('t0'); // admitted: the next goes at once
    expect(sent().slice(4)).toEqual(['t0', 't1']);
    await answer('t1', rateLimited(30)); // refused: the next waits the time given
    await vi.advanceTimersByTimeAsync(29);
    expect(sent().slice(4)).toEqual(['t0', 't1']);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent().slice(4)).toEqual(['t0', 't1', 't1']);
    await answer('t1');
    await answer('t2');
    await answer('t3');
    expect(sent().slice(4)).toEqual(['t0', 't1', 't1', 't2', 't3']);
    expect(clock.live()).toBe(0);
  });

  it('a retry left unanswered is presumed lost and sent again after 5 s', async () => {
    const { sent, answer, clock } = await withWireProxy(2);
    await answer('t0', rateLimited(50));
    await answer('t1', rateLimited(50));
    await vi.advanceTimersByTimeAsync(50);
    expect(sent().slice(2)).toEqual(['t0']);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(sent().slice(2)).toEqual(['t0']);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent().slice(2)).toEqual(['t0', 't0']); // t0 first again: the lost one keeps its turn
    await answer('t0');
    expect(sent().slice(2)).toEqual(['t0', 't0', 't1']);
    await answer('t0', rateLimited(50)); // the late answer to the duplicate: t0 stays registered
    await answer('t1');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent().slice(2)).toEqual(['t0', 't0', 't1']);
    expect(clock.live()).toBe(0);
  });

  it.each(['close()', 'the proxy leaving', 'the connection dropping'])(
    'the retry timer goes with %s',
    async (how) => {
      const { provider, proxy, channel, answer, clock } = await withWireProxy(2);
      const send = vi.spyOn(channel, 'send');
      await answer('t0', rateLimited(50));
      await answer('t1', rateLimited(50));
      expect(clock.live()).toBe(1);
      if (how === 'close()') await provider.close();
      else if (how === 'the proxy leaving') await proxy.channel.close();
      else channel.drop();
      await flush();
      expect(clock.live()).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      // close() withdraws the tools (one empty replace batch); nothing is retried after it.
      const withdrawals = how === 'close()' ? 1 : 0;
      expect(send).toHaveBeenCalledTimes(withdrawals);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(send).toHaveBeenCalledTimes(withdrawals);
    },
  );
});

describe('a provider with 64 tools reconnecting within a second keeps them all', () => {
  describe('in-memory room, fake timers', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });

    async function reconnectWithin500ms(options: ToolProxyOptions) {
      const { room, proxy, registrations } = await withRealProxy(options);
      await proxy.start(room.join('agent', { isAgent: true }));
      const clock = liveTimers();
      const provider = track(new ToolProvider({ tools: tools(64), timers: clock.timers }));
      const failures = recordFailures(provider);
      const first = room.join(PROVIDER);
      await provider.connect(first);
      await flush();
      expect(proxy.tools()).toHaveLength(64);
      const before = registrations().length;
      const refusedBefore = failures.length;

      first.drop();
      await provider.close();
      await flush();
      expect(proxy.tools()).toEqual([]);
      await vi.advanceTimersByTimeAsync(500);
      await provider.connect(room.join(PROVIDER));
      await vi.advanceTimersByTimeAsync(10_000);
      expect(proxy.tools()).toHaveLength(64);
      expect(clock.live()).toBe(0);
      return {
        sent: registrations().length - before,
        refused: failures.slice(refusedBefore),
      };
    }

    it('default limits: 64 registrations, none refused', async () => {
      const { sent, refused } = await reconnectWithin500ms({});
      expect(sent).toBe(64);
      expect(refused).toEqual([]);
    });

    it('a budget too small for both: the refused are retried, one at a time, until registered', async () => {
      // 64 spent of 100; 10 refilled in 500 ms: 46 admitted on reconnect, 18 refused.
      const { sent, refused } = await reconnectWithin500ms({ registrationBurst: 100 });
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((failure) => failure.reason === 'rate-limited')).toBe(true);
      expect(refused.every((failure) => failure.retryAfterMs === 50)).toBe(true);
      const refusedAtConnect = new Set(refused.map((failure) => failure.name)).size;
      expect(refusedAtConnect).toBe(18);
      // Each retry admitted costs at most one refused on the way: no storm of refusals.
      expect(sent).toBeLessThanOrEqual(64 + 2 * refusedAtConnect);
    });
  });

  describe('over the real WebSocket bridge', () => {
    /** Resolves once `condition` holds, checked on each of the proxy's registry events. */
    function whenTools(proxy: ToolProxy, condition: (count: number) => boolean): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          if (!condition(proxy.tools().length)) return;
          for (const off of offs) off();
          resolve();
        };
        const offs = [
          proxy.hooks.on('tool:registered', check),
          proxy.hooks.on('tool:unregistered', check),
        ];
        check();
      });
    }

    async function reconnect(options: ToolProxyOptions) {
      const served = await serve(newBridge());
      track(served);
      const proxy = track(new ToolProxy(options));
      await proxy.start(served.bridge);
      const provider = track(new ToolProvider({ tools: tools(64) }));
      const failures = recordFailures(provider);
      const { channel, sent } = countingRegistrations(
        webSocketProviderChannel({
          url: served.url,
          token: () => providerToken(PROVIDER),
          WebSocket,
          reconnect: { initialDelayMs: 20 }, // back within a second, with the budget still spent
        }),
      );
      await provider.connect(channel);
      await whenTools(proxy, (count) => count === 64);
      const first = { sent: sent(), refused: failures.length };

      const gone = whenTools(proxy, (count) => count === 0);
      served.upgrades.at(-1)?.destroy(); // the server's end of the connection, no close frame
      await gone;
      await whenTools(proxy, (count) => count === 64);
      expect(served.upgrades).toHaveLength(2);
      return {
        first,
        second: { sent: sent() - first.sent, refused: failures.slice(first.refused) },
      };
    }

    it('default limits: one registration per tool per connection, all 64 back', async () => {
      const { first, second } = await reconnect({});
      expect(first).toEqual({ sent: 64, refused: 0 });
      expect(second).toEqual({ sent: 64, refused: [] });
    });

    // Real time: a few seconds of retries at 30 a second. The reconnect comes back to a budget all
    // but spent, so 64 registrations meet refusals unless the proxy took over 2 s to read them.
    it('a budget smaller than the tool set: the refused are retried until all 64 are back', async () => {
      const { second } = await reconnect({ registrationsPerSecond: 30, registrationBurst: 40 });
      expect(second.refused.length).toBeGreaterThan(0);
      expect(second.refused.every((failure) => failure.reason === 'rate-limited')).toBe(true);
      expect(second.refused.every((failure) => (failure.retryAfterMs ?? 0) > 0)).toBe(true);
    }, 30_000);
  });
});

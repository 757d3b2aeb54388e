/**
 * A call that reaches its provider later than the proxy vouched for it (`stale_after_ms`) is
 * answered CALL_STALE and never run (PROTOCOL.md section 3.5). The provider dates frames by the
 * proxy's `sent_at_ms` through a min-offset estimate of the proxy's clock, so skew either way does
 * not matter; unstamped frames (older proxies) are fresh. Fake timers throughout: the provider's
 * clock is the fake `Date.now()`, the proxy's is that plus a skew.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../bridge/memory.js';
import { defineTool, type ProviderEvents, ToolProvider, ToolProxy } from '../../../src/index.js';
import { CLOCK_SAMPLES, ProxyClock } from '../../../src/provider/proxy-clock.js';
import type { Timers } from '../../../src/shared/timers.js';
import { flush } from '../../support/util.js';
import { type JsonObject, WirePeer, startProxy } from '../../support/wire-peer.js';
import { newBridge, openClient, providerToken, serve, waitFor } from '../../support/ws-harness.js';

const PROVIDER = 'robot';
const HOUR = 3_600_000;

const cleanups: Array<() => Promise<void>> = [];
beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_800_000_000_000);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.useRealTimers();
});

describe('ProxyClock (min-offset estimate)', () => {
  for (const skew of [HOUR, -HOUR, 0]) {
    it(`dates frames by the quickest one seen, whatever the skew (${skew} ms)`, () => {
      const clock = new ProxyClock(() => Date.now());
      const proxyNow = () => Date.now() + skew;
      // 20 ms, then 5 ms on the way: the quicker one sets the offset.
      expect(clock.observe('p', proxyNow() - 20)).toBe(0);
      expect(clock.observe('p', proxyNow() - 5)).toBe(0);
      expect(clock.observe('p', proxyNow() - 20)).toBe(15);
      vi.advanceTimersByTime(60_000); // time passing on both clocks changes nothing
      expect(clock.observe('p', proxyNow() - 8_005)).toBe(8_000);
      expect(clock.observe('p', proxyNow() - 5)).toBe(0);
    });
  }

  it('an unstamped frame has no age, and teaches nothing', () => {
    const clock = new ProxyClock(() => Date.now());
    expect(clock.observe('p', undefined)).toBeUndefined();
    expect(clock.size).toBe(0);
    expect(clock.observe('p', Date.now() - 100)).toBe(0);
  });

  it('each proxy has its own clock, forgotten when it leaves', () => {
    const clock = new ProxyClock(() => Date.now());
    clock.observe('a', Date.now() + HOUR);
    expect(clock.observe('b', Date.now() - HOUR)).toBe(0);
    expect(clock.size).toBe(2);
    clock.forget('a');
    expect(clock.size).toBe(1);
    expect(clock.observe('a', Date.now() - 10)).toBe(0);
  });

  it(`follows a clock stepped back after ${CLOCK_SAMPLES} stamped frames`, () => {
    const clock = new ProxyClock(() => Date.now());
    clock.observe('p', Date.now());
    const stepped = () => Date.now() - 10_000; // the proxy's clock went back 10 s
    expect(clock.observe('p', stepped())).toBe(10_000);
    for (let i = 2; i < CLOCK_SAMPLES; i++) clock.observe('p', stepped());
    expect(clock.observe('p', stepped())).toBe(0);
  });
});

/** A tool that counts its runs: the side effect a stale call must not have. */
function countingTool() {
  let runs = 0;
  const tool = defineTool({
    name: 'move',
    description: 'moves the arm',
    input: z.object({}),
    handler: () => {
      runs++;
      return { moved: true };
    },
  });
  return { tool, runs: () => runs };
}

/** A raw proxy peer whose clock is the provider's plus `skew`, and a provider with `move`. */
async function world(skew: number) {
  const room = new InMemoryRoom();
  const peer = await WirePeer.join(room, 'proxy', { isAgent: true });
  const { tool, runs } = countingTool();
  const provider = new ToolProvider({ tools: [tool] });
  cleanups.push(() => provider.close());
  const stale: Array<ProviderEvents['call:stale']> = [];
  provider.events.on('call:stale', (event) => stale.push(event));
  await provider.connect(room.join(PROVIDER));
  await flush();
  const proxyNow = () => Date.now() + skew;
  /** A frame sent `lateMs` ago on the proxy's clock, arriving now. */
  const send = async (frame: JsonObject) => {
    await peer.send(frame, PROVIDER);
    await flush();
  };
  const call = (callId: string, extra: JsonObject) =>
    send({ type: 'agent:tool-call', call_id: callId, name: 'move', arguments: {}, ...extra });
  const results = () => peer.frames('client:tool-result');
  return { peer, provider, runs, stale, proxyNow, send, call, results };
}

describe('ToolProvider: stale calls are answered CALL_STALE, not run', () => {
  for (const skew of [HOUR, -HOUR]) {
    it(`a call 5 s late against a 4 s window is refused; 3 s late runs (proxy clock ${skew > 0 ? 'ahead' : 'behind'} by an hour)`, async () => {
      const w = await world(skew);
      await w.send({ type: 'agent:ping', timeout_ms: 4_000, sent_at_ms: w.proxyNow() - 2 });
      await w.call('late', {
        sent_at_ms: w.proxyNow() - 5_002,
        stale_after_ms: 4_000,
        timeout_ms: 30_000,
      });
      expect(w.runs()).toBe(0);
      expect(w.results()).toEqual([
        {
          type: 'client:tool-result',
          call_id: 'late',
          error: { code: 'CALL_STALE', message: expect.stringMatching(/did not run.*5000 ms/) },
        },
      ]);
      expect(w.stale).toEqual([
        {
          proxy: 'proxy',
          callId: 'late',
          name: 'move',
          ageMs: 5_000,
          staleAfterMs: 4_000,
          remainingMs: 25_000,
        },
      ]);

      await w.call('fresh', { sent_at_ms: w.proxyNow() - 3_002, stale_after_ms: 4_000 });
      expect(w.runs()).toBe(1);
      expect(w.results().at(-1)).toEqual({
        type: 'client:tool-result',
        call_id: 'fresh',
        result: { moved: true },
      });
      expect(w.stale).toHaveLength(1);
    });
  }

  it('the boundary: exactly stale_after_ms late runs, one ms more does not', async () => {
    const w = await world(123_456);
    await w.send({
      type: 'agent:hello',
      protocol_version: 1,
      default_timeout_ms: 30_000,
      max_tool_timeout_ms: 120_000,
      sent_at_ms: w.proxyNow(),
    });
    await w.call('at', { sent_at_ms: w.proxyNow() - 4_000, stale_after_ms: 4_000 });
    expect(w.runs()).toBe(1);
    await w.call('past', { sent_at_ms: w.proxyNow() - 4_001, stale_after_ms: 4_000 });
    expect(w.runs()).toBe(1);
    expect(w.stale.map((event) => [event.callId, event.ageMs])).toEqual([['past', 4_001]]);
    // No deadline carried: nothing to say of what was left of it.
    expect(w.stale[0]?.remainingMs).toBeUndefined();
  });

  it('a stamped agent:tool-registered teaches the clock too', async () => {
    const w = await world(-7_000);
    const at = w.proxyNow();
    await w.send({ type: 'agent:tool-registered', name: 'move', success: true, sent_at_ms: at });
    await w.call('late', { sent_at_ms: at - 9_000, stale_after_ms: 4_000 });
    expect(w.runs()).toBe(0);
    expect(w.stale).toHaveLength(1);
  });

  it('a repeated stale call frame is neither run nor answered twice', async () => {
    const w = await world(0);
    await w.send({ type: 'agent:ping', timeout_ms: 4_000, sent_at_ms: w.proxyNow() });
    const late = { sent_at_ms: w.proxyNow() - 6_000, stale_after_ms: 4_000 };
    await w.call('late', late);
    await w.call('late', late);
    expect(w.runs()).toBe(0);
    expect(w.results()).toHaveLength(1);
    expect(w.stale).toHaveLength(1);
  });

  describe('frames without the fields are fresh (older proxies, hermes-livekit v0.3)', () => {
    it('no sent_at_ms: runs, however late it may be', async () => {
      const w = await world(0);
      await w.send({ type: 'agent:ping', timeout_ms: 4_000, sent_at_ms: w.proxyNow() });
      await w.call('unstamped', { stale_after_ms: 4_000 });
      expect(w.runs()).toBe(1);
    });

    it('no stale_after_ms: runs even an hour late', async () => {
      const w = await world(0);
      await w.send({ type: 'agent:ping', timeout_ms: 4_000, sent_at_ms: w.proxyNow() });
      await w.call('old', { sent_at_ms: w.proxyNow() - HOUR });
      expect(w.runs()).toBe(1);
    });

    it('the first stamped frame from a proxy is its own reference: it runs', async () => {
      const w = await world(-HOUR);
      await w.call('first', { sent_at_ms: w.proxyNow() - 60_000, stale_after_ms: 4_000 });
      expect(w.runs()).toBe(1);
    });

    it('values that are not times are dropped, not the frame: the call runs', async () => {
      const w = await world(0);
      await w.send({ type: 'agent:ping', timeout_ms: 4_000, sent_at_ms: w.proxyNow() });
      for (const [n, fields] of [
        { sent_at_ms: 'yesterday', stale_after_ms: 4_000 },
        { sent_at_ms: -5, stale_after_ms: 4_000 },
        { sent_at_ms: w.proxyNow() - HOUR, stale_after_ms: 0 },
        { sent_at_ms: w.proxyNow() - HOUR, stale_after_ms: 'soon' },
        { sent_at_ms: null, stale_after_ms: null },
      ].entries())
        await w.call(`odd-${n}`, fields);
      expect(w.runs()).toBe(5);
      expect(w.stale).toEqual([]);
    });

    it('a v0.3-shaped call (no toolproxy fields at all) runs', async () => {
      const w = await world(0);
      await w.peer.call(PROVIDER, 'v03', 'move');
      await flush();
      expect(w.runs()).toBe(1);
    });
  });
});

describe('ToolProxy: what its frames carry', () => {
  async function proxyWorld(options: Parameters<typeof startProxy>[0] = {}) {
    const { room, proxy } = await startProxy(options);
    cleanups.push(() => proxy.close());
    const robot = await WirePeer.join(room, PROVIDER);
    await robot.register('move');
    await flush();
    return { room, proxy, robot };
  }

  it('stamps agent:tool-registered and agent:tool-call with its clock; the call gets the 4 s window', async () => {
    const { proxy, robot } = await proxyWorld();
    expect(robot.frames('agent:tool-registered')).toEqual([
      { type: 'agent:tool-registered', name: 'move', success: true, sent_at_ms: Date.now() },
    ]);
    vi.advanceTimersByTime(1_234);
    void proxy.call('move').catch(() => {});
    await flush();
    expect(robot.frames('agent:tool-call').at(-1)).toMatchObject({
      sent_at_ms: Date.now(),
      stale_after_ms: 4_000,
    });
  });

  it('staleCallMs sets the window, false leaves it out, and nonsense is refused', async () => {
    const narrow = await proxyWorld({ staleCallMs: 1_500.2 });
    void narrow.proxy.call('move').catch(() => {});
    await flush();
    expect(narrow.robot.lastCall().stale_after_ms).toBe(1_501);

    const none = await proxyWorld({ staleCallMs: false });
    void none.proxy.call('move').catch(() => {});
    await flush();
    expect(none.robot.frames('agent:tool-call').at(-1)).not.toHaveProperty('stale_after_ms');
    expect(none.robot.lastCall().sent_at_ms).toBe(Date.now());

    const probed = await proxyWorld({ liveness: { timeoutMs: 2_500 } });
    void probed.proxy.call('move').catch(() => {});
    await flush();
    expect(probed.robot.lastCall().stale_after_ms).toBe(2_500);

    for (const staleCallMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      await expect(proxyWorld({ staleCallMs })).rejects.toThrow(/staleCallMs/);
  });

  it('with a liveness probe, a call to a provider already silent gets only the silence it has left', async () => {
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    cleanups.push(() => proxy.close());
    await proxy.start(room.join('agent', { isAgent: true, livenessProbes: true }));
    const robot = await WirePeer.join(room, PROVIDER);
    await robot.register('move');
    await flush();
    const first = proxy.call('move');
    first.catch(() => {});
    await flush();
    // Answers the first ping, so it is one the probe may give up; then goes silent.
    vi.advanceTimersByTime(1_000);
    await flush();
    expect(robot.frames('agent:ping')).toEqual([
      { type: 'agent:ping', timeout_ms: 4_000, sent_at_ms: Date.now() },
    ]);
    await robot.send({ type: 'client:pong' });
    vi.advanceTimersByTime(2_700);
    await flush();
    const second = proxy.call('move');
    second.catch(() => {});
    await flush();
    expect(robot.lastCall().stale_after_ms).toBe(1_300);
    // And it was right: the provider is given up 1.3 s after, with both calls.
    vi.advanceTimersByTime(1_300);
    await flush();
    await expect(second).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
  });

  it('a CALL_STALE answer to a call still pending rejects with CALL_STALE: the tool did not run', async () => {
    const { proxy, robot } = await proxyWorld();
    const call = proxy.call('move');
    await flush();
    await robot.send({
      type: 'client:tool-result',
      call_id: robot.callId(),
      error: { code: 'CALL_STALE', message: 'reached the provider 9000 ms late' },
    });
    await expect(call).rejects.toMatchObject({
      code: 'CALL_STALE',
      detail: 'reached the provider 9000 ms late',
      message: expect.stringMatching(/did not run.*call the tool again if/),
    });
  });
});

describe('WebSocket bridge: a provider already silent gets only the silence it has left', () => {
  beforeEach(() => {
    vi.useRealTimers();
  });

  it('stale_after_ms shrinks as an unanswered ping runs out, and the drop comes when it says', async () => {
    const PING = 700; // not 1,000: the bridge's close grace uses that
    let now = 0;
    const rounds: Array<() => void> = [];
    const timers: Timers = {
      now: () => now,
      setTimeout: (callback, ms) => (ms === PING ? rounds.push(callback) : 0),
      clearTimeout: () => {},
    };
    /** The bridge's next ping round, `PING` ms after the previous one. */
    const round = () => {
      now = rounds.length * PING;
      rounds.shift()?.();
    };
    const served = await serve(newBridge({ pingIntervalMs: PING, timers }));
    cleanups.push(() => served.close());
    const proxy = new ToolProxy();
    cleanups.push(() => proxy.close());
    await proxy.start(served.bridge);
    // A provider process that reads nothing more (stopped): it does not answer pings.
    const opened = await openClient(`${served.url}?token=${await providerToken(PROVIDER)}`, [], {
      autoPong: false,
    });
    if (!opened.ok) throw new Error(opened.error);
    const socket = opened.socket;
    cleanups.push(async () => {
      socket.terminate();
      await Promise.resolve();
    });
    const calls: JsonObject[] = [];
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as JsonObject;
      if (frame.type === 'agent:tool-call') calls.push(frame);
    });
    socket.send(
      JSON.stringify({
        type: 'client:tool-register',
        name: 'move',
        input_schema: { type: 'object' },
      }),
    );
    await proxy.waitForTool('move');
    const callAt = async (at: number) => {
      now = at;
      const call = proxy.call('move');
      call.catch(() => {});
      await waitFor(() => calls.length > 0);
      return { call, frame: calls.splice(0)[0] };
    };

    // Heard, no ping missed yet: dropped at the round after next, at 1,400.
    expect((await callAt(400)).frame).toMatchObject({ stale_after_ms: 1_000 });
    round(); // 700: pinged; no answer comes
    const late = await callAt(1_200);
    // Without the bridge's word the call would look good for 4 s; it has 200 ms.
    expect(late.frame).toMatchObject({ stale_after_ms: 200 });
    round(); // 1,400: no answer to the ping: dropped
    await expect(late.call).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
    expect(served.bridge.silenceLeftMs(PROVIDER)).toBeUndefined();
  });
});

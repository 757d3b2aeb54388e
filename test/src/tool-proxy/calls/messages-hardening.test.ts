/**
 * Messages that must say what is true (issue 15, finding 5): arguments that can never be sent are
 * not "try again shortly"; a provider that could not be told to stop is not said to have been; and
 * a flood of spoofed results is not a flood of log lines.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRoom } from '../../../../bridge/memory.js';
import { LogThrottle } from '../../../../src/shared/log-throttle.js';
import { type ChannelHandlers, type ToolChannel, ToolProxy } from '../../../../src/index.js';
import { flush, spyLogger } from '../../../support/util.js';
import { WirePeer } from '../../../support/wire-peer.js';

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  vi.useRealTimers();
});

async function started(room: InMemoryRoom, proxy: ToolProxy, channel?: ToolChannel) {
  cleanups.push(() => proxy.close());
  await proxy.start(channel ?? room.join('agent', { isAgent: true }));
  const robot = await WirePeer.join(room, 'robot');
  await robot.register('store');
  await flush();
  return robot;
}

describe('ARGUMENTS_UNSENDABLE: arguments that can never be sent', () => {
  it('a call frame over the transport maximum: ARGUMENTS_UNSENDABLE, asking for smaller arguments, not a retry', async () => {
    const room = new InMemoryRoom({ maxFrameBytes: 2_000 });
    const proxy = new ToolProxy();
    const robot = await started(room, proxy);
    const call = proxy.call('store', { text: 'x'.repeat(3_000) });
    await expect(call).rejects.toMatchObject({
      code: 'ARGUMENTS_UNSENDABLE',
      tool: 'store',
      message: expect.stringContaining('smaller or simpler arguments'),
    });
    await expect(call).rejects.toMatchObject({
      message: expect.not.stringContaining('Try again shortly'),
    });
    await expect(call).rejects.toMatchObject({
      message: expect.stringMatching(/is \d+ bytes; the transport carries at most 2000/),
    });
    expect(robot.frames('agent:tool-call')).toEqual([]);
    expect(proxy.stats().calls.settled['send-failed']).toBe(1);
    // Small enough arguments to the same tool go through.
    const small = proxy.call('store', { text: 'x' });
    await flush();
    await robot.result(robot.callId(), 'stored');
    await expect(small).resolves.toBe('stored');
  });

  it('arguments nested too deeply to encode: ARGUMENTS_UNSENDABLE, not a crash', async () => {
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    const robot = await started(room, proxy);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 200_000; i++) deep = { d: deep };
    await expect(proxy.call('store', deep)).rejects.toMatchObject({
      code: 'ARGUMENTS_UNSENDABLE',
      message: expect.stringContaining('nested too deeply'),
    });
    expect(robot.frames('agent:tool-call')).toEqual([]);
    expect(proxy.pendingCalls).toBe(0);
  });

  it('a transport that could not take the frame for now stays SEND_FAILED: try again shortly', async () => {
    const room = new InMemoryRoom();
    const inner = room.join('agent', { isAgent: true });
    const busy: ToolChannel = {
      identity: inner.identity,
      start: (handlers) => inner.start(handlers),
      peers: () => inner.peers(),
      send: (to, text) =>
        text.includes('"agent:tool-call"')
          ? Promise.reject(new Error('data channel full'))
          : inner.send(to, text),
      close: () => inner.close(),
    };
    const proxy = new ToolProxy();
    await started(room, proxy, busy);
    await expect(proxy.call('store', {})).rejects.toMatchObject({
      code: 'SEND_FAILED',
      message: expect.stringContaining('Try again shortly'),
    });
  });
});

/**
 * The agent's channel, but a provider named `ghost` is never reported present (as when a
 * transport delivers a participant's frames before its join): calls reach it, notices cannot.
 */
function withGhost(room: InMemoryRoom): ToolChannel {
  const inner = room.join('agent', { isAgent: true });
  return {
    identity: inner.identity,
    start: (handlers: ChannelHandlers) =>
      inner.start({
        ...handlers,
        onPeerJoined: (peer) => {
          if (peer.identity !== 'ghost') handlers.onPeerJoined(peer);
        },
      }),
    peers: () => inner.peers().filter((peer) => peer.identity !== 'ghost'),
    send: (to, text) => inner.send(to, text),
    close: () => inner.close(),
  };
}

describe('cancellation messages say whether the provider was told to stop', () => {
  it('at shutdown: told to stop when it is connected, "could not be told to stop" when not', async () => {
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    const robot = await started(room, proxy, withGhost(room));
    const ghost = await WirePeer.join(room, 'ghost');
    await ghost.register('haunt');
    await flush();
    const reached = proxy.call('store', {});
    const unreached = proxy.call('haunt', {});
    await flush();
    expect(ghost.frames('agent:tool-call')).toHaveLength(1);
    await proxy.close();
    await expect(reached).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'proxy-shutting-down',
      message: expect.stringContaining('The provider was told to stop.'),
    });
    await expect(unreached).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'proxy-shutting-down',
      message: expect.stringContaining('The provider could not be told to stop'),
    });
    await expect(unreached).rejects.toMatchObject({
      message: expect.not.stringContaining('was told to stop'),
    });
    expect(robot.frames('agent:tool-call-cancelled')).toHaveLength(1);
    expect(ghost.frames('agent:tool-call-cancelled')).toEqual([]);
  });

  it('a session stop words each call by whether its provider could be told (one error per kind)', async () => {
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    await started(room, proxy, withGhost(room));
    const ghost = await WirePeer.join(room, 'ghost');
    await ghost.register('haunt');
    await flush();
    const calls = [proxy.call('store', {}), proxy.call('haunt', {}), proxy.call('haunt', {})];
    await flush();
    expect(proxy.cancelSession(undefined, 'agent-loop-stopped', 'Stop requested')).toBe(3);
    const errors = await Promise.all(calls.map((call) => call.catch((error: unknown) => error)));
    expect(errors[0]).toMatchObject({ message: expect.stringContaining('was told to stop') });
    expect(errors[1]).toMatchObject({
      reason: 'agent-loop-stopped',
      detail: 'Stop requested',
      message: expect.stringContaining('could not be told to stop'),
    });
    expect(errors[2]).toBe(errors[1]);
  });
});

describe('spoofed, late and duplicate results: one log line per sender per 10 s', () => {
  it('a flood of spoofed results logs once per window, then says how many were suppressed', async () => {
    vi.useFakeTimers();
    const logger = spyLogger();
    const room = new InMemoryRoom();
    const proxy = new ToolProxy({ logger });
    const robot = await started(room, proxy);
    const mallory = await WirePeer.join(room, 'mallory');
    const eve = await WirePeer.join(room, 'eve');
    const call = proxy.call('store', {});
    await flush();
    const forged = { type: 'client:tool-result', call_id: robot.callId(), result: 'forged' };
    const spoofWarnings = (): unknown[][] =>
      logger.warn.mock.calls.filter(
        (entry) => entry[1] === 'result from a participant the call was not sent to: dropped',
      );
    for (let i = 0; i < 50; i++) await mallory.send(forged);
    await eve.send(forged);
    await flush();
    expect(proxy.stats().results.spoofed).toBe(51); // every one is still counted
    expect(spoofWarnings().map((entry): unknown => entry[0])).toEqual([
      { callId: robot.callId(), sender: 'mallory' },
      { callId: robot.callId(), sender: 'eve' },
    ]);
    await vi.advanceTimersByTimeAsync(5_000);
    await mallory.send(forged);
    await flush();
    expect(spoofWarnings()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5_000);
    await mallory.send(forged);
    await flush();
    expect(spoofWarnings()).toHaveLength(3);
    expect(spoofWarnings()[2]?.[0]).toEqual({
      callId: robot.callId(),
      sender: 'mallory',
      suppressed: 50,
      suppressedWindowMs: 10_000,
    });
    await robot.result(robot.callId(), 'genuine');
    await expect(call).resolves.toBe('genuine');
  });

  it('late and duplicate results are throttled the same way (debug lines)', async () => {
    vi.useFakeTimers();
    const logger = spyLogger();
    const room = new InMemoryRoom();
    const proxy = new ToolProxy({ logger });
    const robot = await started(room, proxy);
    const call = proxy.call('store', {});
    await flush();
    const callId = robot.callId();
    await robot.result(callId, 'once');
    await expect(call).resolves.toBe('once');
    for (let i = 0; i < 20; i++) await robot.result(callId, 'again');
    await flush();
    expect(proxy.stats().results.duplicate).toBe(20);
    const duplicates = logger.debug.mock.calls.filter(
      (entry) => entry[1] === 'duplicate result: dropped',
    );
    expect(duplicates).toHaveLength(1);
  });
});

describe('LogThrottle', () => {
  it('admits one per key per window and reports the suppressed count when the next window opens', () => {
    let now = 0;
    const throttle = new LogThrottle(() => now, { windowMs: 10_000 });
    expect(throttle.admit('a')).toEqual({ suppressed: 0 });
    for (let i = 0; i < 5; i++) expect(throttle.admit('a')).toBeUndefined();
    expect(throttle.admit('b')).toEqual({ suppressed: 0 });
    now = 9_999;
    expect(throttle.admit('a')).toBeUndefined();
    now = 10_000;
    expect(throttle.admit('a')).toEqual({ suppressed: 6 });
    expect(throttle.admit('a')).toBeUndefined();
    now = 30_000;
    expect(throttle.admit('a')).toEqual({ suppressed: 1 });
    expect(throttle.admit('b')).toEqual({ suppressed: 0 });
  });

  it('remembers at most maxKeys keys, dropping closed windows first, then the oldest', () => {
    let now = 0;
    const throttle = new LogThrottle(() => now, { windowMs: 100, maxKeys: 3 });
    throttle.admit('old');
    now = 200;
    for (const key of ['a', 'b', 'c']) throttle.admit(key);
    expect(throttle.size).toBe(3);
    for (let i = 0; i < 1_000; i++) throttle.admit(`k${i}`);
    expect(throttle.size).toBe(3);
  });
});

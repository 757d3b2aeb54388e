import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../bridge/memory.js';
import { defineTool, HookBus, ToolProvider, ToolProxy } from '../../../src/index.js';
import { flush, spyLogger } from '../../support/util.js';
import { WirePeer } from '../../support/wire-peer.js';

interface TestEvents {
  ping: { n: number };
  pong: { text: string };
}

describe('HookBus', () => {
  it('gives every handler the payload, in subscription order', () => {
    const bus = new HookBus<TestEvents>();
    const seen: string[] = [];
    bus.on('ping', ({ n }) => seen.push(`first ${n}`));
    bus.on('ping', ({ n }) => seen.push(`second ${n}`));
    bus.on('pong', ({ text }) => seen.push(`pong ${text}`));
    bus.on('ping', ({ n }) => seen.push(`third ${n}`));

    bus.emit('ping', { n: 1 });
    bus.emit('pong', { text: 'x' });
    bus.emit('ping', { n: 2 });

    expect(seen).toEqual([
      'first 1',
      'second 1',
      'third 1',
      'pong x',
      'first 2',
      'second 2',
      'third 2',
    ]);
  });

  it('passes the very payload object emitted', () => {
    const bus = new HookBus<TestEvents>();
    const handler = vi.fn();
    bus.on('ping', handler);
    const payload = { n: 7 };

    bus.emit('ping', payload);

    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler.mock.calls[0]?.[0]).toBe(payload);
  });

  it('returns an unsubscribe that stops delivery', () => {
    const bus = new HookBus<TestEvents>();
    const kept = vi.fn();
    const removed = vi.fn();
    bus.on('ping', kept);
    const off = bus.on('ping', removed);

    bus.emit('ping', { n: 1 });
    off();
    bus.emit('ping', { n: 2 });

    expect(removed).toHaveBeenCalledTimes(1);
    expect(removed).toHaveBeenCalledWith({ n: 1 });
    expect(kept).toHaveBeenCalledTimes(2);
  });

  it('unsubscribe is idempotent', () => {
    const bus = new HookBus<TestEvents>();
    const kept = vi.fn();
    const removed = vi.fn();
    bus.on('ping', kept);
    const off = bus.on('ping', removed);

    off();
    off();
    off();
    bus.emit('ping', { n: 1 });

    expect(removed).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledTimes(1);
    expect(bus.listenerCount('ping')).toBe(1);
  });

  it('a stale unsubscribe does not remove a later subscription of the same function', () => {
    const bus = new HookBus<TestEvents>();
    const handler = vi.fn();
    const off = bus.on('ping', handler);
    off();
    bus.on('ping', handler);

    off(); // called again: must be a no-op
    bus.emit('ping', { n: 1 });

    expect(handler).toHaveBeenCalledTimes(1);
    expect(bus.listenerCount('ping')).toBe(1);
  });

  it('emit with no handlers is a no-op', () => {
    const logger = spyLogger();
    const bus = new HookBus<TestEvents>(logger);
    expect(() => bus.emit('ping', { n: 1 })).not.toThrow();

    const off = bus.on('ping', () => {});
    off();
    expect(bus.emit('ping', { n: 2 })).toBeUndefined();
    expect(logger.warn).not.toHaveBeenCalled();
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('a throwing handler does not stop later handlers; emit does not throw; the error is logged', () => {
    const logger = spyLogger();
    const bus = new HookBus<TestEvents>(logger);
    const before = vi.fn();
    const after = vi.fn();
    bus.on('ping', before);
    bus.on('ping', () => {
      throw new Error('handler bug');
    });
    bus.on('ping', after);

    expect(() => bus.emit('ping', { n: 1 })).not.toThrow();

    expect(before).toHaveBeenCalledWith({ n: 1 });
    expect(after).toHaveBeenCalledWith({ n: 1 });
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ event: 'ping', error: 'handler bug' }),
      expect.any(String),
    );
  });

  it('logs a handler that throws something that is not an Error', () => {
    const logger = spyLogger();
    const bus = new HookBus<TestEvents>(logger);
    bus.on('pong', () => {
      throw 'just a string';
    });

    bus.emit('pong', { text: 'x' });

    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ event: 'pong', error: 'just a string' }),
      expect.any(String),
    );
  });

  it('logs an async handler that rejects, without an unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const logger = spyLogger();
      const bus = new HookBus<TestEvents>(logger);
      const after = vi.fn();
      bus.on('ping', async () => {
        throw new Error('async handler bug');
      });
      bus.on('ping', () => Promise.reject(new Error('rejected promise')));
      bus.on('ping', after);

      expect(() => bus.emit('ping', { n: 1 })).not.toThrow();
      expect(after).toHaveBeenCalledTimes(1);

      await flush();
      await flush();

      expect(logger.warn).toHaveBeenCalledTimes(2);
      expect(logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ event: 'ping', error: 'async handler bug' }),
        expect.any(String),
      );
      expect(logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ event: 'ping', error: 'rejected promise' }),
        expect.any(String),
      );
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('a handler that never resolves does not delay emit or later handlers', () => {
    const logger = spyLogger();
    const bus = new HookBus<TestEvents>(logger);
    const order: string[] = [];
    bus.on('ping', () => {
      order.push('pending');
      return new Promise(() => {});
    });
    bus.on('ping', () => {
      order.push('after');
    });

    const returned: unknown = bus.emit('ping', { n: 1 });
    order.push('emit returned');

    expect(returned).toBeUndefined();
    expect(order).toEqual(['pending', 'after', 'emit returned']);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('counts listeners per event', () => {
    const bus = new HookBus<TestEvents>();
    expect(bus.listenerCount('ping')).toBe(0);

    const offA = bus.on('ping', () => {});
    const offB = bus.on('ping', () => {});
    bus.on('pong', () => {});
    expect(bus.listenerCount('ping')).toBe(2);
    expect(bus.listenerCount('pong')).toBe(1);

    offA();
    expect(bus.listenerCount('ping')).toBe(1);
    offB();
    offB();
    expect(bus.listenerCount('ping')).toBe(0);
    expect(bus.listenerCount('pong')).toBe(1);
  });

  it('a handler subscribed during emit is not called for that emit', () => {
    const bus = new HookBus<TestEvents>();
    const late = vi.fn();
    bus.on('ping', () => {
      bus.on('ping', late);
    });

    bus.emit('ping', { n: 1 });
    expect(late).not.toHaveBeenCalled();

    bus.emit('ping', { n: 2 });
    expect(late).toHaveBeenCalledWith({ n: 2 });
  });
});

describe('ToolProxy hooks: user handlers cannot delay or prevent cancellation', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    vi.useRealTimers();
  });

  /** A proxy with one pending call (session `s`) to a tool that runs until aborted. */
  async function pendingCall() {
    vi.useFakeTimers();
    const logger = spyLogger();
    const [agentEnd, providerEnd] = InMemoryRoom.createLinkedPair();
    const proxy = new ToolProxy({ logger });
    cleanups.push(() => proxy.close());
    await proxy.start(agentEnd);
    const signals: AbortSignal[] = [];
    const provider = new ToolProvider({
      tools: [
        defineTool({
          name: 'hold',
          description: 'runs until aborted',
          input: z.object({}),
          handler: (_args, { signal }) =>
            new Promise((_resolve, reject) => {
              signals.push(signal);
              signal.addEventListener('abort', () => reject(signal.reason), { once: true });
            }),
        }),
      ],
    });
    cleanups.push(() => provider.close());
    await provider.connect(providerEnd);
    await flush();

    const call = proxy.call('hold', {}, { sessionKey: 's' });
    let rejection: unknown;
    let rejected = false;
    call.catch((error: unknown) => {
      rejected = true;
      rejection = error;
    });
    await flush();
    expect(proxy.pendingCalls).toBe(1);
    expect(signals).toHaveLength(1);
    return {
      proxy,
      logger,
      signals,
      call,
      state: () => ({ rejected, rejection }),
    };
  }

  const stop = {
    session_key: 's',
    platform: 'livekit',
    reason: 'Stop requested',
    invalidation_reason: 'stop_command',
  };

  it('a throwing handler and a never-resolving one do not delay the cancellation', async () => {
    const { proxy, logger, signals, call, state } = await pendingCall();
    const seenByUserHandler: number[] = [];
    proxy.hooks.on('agent_loop_stopped', () => {
      seenByUserHandler.push(proxy.pendingCalls);
      throw new Error('user hook bug');
    });
    proxy.hooks.on('agent_loop_stopped', () => new Promise(() => {}));

    proxy.lifecycle('agent_loop_stopped', stop);

    // Synchronously: the call is gone before lifecycle() returns, and before any watcher runs.
    expect(proxy.pendingCalls).toBe(0);
    expect(seenByUserHandler).toEqual([0]);

    await Promise.resolve();
    expect(state().rejected).toBe(true);
    expect(state().rejection).toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
      detail: expect.stringContaining('Stop requested'),
    });
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED' });

    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ event: 'agent_loop_stopped', error: 'user hook bug' }),
      expect.any(String),
    );

    // The provider is still told, and its handler's signal aborts.
    await flush();
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
  });

  it('user handlers subscribed before any call still run after the proxy cancels', async () => {
    const { proxy, call, state } = await pendingCall();
    const order: string[] = [];
    proxy.hooks.on('agent_loop_stopped', () => {
      order.push(`user handler sees ${proxy.pendingCalls} pending`);
      return new Promise(() => {});
    });

    proxy.lifecycle('agent_loop_stopped', stop);
    order.push('lifecycle returned');

    expect(order).toEqual(['user handler sees 0 pending', 'lifecycle returned']);
    expect(proxy.pendingCalls).toBe(0);
    await Promise.resolve();
    expect(state().rejected).toBe(true);
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
  });

  it('a lifecycle event emitted on the bus is only watched: it cancels nothing', async () => {
    const { proxy, state } = await pendingCall();
    const seen = vi.fn();
    proxy.hooks.on('agent_loop_stopped', seen);

    proxy.hooks.emit('agent_loop_stopped', stop);

    expect(seen).toHaveBeenCalledTimes(1);
    expect(proxy.pendingCalls).toBe(1);
    await Promise.resolve();
    expect(state().rejected).toBe(false);
  });

  it('a stop for another session leaves the call pending', async () => {
    const { proxy, state } = await pendingCall();
    const seen = vi.fn();
    proxy.hooks.on('agent_loop_stopped', seen);

    proxy.lifecycle('agent_loop_stopped', { ...stop, session_key: 'other' });

    expect(seen).toHaveBeenCalledTimes(1);
    expect(proxy.pendingCalls).toBe(1);
    await Promise.resolve();
    expect(state().rejected).toBe(false);
  });

  it('the cancellation reaches a raw provider at once', async () => {
    vi.useFakeTimers();
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    cleanups.push(() => proxy.close());
    await proxy.start(room.join('agent', { isAgent: true }));
    // A raw provider: registers one tool by hand and never answers.
    const provider = await WirePeer.join(room, 'provider');
    await provider.send({
      type: 'client:tool-register',
      name: 'hold',
      description: 'never answers',
      input_schema: { type: 'object', properties: {} },
    });
    await flush();
    const call = proxy.call('hold', {}, { sessionKey: 's' });
    const rejected = expect(call).rejects.toMatchObject({ code: 'CANCELLED' });
    await flush();
    const [sent] = provider.frames('agent:tool-call');
    proxy.hooks.on('agent_loop_stopped', () => {
      throw new Error('user hook bug');
    });
    proxy.hooks.on('agent_loop_stopped', () => new Promise(() => {}));

    proxy.lifecycle('agent_loop_stopped', stop);
    await rejected;
    await flush();

    expect(provider.frames('agent:tool-call-cancelled')).toEqual([
      {
        type: 'agent:tool-call-cancelled',
        call_id: sent?.call_id,
        name: 'hold',
        reason: 'agent-loop-stopped',
        detail: expect.stringContaining('Stop requested'),
      },
    ]);
  });
});

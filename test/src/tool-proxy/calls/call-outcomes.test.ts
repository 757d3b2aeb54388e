/** Every way a call can end, each driven with fake timers through a real proxy and room. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../../bridge/memory.js';
import {
  defineTool,
  type ProxyEvents,
  type ToolChannel,
  ToolProvider,
  ToolProxy,
} from '../../../../src/index.js';
import { HelloFrame } from '../../../../src/protocol/frames.js';
import { microtasks, observe, setup } from '../../../support/harness.js';
import { WirePeer } from '../../../support/wire-peer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a call that is answered', () => {
  it('sends agent:tool-call with the provider name, arguments and deadline, and resolves with the result', async () => {
    const { proxy, robot } = await setup();
    const call = proxy.call('move_arm', { x: 1, y: 2 });
    await microtasks();
    expect(robot.frames('agent:tool-call')).toEqual([
      {
        type: 'agent:tool-call',
        call_id: expect.stringMatching(/^tc_[0-9a-f]{12}$/),
        name: 'move_arm',
        arguments: { x: 1, y: 2 },
        timeout_ms: 30_000,
        sent_at_ms: Date.now(),
        stale_after_ms: 4_000,
      },
    ]);
    await robot.result(robot.callId(), { moved: true });
    await expect(call).resolves.toEqual({ moved: true });
    expect(proxy.pendingCalls).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves with null when the provider sends no result value', async () => {
    const { proxy, robot } = await setup();
    const call = proxy.call('ping');
    await microtasks();
    await robot.send({ type: 'client:tool-result', call_id: robot.callId() });
    await expect(call).resolves.toBeNull();
  });

  it('rejects with REMOTE_ERROR carrying the provider message (string or object form)', async () => {
    const { proxy, robot } = await setup();
    const first = proxy.call('ping');
    const second = proxy.call('ping');
    await microtasks();
    await robot.send({
      type: 'client:tool-result',
      call_id: robot.callId(0),
      error: 'arm is jammed',
    });
    await robot.send({
      type: 'client:tool-result',
      call_id: robot.callId(1),
      error: { message: 'battery low', code: 'E_BATTERY', data: { level: 3 } },
    });
    await expect(first).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      message: expect.stringContaining('arm is jammed'),
    });
    await expect(second).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      detail: 'E_BATTERY',
      data: { level: 3 },
    });
  });

  it('reports call:started and call:settled with outcome and duration', async () => {
    const { proxy, robot } = await setup();
    const started: ProxyEvents['call:started'][] = [];
    const settled: ProxyEvents['call:settled'][] = [];
    proxy.hooks.on('call:started', (event) => started.push(event));
    proxy.hooks.on('call:settled', (event) => settled.push(event));
    const call = proxy.call('ping', {}, { sessionKey: 's1' });
    await microtasks();
    await vi.advanceTimersByTimeAsync(250);
    await robot.result(robot.callId(), 'pong');
    await call;
    expect(started).toEqual([
      {
        callId: robot.callId(),
        tool: 'ping',
        provider: 'robot',
        sessionKey: 's1',
        timeoutMs: 30_000,
      },
    ]);
    expect(settled).toEqual([
      expect.objectContaining({
        callId: robot.callId(),
        outcome: 'result',
        durationMs: 250,
        error: undefined,
      }),
    ]);
  });
});

describe('a call refused before anything is sent', () => {
  it('TOOL_NOT_FOUND names the tools that exist', async () => {
    const { proxy, wire } = await setup();
    const before = wire.length;
    await expect(proxy.call('fly', {})).rejects.toMatchObject({
      code: 'TOOL_NOT_FOUND',
      message: expect.stringContaining('move_arm, ping'),
    });
    await microtasks();
    expect(wire.length).toBe(before);
  });

  it('INVALID_ARGUMENTS says what is wrong, and nothing goes on the wire', async () => {
    const { proxy, wire } = await setup();
    const before = wire.length;
    const call = proxy.call('move_arm', { x: 'left', z: 1 });
    await expect(call).rejects.toMatchObject({ code: 'INVALID_ARGUMENTS', tool: 'move_arm' });
    await expect(call).rejects.toThrow(/arguments\/x must be number/);
    await expect(call).rejects.toThrow(/required property 'y'/);
    await expect(call).rejects.toThrow(/not called/);
    await microtasks();
    expect(wire.length).toBe(before);
    expect(proxy.stats().calls.rejectedBeforeSend).toBe(1);
  });

  it('an already-aborted signal rejects with CANCELLED (caller-aborted) and sends nothing', async () => {
    const { proxy, wire } = await setup();
    const before = wire.length;
    const signal = AbortSignal.abort(new Error('user left'));
    await expect(proxy.call('ping', {}, { signal })).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-aborted',
    });
    await microtasks();
    expect(wire.length).toBe(before);
  });

  it('PROXY_CLOSED after close()', async () => {
    const { proxy } = await setup();
    await proxy.close();
    await expect(proxy.call('ping')).rejects.toMatchObject({ code: 'PROXY_CLOSED' });
  });
});

describe('a call that times out', () => {
  it('rejects with TIMEOUT at 30 s by default (not before) and tells the provider', async () => {
    const { proxy, robot } = await setup();
    const call = observe(proxy.call('move_arm', { x: 1, y: 1 }));
    await microtasks();
    await vi.advanceTimersByTimeAsync(29_999);
    expect(call.state()).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    await expect(call.promise).rejects.toMatchObject({
      code: 'TIMEOUT',
      tool: 'move_arm',
      message: expect.stringContaining('may already have started or completed'),
    });
    await microtasks();
    expect(robot.frames('agent:tool-call-timeout')).toEqual([
      { type: 'agent:tool-call-timeout', call_id: robot.callId(), name: 'move_arm' },
    ]);
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([]);
  });

  it('uses the tool deadline from metadata, clamped by the proxy maximum', async () => {
    const { proxy, robot } = await setup({ maxToolTimeoutMs: 60_000 });
    await robot.register('quick', { type: 'object' }, { max_execution_time_ms: 5_000 });
    await robot.register('greedy', { type: 'object' }, { max_execution_time_ms: 3_600_000 });
    await microtasks();
    expect(proxy.getTool('quick')?.timeoutMs).toBe(5_000);
    expect(proxy.getTool('greedy')?.timeoutMs).toBe(60_000);
    const quick = observe(proxy.call('quick'));
    const greedy = observe(proxy.call('greedy'));
    await vi.advanceTimersByTimeAsync(5_000);
    expect([quick.state(), greedy.state()]).toEqual(['rejected', 'pending']);
    await vi.advanceTimersByTimeAsync(55_000);
    expect(greedy.state()).toBe('rejected');
  });

  it('a per-call timeoutMs wins over the tool and the default', async () => {
    const { proxy, robot } = await setup();
    const call = observe(proxy.call('ping', {}, { timeoutMs: 2_000 }));
    await microtasks();
    expect(robot.frames('agent:tool-call')[0]?.timeout_ms).toBe(2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    await expect(call.promise).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('progress restarts the idle deadline', async () => {
    const { proxy, robot } = await setup({ defaultTimeoutMs: 10_000 });
    const updates: number[] = [];
    const call = observe(
      proxy.call('ping', {}, { onProgress: (update) => updates.push(update.progress) }),
    );
    await microtasks();
    await vi.advanceTimersByTimeAsync(8_000);
    await robot.send({
      type: 'client:tool-progress',
      call_id: robot.callId(),
      progress: 1,
      total: 4,
      message: 'moving',
    });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(call.state()).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    await expect(call.promise).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(updates).toEqual([1]);
  });

  it('progress cannot push a call past the hard maximum total', async () => {
    const { proxy, robot } = await setup({ defaultTimeoutMs: 10_000, maxTotalTimeoutMs: 25_000 });
    const call = observe(proxy.call('ping'));
    await microtasks();
    for (let step = 1; step <= 6; step++) {
      await vi.advanceTimersByTimeAsync(4_000);
      await robot.send({ type: 'client:tool-progress', call_id: robot.callId(), progress: step });
    }
    await vi.advanceTimersByTimeAsync(999);
    expect(call.state()).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(call.state()).toBe('rejected');
    await expect(call.promise).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('maximum total time of 25000 ms'),
    });
  });

  it('progress is ignored when resetTimeoutOnProgress is off', async () => {
    const { proxy, robot } = await setup({
      defaultTimeoutMs: 10_000,
      resetTimeoutOnProgress: false,
    });
    const call = observe(proxy.call('ping'));
    await microtasks();
    await vi.advanceTimersByTimeAsync(9_000);
    await robot.send({ type: 'client:tool-progress', call_id: robot.callId(), progress: 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(call.state()).toBe('rejected');
  });
});

describe('a call that is cancelled', () => {
  it('by the caller signal: rejects CANCELLED caller-aborted with the signal reason as cause, then tells the provider', async () => {
    const { proxy, robot } = await setup();
    const controller = new AbortController();
    const call = proxy.call('ping', {}, { signal: controller.signal });
    await microtasks();
    const why = new Error('user pressed stop');
    controller.abort(why);
    await expect(call).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-aborted',
      detail: 'user pressed stop',
      cause: why,
    });
    await microtasks();
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([
      {
        type: 'agent:tool-call-cancelled',
        call_id: robot.callId(),
        name: 'ping',
        reason: 'caller-aborted',
        detail: 'user pressed stop',
      },
    ]);
    expect(proxy.watchedSignals).toBe(0);
  });

  it('by .cancel() on the returned promise: a typed CANCELLED error, not p-cancelable CancelError', async () => {
    const { proxy, robot } = await setup();
    const call = proxy.call('ping');
    await microtasks();
    call.cancel();
    await expect(call).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-aborted',
      name: 'ToolProxyError',
    });
    await microtasks();
    expect(robot.frames('agent:tool-call-cancelled')).toHaveLength(1);
  });

  it.each([
    ['agent_loop_stopped', 'agent-loop-stopped'],
    ['session:end', 'session-ended'],
    ['session:reset', 'session-reset'],
  ] as const)(
    'by %s of a known session: that session only, not unbound calls or other sessions',
    async (event, reason) => {
      const { proxy, robot } = await setup();
      const mine = observe(proxy.call('ping', {}, { sessionKey: 'chat-1' }));
      const unbound = observe(proxy.call('ping'));
      const other = observe(proxy.call('ping', {}, { sessionKey: 'chat-2' }));
      await microtasks();
      const outcome = proxy.lifecycle(event, {
        session_key: 'chat-1',
        platform: 'livekit',
        reason: 'Stop requested',
      });
      expect(outcome).toMatchObject({ rule: 'session', scoped: 1, unscoped: 0, cancelled: 1 });
      await microtasks(2);
      expect([mine.state(), unbound.state(), other.state()]).toEqual([
        'rejected',
        'pending',
        'pending',
      ]);
      await expect(mine.promise).rejects.toMatchObject({
        code: 'CANCELLED',
        reason,
        detail: 'Stop requested',
      });
      await microtasks();
      const notices = robot.frames('agent:tool-call-cancelled');
      expect(notices.map((n) => n.call_id)).toEqual([robot.callId(0)]);
      expect(notices.every((n) => n.reason === reason && n.name === 'ping')).toBe(true);
      expect(proxy.pendingCalls).toBe(2);
    },
  );

  it.each(['agent_loop_stopped', 'session:end', 'session:reset'] as const)(
    'by %s of a session nothing was placed in: the unbound calls too, never other sessions',
    async (event) => {
      const { proxy } = await setup();
      const unbound = observe(proxy.call('ping'));
      const other = observe(proxy.call('ping', {}, { sessionKey: 'chat-2' }));
      await microtasks();
      const outcome = proxy.lifecycle(event, { session_key: 'chat-1' });
      expect(outcome).toMatchObject({
        session: 'chat-1',
        rule: 'session-and-unbound',
        scoped: 0,
        unscoped: 1,
      });
      await microtasks(2);
      expect([unbound.state(), other.state()]).toEqual(['rejected', 'pending']);
    },
  );

  it('agent_loop_stopped without a session key cancels every call; detail joins reason and invalidation reason', async () => {
    const { proxy } = await setup();
    const a = proxy.call('ping', {}, { sessionKey: 'a' });
    const b = proxy.call('ping', {}, { sessionKey: 'b' });
    await microtasks();
    proxy.lifecycle('agent_loop_stopped', {
      session_key: undefined,
      platform: '',
      reason: 'Stop requested',
      invalidation_reason: 'stop_command',
    });
    await expect(a).rejects.toMatchObject({
      reason: 'agent-loop-stopped',
      detail: 'Stop requested; stop_command',
    });
    await expect(b).rejects.toMatchObject({ reason: 'agent-loop-stopped' });
  });

  it('one cancellation shares one error object across every call it cancels (no stack per call)', async () => {
    const { proxy } = await setup();
    const calls = Array.from({ length: 5 }, () => proxy.call('ping', {}, { sessionKey: 's' }));
    await microtasks();
    expect(proxy.cancelSession('s', 'session-reset')).toBe(5);
    const errors = await Promise.all(calls.map((call) => call.catch((error: unknown) => error)));
    expect(new Set(errors).size).toBe(1);
  });

  it('by close(): CANCELLED proxy-shutting-down, providers told before the channel closes', async () => {
    const { proxy, robot } = await setup();
    const call = observe(proxy.call('ping'));
    await microtasks();
    const closed = proxy.close();
    expect(call.state()).toBe('pending'); // settles synchronously; observed a microtask later
    await microtasks(1);
    expect(call.state()).toBe('rejected');
    await closed;
    await expect(call.promise).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'proxy-shutting-down',
    });
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([
      expect.objectContaining({ call_id: robot.callId(), reason: 'proxy-shutting-down' }),
    ]);
    expect(proxy.stats().notices).toEqual({ sent: 1, failed: 0 });
  });
});

describe('a call whose provider goes away', () => {
  it('provider leaving mid-call: PROVIDER_GONE at once, nothing sent, its tools are gone', async () => {
    const { proxy, robot, wire } = await setup();
    const call = proxy.call('move_arm', { x: 0, y: 0 });
    await microtasks();
    const before = wire.length;
    await robot.channel.close();
    await microtasks();
    await expect(call).rejects.toMatchObject({
      code: 'PROVIDER_GONE',
      message: expect.stringContaining('"robot"'),
    });
    expect(wire.length).toBe(before);
    expect(proxy.tools()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the provider unregistering the tool mid-call: TOOL_UNREGISTERED, and a cancel notice', async () => {
    const { proxy, robot } = await setup();
    const moving = proxy.call('move_arm', { x: 0, y: 0 });
    const ping = observe(proxy.call('ping'));
    await microtasks();
    await robot.send({ type: 'client:tool-unregister', name: 'move_arm' });
    await expect(moving).rejects.toMatchObject({ code: 'TOOL_UNREGISTERED' });
    await microtasks();
    expect(ping.state()).toBe('pending');
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([
      expect.objectContaining({ call_id: robot.callId(0), reason: 'tool-unregistered' }),
    ]);
  });

  it('the channel dropping: every pending call fails with PROVIDER_GONE', async () => {
    const { proxy, room } = await setup();
    const second = await WirePeer.join(room, 'page');
    await second.register('click');
    await microtasks();
    const a = proxy.call('ping');
    const b = proxy.call('click');
    await microtasks();
    const agentEnd = room.present().find((member) => member.identity === 'agent');
    agentEnd?.drop();
    await expect(a).rejects.toMatchObject({
      code: 'PROVIDER_GONE',
      message: expect.stringContaining('connection'),
    });
    await expect(b).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
    expect(proxy.tools()).toEqual([]);
  });

  it.each([
    ['rejects', () => Promise.reject(new Error('data channel full'))],
    [
      'throws',
      () => {
        throw new Error('not connected');
      },
    ],
  ])('a call frame the transport %s: SEND_FAILED, the tool did not run', async (_how, fail) => {
    const room = new InMemoryRoom();
    const inner = room.join('agent', { isAgent: true });
    const refusing: ToolChannel = {
      identity: inner.identity,
      start: (handlers) => inner.start(handlers),
      peers: () => inner.peers(),
      send: (to, text) => (text.includes('"agent:tool-call"') ? fail() : inner.send(to, text)),
      close: () => inner.close(),
    };
    const proxy = new ToolProxy();
    await proxy.start(refusing);
    const robot = await WirePeer.join(room, 'robot');
    await robot.register('ping');
    await microtasks();
    await expect(proxy.call('ping')).rejects.toMatchObject({
      code: 'SEND_FAILED',
      message: expect.stringContaining('did not run'),
    });
    expect(proxy.pendingCalls).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('deadlines', () => {
  it('a fractional per-call timeout goes on the wire as whole ms, and a real provider runs the call', async () => {
    const { proxy, room } = await setup();
    const provider = new ToolProvider({
      tools: [
        defineTool({ name: 'echo', description: 'echo', input: z.object({}), handler: () => 'ok' }),
      ],
    });
    await provider.connect(room.join('echoer'));
    await proxy.waitForTool('echo');
    await expect(proxy.call('echo', {}, { timeoutMs: 1_500.5 })).resolves.toBe('ok');
  });

  it('fractional proxy options are rounded up, so every hello stays valid', async () => {
    const room = new InMemoryRoom();
    const early = await WirePeer.join(room, 'early');
    const proxy = new ToolProxy({ defaultTimeoutMs: 1_000.25 });
    await proxy.start(room.join('agent', { isAgent: true }));
    await microtasks();
    const [hello] = early.frames('agent:hello');
    expect(HelloFrame.safeParse(hello).success).toBe(true);
    expect(hello?.default_timeout_ms).toBe(1_001);
  });

  it('a per-call timeout larger than the hard maximum is clamped to it (no 1 ms timer overflow)', async () => {
    const { proxy, robot } = await setup({ maxTotalTimeoutMs: 60_000 });
    const call = observe(proxy.call('ping', {}, { timeoutMs: 2 ** 40 }));
    await microtasks();
    expect(robot.frames('agent:tool-call')[0]?.timeout_ms).toBe(60_000);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(call.state()).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(call.state()).toBe('rejected');
  });

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])(
    'timeoutMs %s is refused as INVALID_ARGUMENTS, nothing sent',
    async (timeoutMs) => {
      const { proxy, robot } = await setup();
      await expect(proxy.call('ping', {}, { timeoutMs })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENTS',
      });
      await microtasks();
      expect(robot.frames('agent:tool-call')).toEqual([]);
    },
  );

  it('options beyond what a timer can hold are refused', () => {
    expect(() => new ToolProxy({ maxTotalTimeoutMs: 2 ** 31 })).toThrow(RangeError);
  });
});

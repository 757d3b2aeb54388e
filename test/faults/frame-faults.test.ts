/**
 * Frames lost, late, repeated or out of order between a provider and the proxy (the proxy's
 * channel wrapped in a FaultyChannel, on the in-memory bridge, fake clock). Each case: how the
 * call ends, when, what the provider is told, and what the proxy counts.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../bridge/memory.js';
import { defineTool, type ProxyEvents, ToolProvider, ToolProxy } from '../../src/index.js';
import { microtasks, observe } from '../support/harness.js';
import { type FaultRule, FaultyChannel, when } from '../support/faulty-channel.js';
import { measured } from '../support/measured.js';
import { flush } from '../support/util.js';
import { WirePeer } from '../support/wire-peer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A proxy whose channel suffers `rule`, and a provider `robot` (a WirePeer) with tool `ping`. */
async function faulty(rule: FaultRule) {
  const room = new InMemoryRoom();
  const channel = new FaultyChannel(room.join('agent', { isAgent: true }), rule);
  const proxy = new ToolProxy();
  await proxy.start(channel);
  const robot = await WirePeer.join(room, 'robot');
  await robot.register('ping');
  await microtasks();
  const settled: ProxyEvents['call:settled'][] = [];
  proxy.hooks.on('call:settled', (event) => settled.push(event));
  return { room, channel, proxy, robot, settled };
}

const stop = { session_key: 's', reason: 'Stop requested' };

it('a dropped call frame: TIMEOUT exactly at the deadline, and the provider gets a timeout notice for a call it never saw', async (context) => {
  const { proxy, robot, settled } = await faulty(when({ type: 'agent:tool-call' }, 'drop'));
  const call = observe(proxy.call('ping'));
  await vi.advanceTimersByTimeAsync(29_999);
  expect(call.state()).toBe('pending');
  await vi.advanceTimersByTimeAsync(1);
  await expect(call.promise).rejects.toMatchObject({ code: 'TIMEOUT' });
  expect(settled.map((s) => [s.outcome, s.durationMs])).toEqual([['timeout', 30_000]]);
  expect(robot.frames('agent:tool-call')).toEqual([]);
  expect(robot.frames('agent:tool-call-timeout')).toEqual([
    { type: 'agent:tool-call-timeout', call_id: settled[0]?.callId, name: 'ping' },
  ]);
  expect(proxy.pendingCalls).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  await measured(context, 'TIMEOUT at 30,000 ms (fake clock); provider told: 1 timeout notice');
});

it('a dropped result: TIMEOUT at the deadline, the provider told it timed out', async (context) => {
  const { channel, proxy, robot, settled } = await faulty(
    when({ type: 'client:tool-result' }, 'drop'),
  );
  const call = observe(proxy.call('ping'));
  await microtasks();
  await robot.result(robot.callId(), 'pong');
  await vi.advanceTimersByTimeAsync(30_000);
  await expect(call.promise).rejects.toMatchObject({ code: 'TIMEOUT' });
  expect(channel.faulted('client:tool-result', 'drop')).toBe(1);
  expect(settled.map((s) => [s.outcome, s.durationMs])).toEqual([['timeout', 30_000]]);
  expect(robot.frames('agent:tool-call-timeout')).toHaveLength(1);
  expect(proxy.stats().results).toMatchObject({ accepted: 0, late: 0 });
  await measured(context, 'TIMEOUT at 30,000 ms; provider told: 1 timeout notice');
});

it('a result delayed past the deadline: TIMEOUT, and the result is dropped as late', async (context) => {
  const { proxy, robot, settled } = await faulty(
    when({ type: 'client:tool-result' }, { delay: 31_000 }),
  );
  const call = observe(proxy.call('ping'));
  await microtasks();
  await robot.result(robot.callId(), 'pong');
  await vi.advanceTimersByTimeAsync(30_000);
  await expect(call.promise).rejects.toMatchObject({ code: 'TIMEOUT' });
  await vi.advanceTimersByTimeAsync(1_000);
  expect(settled).toHaveLength(1);
  expect(proxy.stats().results).toMatchObject({ accepted: 0, late: 1 });
  await measured(context, 'TIMEOUT at 30,000 ms; result arriving at 31,000 ms counted late: 1');
});

it('a duplicated result: the caller gets exactly one, the copy is counted as duplicate', async (context) => {
  const { channel, proxy, robot, settled } = await faulty(
    when({ type: 'client:tool-result' }, 'duplicate'),
  );
  const call = proxy.call('ping');
  await microtasks();
  await robot.result(robot.callId(), 'pong');
  await expect(call).resolves.toBe('pong');
  await flush();
  expect(channel.deliveredOf('in', 'client:tool-result')).toHaveLength(2);
  expect(settled.map((s) => s.outcome)).toEqual(['result']);
  expect(proxy.stats().results).toMatchObject({ accepted: 1, duplicate: 1, late: 0 });
  await measured(context, 'one result; results.duplicate = 1');
});

it('progress reordered behind the result: the call ends with the result, no progress reaches the caller after it', async (context) => {
  const { proxy, robot, settled } = await faulty(when({ type: 'client:tool-progress' }, 'reorder'));
  const progress: number[] = [];
  const call = observe(
    proxy.call('ping', {}, { onProgress: (update) => progress.push(update.progress) }),
  );
  await microtasks();
  const callId = robot.callId();
  await robot.send({ type: 'client:tool-progress', call_id: callId, progress: 1 });
  await robot.result(callId, 'pong');
  await flush();
  await expect(call.promise).resolves.toBe('pong');
  expect(progress).toEqual([]);
  expect(settled).toHaveLength(1);
  expect(proxy.stats().progress).toEqual({ accepted: 0, dropped: 1 });
  expect(proxy.stats().results).toMatchObject({ accepted: 1, duplicate: 0, late: 0 });
  await measured(context, 'result accepted; late progress dropped (progress.dropped = 1)');
});

it('a result delayed until after a stop: CANCELLED at once, the result dropped as late', async (context) => {
  const { proxy, robot, settled } = await faulty(
    when({ type: 'client:tool-result' }, { delay: 1_000 }),
  );
  const call = observe(proxy.call('ping', {}, { sessionKey: 's' }));
  await microtasks();
  await robot.result(robot.callId(), 'pong');
  proxy.lifecycle('agent_loop_stopped', stop);
  expect(call.state()).toBe('pending'); // the rejection is delivered a microtask later
  expect(proxy.pendingCalls).toBe(0);
  await expect(call.promise).rejects.toMatchObject({ code: 'CANCELLED' });
  await vi.advanceTimersByTimeAsync(1_000);
  expect(settled.map((s) => [s.outcome, s.durationMs])).toEqual([['cancelled', 0]]);
  expect(robot.frames('agent:tool-call-cancelled')).toHaveLength(1);
  expect(proxy.stats().results).toMatchObject({ accepted: 0, late: 1 });
  await measured(context, 'CANCELLED at 0 ms; provider told: 1 cancel notice; results.late = 1');
});

it('a dropped cancel notice: the caller is CANCELLED at once, the provider is never told and its result comes back late', async (context) => {
  const { proxy, robot } = await faulty(when({ type: 'agent:tool-call-cancelled' }, 'drop'));
  const call = observe(proxy.call('ping', {}, { sessionKey: 's' }));
  await microtasks();
  proxy.lifecycle('agent_loop_stopped', stop);
  await expect(call.promise).rejects.toMatchObject({ code: 'CANCELLED' });
  await flush();
  expect(robot.frames('agent:tool-call-cancelled')).toEqual([]);
  // The send was handed over, so the proxy counts the notice as sent; the wire lost it.
  expect(proxy.stats().notices).toEqual({ sent: 1, failed: 0 });
  await robot.result(robot.callId(), 'done anyway');
  await flush();
  expect(proxy.stats().results).toMatchObject({ accepted: 0, late: 1 });
  await measured(context, 'CANCELLED at 0 ms; provider told nothing; its result counted late');
});

/** A real provider runtime on the faulty wire, with a tool that works until released or aborted. */
async function withRuntime(rule: FaultRule) {
  const setup = await faulty(rule);
  const runs: string[] = [];
  const aborts: string[] = [];
  const provider = new ToolProvider({
    tools: [
      defineTool({
        name: 'work',
        description: 'takes 5 s unless stopped',
        input: z.object({}),
        handler: (_args, { callId, signal }) =>
          new Promise((resolve) => {
            runs.push(callId);
            const timer = setTimeout(() => resolve('worked'), 5_000);
            signal.addEventListener('abort', () => {
              aborts.push(callId);
              clearTimeout(timer);
              resolve('aborted');
            });
          }),
      }),
    ],
  });
  await provider.connect(setup.room.join('arm'));
  await setup.proxy.waitForTool('work');
  return { ...setup, provider, runs, aborts };
}

it('a duplicated call frame: the provider runs the handler once and answers once', async (context) => {
  const { proxy, runs, settled } = await withRuntime(
    when({ type: 'agent:tool-call' }, 'duplicate'),
  );
  const call = proxy.call('work');
  await vi.advanceTimersByTimeAsync(5_000);
  await expect(call).resolves.toBe('worked');
  expect(runs).toHaveLength(1);
  expect(settled).toHaveLength(1);
  expect(proxy.stats().results).toMatchObject({ accepted: 1, duplicate: 0 });
  await measured(context, 'handler runs: 1; results: 1 accepted, 0 duplicate');
});

it('a cancel notice that overtakes its call frame: the caller is CANCELLED at once, the call settles once, anything the provider sends after is dropped', async (context) => {
  // The call frame is held back and delivered right after the cancel (the next frame out).
  const { proxy, provider, runs, settled } = await withRuntime(
    when({ type: 'agent:tool-call' }, 'reorder'),
  );
  const call = observe(proxy.call('work', {}, { sessionKey: 's' }));
  await microtasks();
  proxy.lifecycle('agent_loop_stopped', stop);
  await expect(call.promise).rejects.toMatchObject({ code: 'CANCELLED' });
  await flush();
  const ran = runs.length;
  const running = provider.runningCalls;
  await vi.advanceTimersByTimeAsync(5_000);
  expect(settled.map((s) => s.outcome)).toEqual(['cancelled']);
  expect(provider.runningCalls).toBe(0);
  expect(proxy.stats().results).toMatchObject({ accepted: 0, late: ran });
  const wasted = running === 1 ? ', ran it for its full 5,000 ms, result dropped as late' : '';
  await measured(
    context,
    `caller CANCELLED at 0 ms; provider started the cancelled call: ${ran === 1 ? 'yes' : 'no'}${wasted}`,
  );
});

// A call frame can arrive after its cancel with no network fault at all: on LiveKit a call frame
// over one packet (about 15 KB) travels as a text stream and reaches the provider only once
// complete, and a cancel sent as a packet right after it can be delivered first.
it('a provider never starts a call whose cancel it has already seen', async () => {
  const { proxy, runs } = await withRuntime(when({ type: 'agent:tool-call' }, 'reorder'));
  const call = observe(proxy.call('work', {}, { sessionKey: 's' }));
  await microtasks();
  proxy.lifecycle('agent_loop_stopped', stop);
  await expect(call.promise).rejects.toMatchObject({ code: 'CANCELLED' });
  await flush();
  expect(runs).toEqual([]);
});

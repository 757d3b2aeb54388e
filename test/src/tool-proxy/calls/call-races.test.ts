/** Races between the ways a call can end: whichever comes first wins, the rest are dropped and counted. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProxyEvents } from '../../../../src/index.js';
import { microtasks, observe, type Setup, setup } from '../../../support/harness.js';
import { WirePeer } from '../../../support/wire-peer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function started(): Promise<Setup & { settled: ProxyEvents['call:settled'][] }> {
  const ctx = await setup();
  const settled: ProxyEvents['call:settled'][] = [];
  ctx.proxy.hooks.on('call:settled', (event) => settled.push(event));
  return { ...ctx, settled };
}

const stop = {
  session_key: 's',
  platform: 'livekit',
  reason: 'Stop requested',
  invalidation_reason: 'stop_command',
};

describe('races', () => {
  it('result and cancel in the same tick, cancel first: caller gets CANCELLED, the result is late', async () => {
    const { proxy, robot, settled } = await started();
    const call = proxy.call('ping', {}, { sessionKey: 's' });
    await microtasks();
    void robot.result(robot.callId(), 'pong'); // queued: delivered a microtask later
    proxy.lifecycle('agent_loop_stopped', stop);
    await microtasks();
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(settled.map((s) => s.outcome)).toEqual(['cancelled']);
    expect(proxy.stats().results).toMatchObject({ accepted: 0, late: 1 });
    expect(robot.frames('agent:tool-call-cancelled')).toHaveLength(1);
  });

  it('result and cancel in the same tick, result first: caller gets the result, nothing to cancel', async () => {
    const { proxy, robot, settled } = await started();
    const call = proxy.call('ping', {}, { sessionKey: 's' });
    await microtasks();
    await robot.result(robot.callId(), 'pong');
    await microtasks();
    proxy.lifecycle('agent_loop_stopped', stop);
    await expect(call).resolves.toBe('pong');
    await microtasks();
    expect(settled.map((s) => s.outcome)).toEqual(['result']);
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([]);
  });

  it('cancel after result is a no-op: no notice, the value stands', async () => {
    const { proxy, robot } = await started();
    const controller = new AbortController();
    const call = proxy.call('ping', {}, { signal: controller.signal });
    await microtasks();
    await robot.result(robot.callId(), 'pong');
    await expect(call).resolves.toBe('pong');
    call.cancel();
    controller.abort();
    await microtasks();
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([]);
    expect(proxy.watchedSignals).toBe(0);
  });

  it('timeout and result in the same tick, timeout first: TIMEOUT, the result is late', async () => {
    const { proxy, robot, settled } = await started();
    const call = observe(proxy.call('ping'));
    await microtasks();
    await vi.advanceTimersByTimeAsync(29_999);
    void robot.result(robot.callId(), 'pong');
    vi.advanceTimersByTime(1); // the deadline fires before the queued delivery
    await microtasks();
    await expect(call.promise).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(settled.map((s) => s.outcome)).toEqual(['timeout']);
    expect(proxy.stats().results.late).toBe(1);
    expect(robot.frames('agent:tool-call-timeout')).toHaveLength(1);
  });

  it('result after timeout is dropped and counted as late', async () => {
    const { proxy, robot } = await started();
    const call = observe(proxy.call('ping'));
    await microtasks();
    await vi.advanceTimersByTimeAsync(30_000);
    await robot.result(robot.callId(), 'too late');
    await microtasks();
    await expect(call.promise).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(proxy.stats().results).toMatchObject({ accepted: 0, late: 1 });
  });

  it('a duplicate result is dropped and counted; the first one stands', async () => {
    const { proxy, robot, settled } = await started();
    const call = proxy.call('ping');
    await microtasks();
    await robot.result(robot.callId(), 'first');
    await robot.result(robot.callId(), 'second');
    await robot.send({ type: 'client:tool-result', call_id: robot.callId(), error: 'third' });
    await microtasks();
    await expect(call).resolves.toBe('first');
    expect(settled).toHaveLength(1);
    expect(proxy.stats().results).toMatchObject({ accepted: 1, duplicate: 2 });
  });

  it('a spoofed result from another participant is dropped; the call waits for its provider', async () => {
    const { proxy, robot, room } = await started();
    const stranger = await WirePeer.join(room, 'stranger');
    const call = observe(proxy.call('move_arm', { x: 1, y: 1 }));
    await microtasks();
    await stranger.result(robot.callId(), { moved: false, spoofed: true });
    await stranger.send({ type: 'client:tool-progress', call_id: robot.callId(), progress: 1 });
    await microtasks();
    expect(call.state()).toBe('pending');
    expect(proxy.stats().results.spoofed).toBe(1);
    expect(proxy.stats().progress.dropped).toBe(1);
    await robot.result(robot.callId(), { moved: true });
    await expect(call.promise).resolves.toEqual({ moved: true });
    // After settlement, a stranger replaying the id is still spoofing, not a duplicate.
    await stranger.result(robot.callId(), 'replay');
    await microtasks();
    expect(proxy.stats().results).toMatchObject({ spoofed: 2, duplicate: 0 });
  });

  it('provider leaving mid-call, then a stop: one settlement, no notice to a provider that is gone', async () => {
    const { proxy, robot, settled } = await started();
    const call = proxy.call('ping', {}, { sessionKey: 's' });
    await microtasks();
    await robot.channel.close();
    await microtasks();
    proxy.lifecycle('agent_loop_stopped', stop);
    await expect(call).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
    expect(settled.map((s) => s.outcome)).toEqual(['provider-gone']);
    expect(proxy.stats().notices).toEqual({ sent: 0, failed: 0 });
  });

  it('two stops in a row: one rejection, one notice', async () => {
    const { proxy, robot, settled } = await started();
    const call = proxy.call('ping', {}, { sessionKey: 's' });
    await microtasks();
    proxy.lifecycle('agent_loop_stopped', stop);
    proxy.lifecycle('session:reset', {
      session_key: 's',
      session_id: undefined,
      platform: undefined,
      reason: undefined,
    });
    await microtasks();
    await expect(call).rejects.toMatchObject({ reason: 'agent-loop-stopped' });
    expect(settled).toHaveLength(1);
    expect(robot.frames('agent:tool-call-cancelled')).toHaveLength(1);
  });

  it('a hook handler that throws, or never resolves, cannot delay the cancellation', async () => {
    const { proxy } = await started();
    proxy.hooks.on('agent_loop_stopped', () => {
      throw new Error('plugin bug');
    });
    proxy.hooks.on('agent_loop_stopped', () => new Promise(() => {}));
    const call = observe(proxy.call('ping', {}, { sessionKey: 's' }));
    await microtasks();
    proxy.lifecycle('agent_loop_stopped', stop);
    expect(proxy.pendingCalls).toBe(0); // settled synchronously inside emit
    await microtasks(1);
    expect(call.state()).toBe('rejected');
  });

  it('a caller abort and a session stop in the same tick: the first wins, one notice', async () => {
    const { proxy, robot, settled } = await started();
    const controller = new AbortController();
    const call = proxy.call('ping', {}, { signal: controller.signal, sessionKey: 's' });
    await microtasks();
    controller.abort();
    proxy.lifecycle('agent_loop_stopped', stop);
    await expect(call).rejects.toMatchObject({ reason: 'caller-aborted' });
    await microtasks();
    expect(settled).toHaveLength(1);
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([
      expect.objectContaining({ reason: 'caller-aborted' }),
    ]);
  });
});

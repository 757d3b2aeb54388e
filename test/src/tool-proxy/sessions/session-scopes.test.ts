/**
 * Session resolution and binding in the core: which session a call is placed in from what its
 * caller sends, how a hook before or after the call places it, and exactly which calls a stop of
 * one session cancels.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inputCorrelation, toolUseCorrelation } from '../../../../src/index.js';
import { toolNamesMatch } from '../../../../src/tool-proxy/sessions/session-scopes.js';
import { microtasks, observe, setup } from '../../../support/harness.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const TOOL_USE = toolUseCorrelation('toolu_01');

describe('a call is placed by what its caller sends', () => {
  it('an explicit key wins over its channel and its correlations', async () => {
    const { proxy } = await setup();
    proxy.bindSession({ session: 'from-hook', correlation: TOOL_USE });
    const call = observe(
      proxy.call('ping', {}, { sessionKey: 'named', channel: 'mcp:a', correlations: [TOOL_USE] }),
    );
    await microtasks();
    expect(proxy.lifecycle('agent_loop_stopped', { session_key: 'from-hook' }).cancelled).toBe(0);
    expect(proxy.lifecycle('agent_loop_stopped', { session_key: 'named' })).toMatchObject({
      rule: 'session',
      scoped: 1,
    });
    await microtasks();
    expect(call.state()).toBe('rejected');
  });

  it('a hook that arrives first places the call that carries its correlation (once)', async () => {
    const { proxy } = await setup();
    expect(proxy.bindSession({ session: 'cc-1', correlation: TOOL_USE })).toBe('remembered');
    const first = observe(proxy.call('ping', {}, { correlations: [TOOL_USE] }));
    const second = observe(proxy.call('ping', {}, { correlations: [TOOL_USE] }));
    await microtasks();
    expect(proxy.lifecycle('session:end', { session_id: 'cc-1' })).toMatchObject({
      rule: 'session',
      scoped: 1,
      unscoped: 0,
    });
    await microtasks();
    expect([first.state(), second.state()]).toEqual(['rejected', 'pending']);
  });

  it('a hook that arrives after the call moves it into the session', async () => {
    const { proxy } = await setup();
    const call = observe(proxy.call('ping', {}, { channel: 'mcp:a', correlations: [TOOL_USE] }));
    await microtasks();
    expect(proxy.bindSession({ session: 'cc-1', correlation: TOOL_USE })).toBe('call');
    expect(proxy.lifecycle('session:end', { session_id: 'cc-1' })).toMatchObject({ scoped: 1 });
    await microtasks();
    expect(call.state()).toBe('rejected');
  });

  it('a remembered correlation expires after 60 s', async () => {
    const { proxy } = await setup();
    proxy.bindSession({ session: 'cc-1', correlation: TOOL_USE });
    vi.advanceTimersByTime(60_000);
    const call = observe(proxy.call('ping', {}, { correlations: [TOOL_USE] }));
    await microtasks();
    proxy.lifecycle('agent_loop_stopped', { session_key: 'another-session' });
    // Unbound: a stop of an unknown session takes it, as the rule for unbound calls says.
    await microtasks();
    expect(call.state()).toBe('rejected');
  });

  it('once one call on a channel is placed, the channel is bound: its later calls follow', async () => {
    const { proxy } = await setup();
    const before = observe(proxy.call('ping', {}, { channel: 'mcp:a' }));
    const placed = observe(proxy.call('ping', {}, { channel: 'mcp:a', correlations: [TOOL_USE] }));
    await microtasks();
    proxy.bindSession({ session: 'cc-1', correlation: TOOL_USE });
    const after = observe(proxy.call('ping', {}, { channel: 'mcp:a' }));
    const elsewhere = observe(proxy.call('ping', {}, { channel: 'mcp:b' }));
    await microtasks();
    expect(proxy.lifecycle('session:end', { session_id: 'cc-1' })).toMatchObject({
      rule: 'session',
      scoped: 3,
      unscoped: 0,
    });
    await microtasks();
    expect([before.state(), placed.state(), after.state(), elsewhere.state()]).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'pending',
    ]);
  });

  it('a channel seen with two sessions (hermes: one MCP session for every chat) binds nothing', async () => {
    const { proxy } = await setup();
    const a = observe(proxy.call('ping', {}, { sessionKey: 'chat-a', channel: 'mcp:h' }));
    const b = observe(proxy.call('ping', {}, { sessionKey: 'chat-b', channel: 'mcp:h' }));
    const later = observe(proxy.call('ping', {}, { channel: 'mcp:h' }));
    await microtasks();
    expect(proxy.lifecycle('agent_loop_stopped', { session_key: 'chat-a' })).toMatchObject({
      rule: 'session',
      scoped: 1,
      unscoped: 0,
    });
    await microtasks();
    expect([a.state(), b.state(), later.state()]).toEqual(['rejected', 'pending', 'pending']);
  });

  it('an input correlation matches only a call of the tool the hook named', async () => {
    const { proxy } = await setup();
    const input = inputCorrelation({ y: 2, x: 1 }) as string;
    expect(input).toBe(inputCorrelation({ x: 1, y: 2 }));
    const move = observe(proxy.call('move_arm', { x: 1, y: 2 }, { correlations: [input] }));
    await microtasks();
    expect(proxy.bindSession({ session: 'da-1', correlation: input, tool: 'ping' })).toBe(
      'remembered',
    );
    expect(proxy.bindSession({ session: 'da-1', correlation: input, tool: 'move_arm' })).toBe(
      'call',
    );
    expect(proxy.lifecycle('session:end', { session_id: 'da-1' }).scoped).toBe(1);
    await microtasks();
    expect(move.state()).toBe('rejected');
  });

  it('a correlation two pending calls carry is ambiguous: neither is moved', async () => {
    const { proxy } = await setup();
    const input = inputCorrelation({}) as string;
    observe(proxy.call('ping', {}, { correlations: [input], channel: 'mcp:a' }));
    observe(proxy.call('ping', {}, { correlations: [input], channel: 'mcp:b' }));
    await microtasks();
    expect(proxy.bindSession({ session: 'da-1', correlation: input, tool: 'ping' })).toBe(
      'ambiguous',
    );
  });

  it('two hooks naming one correlation for different sessions bind nothing', async () => {
    const { proxy } = await setup();
    proxy.bindSession({ session: 'a', correlation: TOOL_USE });
    proxy.bindSession({ session: 'b', correlation: TOOL_USE });
    const call = observe(proxy.call('ping', {}, { correlations: [TOOL_USE], channel: 'mcp:x' }));
    await microtasks();
    // Both sessions are known, so neither stop takes the unbound call.
    expect(proxy.lifecycle('agent_loop_stopped', { session_key: 'a' }).cancelled).toBe(0);
    expect(proxy.lifecycle('agent_loop_stopped', { session_key: 'b' }).cancelled).toBe(0);
    await microtasks();
    expect(call.state()).toBe('pending');
  });
});

describe('what a stop cancels', () => {
  it('a known session: its calls only; other sessions and unbound calls go on', async () => {
    const { proxy, robot } = await setup();
    const mine = observe(proxy.call('ping', {}, { sessionKey: 's1' }));
    const other = observe(proxy.call('ping', {}, { sessionKey: 's2' }));
    const unbound = observe(proxy.call('ping', {}, { channel: 'mcp:z' }));
    await microtasks();
    expect(proxy.lifecycle('agent_loop_stopped', { session_key: 's1' })).toEqual({
      event: 'agent_loop_stopped',
      session: 's1',
      reason: 'agent-loop-stopped',
      rule: 'session',
      scoped: 1,
      unscoped: 0,
      cancelled: 1,
    });
    await microtasks();
    expect([mine.state(), other.state(), unbound.state()]).toEqual([
      'rejected',
      'pending',
      'pending',
    ]);
    expect(robot.frames('agent:tool-call-cancelled')).toHaveLength(1);
  });

  it('a session known only from a finished call is still known', async () => {
    const { proxy, robot } = await setup();
    const done = proxy.call('ping', {}, { sessionKey: 's1' });
    await microtasks();
    await robot.result(robot.callId(0), 'ok');
    await expect(done).resolves.toBe('ok');
    const unbound = observe(proxy.call('ping'));
    await microtasks();
    expect(proxy.lifecycle('agent_loop_stopped', { session_key: 's1' }).rule).toBe('session');
    await microtasks();
    expect(unbound.state()).toBe('pending');
  });

  it('an event naming no session cancels every call', async () => {
    const { proxy } = await setup();
    observe(proxy.call('ping', {}, { sessionKey: 's1' }));
    observe(proxy.call('ping'));
    await microtasks();
    expect(proxy.lifecycle('agent_loop_stopped', {})).toMatchObject({
      rule: 'every-call',
      scoped: 0,
      unscoped: 2,
    });
    expect(proxy.pendingCalls).toBe(0);
  });

  it('events that do not cancel say so', async () => {
    const { proxy } = await setup();
    observe(proxy.call('ping', {}, { sessionKey: 's1' }));
    await microtasks();
    for (const event of ['session:start', 'stop', 'notification'] as const) {
      expect(proxy.lifecycle(event, { session_key: 's1' })).toMatchObject({
        rule: 'none',
        cancelled: 0,
        reason: undefined,
      });
    }
    expect(proxy.pendingCalls).toBe(1);
  });

  it('after session:end (Claude Code /clear keeps its MCP session) the channel binds anew', async () => {
    const { proxy } = await setup();
    observe(proxy.call('ping', {}, { sessionKey: 'old', channel: 'mcp:a' }));
    await microtasks();
    proxy.lifecycle('session:end', { session_id: 'old', reason: 'clear' });
    const next = observe(proxy.call('ping', {}, { channel: 'mcp:a', correlations: [TOOL_USE] }));
    await microtasks();
    proxy.bindSession({ session: 'new', correlation: TOOL_USE });
    expect(proxy.lifecycle('agent_loop_stopped', { session_key: 'new' }).scoped).toBe(1);
    await microtasks();
    expect(next.state()).toBe('rejected');
  });

  it('cancelChannel ends the calls of a caller that went away, with reason caller-gone', async () => {
    const { proxy, robot } = await setup();
    const gone = proxy.call('ping', {}, { channel: 'mcp:gone', sessionKey: 's1' });
    const stays = observe(proxy.call('ping', {}, { channel: 'mcp:here' }));
    await microtasks();
    expect(proxy.cancelChannel('mcp:gone', 'caller-gone', 'the MCP session closed')).toBe(1);
    await expect(gone).rejects.toMatchObject({ code: 'CANCELLED', reason: 'caller-gone' });
    await microtasks();
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([
      expect.objectContaining({ reason: 'caller-gone', detail: 'the MCP session closed' }),
    ]);
    expect(stays.state()).toBe('pending');
  });

  it('a signal aborted with a typed CANCELLED reason cancels with that reason', async () => {
    const { proxy } = await setup();
    const controller = new AbortController();
    const call = proxy.call('ping', {}, { signal: controller.signal });
    await microtasks();
    const { ToolProxyError } = await import('../../../../src/index.js');
    controller.abort(new ToolProxyError('CANCELLED', 'gone', { reason: 'caller-gone' }));
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED', reason: 'caller-gone' });
  });
});

describe('bounded and leak-free', () => {
  it('what is remembered of sessions is capped', async () => {
    const { proxy, robot } = await setup();
    for (let i = 0; i < 50; i++) {
      proxy.bindSession({ session: `s${i}`, correlation: toolUseCorrelation(`t${i}`) });
      observe(proxy.call('ping', {}, { channel: `mcp:${i}`, correlations: [`tool-use:t${i}`] }));
    }
    await microtasks();
    for (let i = 0; i < 50; i++) await robot.result(robot.callId(i), i);
    await microtasks();
    expect(proxy.pendingCalls).toBe(0);
    for (let i = 0; i < 5_000; i++)
      proxy.bindSession({ session: `x${i}`, correlation: toolUseCorrelation(`u${i}`) });
    expect(proxy.sessionBindings.correlations).toBe(1_024);
    expect(proxy.sessionBindings.sessions).toBe(4_096);
  });
});

it.each([
  ['move_arm', 'move_arm', true],
  ['mcp__toolproxy__move_arm', 'move_arm', true],
  ['toolproxy_move_arm', 'move_arm', true],
  ['toolproxy:move_arm', 'move_arm', true],
  ['remove_arm', 'move_arm', false],
  ['move_arm2', 'move_arm', false],
])('toolNamesMatch(%s, %s) is %s', (agentName, name, expected) => {
  expect(toolNamesMatch(agentName, name)).toBe(expected);
});

describe('sessions', () => {
  it('session:end that carries only a session id cancels that session, not every call', async () => {
    const { proxy } = await setup();
    const mine = observe(proxy.call('ping', {}, { sessionKey: 'sess-1' }));
    const other = observe(proxy.call('ping', {}, { sessionKey: 'sess-2' }));
    await microtasks();
    proxy.lifecycle('session:end', { session_id: 'sess-1' });
    await microtasks(2);
    expect([mine.state(), other.state()]).toEqual(['rejected', 'pending']);
  });
});

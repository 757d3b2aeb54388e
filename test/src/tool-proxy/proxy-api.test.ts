/** The proxy's public surface besides call(): hello, tool listing, change events, waitForTool, close. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRoom } from '../../../bridge/memory.js';
import { type ProxyEvents, ToolProxy } from '../../../src/index.js';
import { microtasks, setup } from '../../support/harness.js';
import { WirePeer } from '../../support/wire-peer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ToolProxy', () => {
  it('says hello to providers present when it joins, with its deadlines', async () => {
    const room = new InMemoryRoom();
    const early = await WirePeer.join(room, 'early');
    const proxy = new ToolProxy({ defaultTimeoutMs: 20_000 });
    await proxy.start(room.join('agent', { isAgent: true }));
    await microtasks();
    expect(early.frames('agent:hello')).toEqual([
      {
        type: 'agent:hello',
        protocol_version: 1,
        default_timeout_ms: 20_000,
        max_tool_timeout_ms: 120_000,
        sent_at_ms: Date.now(),
      },
    ]);
  });

  it('lists tools in a stable order with schema, deadline, provider and annotations', async () => {
    const { proxy, robot } = await setup();
    await robot.register(
      'arm_home',
      { type: 'object' },
      { annotations: { readOnlyHint: false, destructiveHint: true } },
    );
    await microtasks();
    expect(proxy.tools().map((tool) => tool.name)).toEqual(['arm_home', 'move_arm', 'ping']);
    expect(proxy.getTool('arm_home')).toEqual({
      name: 'arm_home',
      providerName: 'arm_home',
      provider: 'robot',
      description: 'arm_home tool',
      annotations: { readOnlyHint: false, destructiveHint: true },
      inputSchema: { type: 'object' },
      timeoutMs: 30_000,
    });
    expect(proxy.getTool('nope')).toBeUndefined();
  });

  it('reports tool:registered / tool:unregistered so agent fronts can keep their lists in sync', async () => {
    const { proxy, robot } = await setup();
    const changes: Array<ProxyEvents['tool:registered'] | ProxyEvents['tool:unregistered']> = [];
    proxy.hooks.on('tool:registered', (event) => changes.push(event));
    proxy.hooks.on('tool:unregistered', (event) => changes.push(event));
    await robot.register('grip');
    await robot.register('grip'); // identical: no change
    await robot.register('grip', { type: 'object', properties: { force: { type: 'number' } } });
    await robot.send({ type: 'client:tool-unregister', name: 'grip' });
    await microtasks();
    await robot.channel.close();
    await microtasks();
    expect(
      changes.map((c) =>
        'updated' in c
          ? `${c.tool.name}:${c.updated ? 'updated' : 'registered'}`
          : `${c.tool.name}:${c.cause}`,
      ),
    ).toEqual([
      'grip:registered',
      'grip:updated',
      'grip:unregistered',
      'move_arm:provider-left',
      'ping:provider-left',
    ]);
  });

  it('waitForTool resolves when the tool arrives, at once if present, and rejects on abort without leaking', async () => {
    const { proxy, robot } = await setup();
    await expect(proxy.waitForTool('ping')).resolves.toMatchObject({ name: 'ping' });
    const later = proxy.waitForTool('grip');
    await robot.register('grip');
    await expect(later).resolves.toMatchObject({ name: 'grip', provider: 'robot' });
    const controller = new AbortController();
    const never = proxy.waitForTool('fly', { signal: controller.signal });
    controller.abort();
    await expect(never).rejects.toMatchObject({ code: 'CANCELLED', reason: 'caller-aborted' });
    expect(proxy.hooks.listenerCount('tool:registered')).toBe(0);
  });

  it('a second provider with the same tool name is exposed under a stable suffixed name', async () => {
    const { proxy, room } = await setup();
    const other = await WirePeer.join(room, 'robot-2');
    await other.register('ping');
    await microtasks();
    expect(other.frames('agent:tool-registered')).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'ping',
        success: true,
        exposed_name: expect.stringMatching(/^ping_[0-9a-f]{8}$/),
        sent_at_ms: expect.any(Number),
      },
    ]);
    const exposed = String(other.frames('agent:tool-registered')[0]?.exposed_name);
    const call = proxy.call(exposed);
    await microtasks();
    expect(other.frames('agent:tool-call')).toEqual([expect.objectContaining({ name: 'ping' })]);
    await other.result(other.callId(), 'from robot-2');
    await expect(call).resolves.toBe('from robot-2');
  });

  it('close() is idempotent and closes the channel (providers see the proxy leave)', async () => {
    const { proxy, room } = await setup();
    await proxy.close();
    await proxy.close();
    expect(room.present().map((member) => member.identity)).toEqual(['robot']);
  });

  it('rejects nonsensical options', () => {
    expect(() => new ToolProxy({ defaultTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new ToolProxy({ maxTotalTimeoutMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('a resumed connection', () => {
  it('cancels the calls pending across it (their frames may be lost), tells providers, and says hello again', async () => {
    const { proxy, robot, room } = await setup();
    const call = proxy.call('ping');
    await microtasks();
    const agentEnd = room.present().find((member) => member.identity === 'agent');
    agentEnd?.resume();
    await expect(call).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'connection-interrupted',
    });
    await microtasks();
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([
      expect.objectContaining({ call_id: robot.callId(), reason: 'connection-interrupted' }),
    ]);
    expect(robot.frames('agent:hello')).toHaveLength(1);
    expect(proxy.tools().map((tool) => tool.name)).toEqual(['move_arm', 'ping']); // providers stay
  });
});

/** ToolProvider against a real ToolProxy: calls, errors, stops, deadlines and exposed names. */
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../bridge/memory.js';
import {
  defineTool,
  type ToolDefinition,
  ToolProvider,
  ToolProxy,
  ToolProxyError,
} from '../../../src/index.js';
import { flush } from '../../support/util.js';
import {
  abortableTool,
  add,
  controlledTool,
  echo,
  nth,
  track,
  useFakeTimersAndCleanup,
} from './fixtures.js';

useFakeTimersAndCleanup();

describe('ToolProvider with a real ToolProxy', () => {
  async function linked(tools: readonly ToolDefinition[]) {
    const [agentEnd, providerEnd, room] = InMemoryRoom.createLinkedPair();
    const wire: Array<{ from: string; to: string; frame: Record<string, unknown> }> = [];
    room.tap((from, to, text) => {
      wire.push({ from, to, frame: JSON.parse(text) });
    });
    const proxy = track(new ToolProxy());
    await proxy.start(agentEnd);
    const provider = track(new ToolProvider({ tools }));
    const registered: string[] = [];
    provider.events.on('registered', ({ exposedName }) => registered.push(exposedName));
    await provider.connect(providerEnd);
    await flush();
    return { proxy, provider, room, wire, registered };
  }

  it('proxy.call() resolves with the handler result', async () => {
    const move = defineTool({
      name: 'move_arm',
      description: 'Moves the arm',
      input: z.object({ degrees: z.number() }),
      timeoutMs: 45_000,
      handler: ({ degrees }) => ({ moved: degrees }),
    });
    const { proxy, registered } = await linked([echo, move]);

    expect(registered.sort()).toEqual(['echo', 'move_arm']);
    expect(proxy.getTool('move_arm')).toMatchObject({
      provider: 'provider',
      timeoutMs: 45_000,
      inputSchema: { type: 'object' },
    });
    await expect(proxy.call('move_arm', { degrees: 30 })).resolves.toEqual({ moved: 30 });
    await expect(proxy.call('echo', { text: 'hi' })).resolves.toEqual({ text: 'hi' });
  });

  it('proxy.call() rejects with REMOTE_ERROR when the handler throws', async () => {
    const fails = defineTool({
      name: 'fails',
      description: 'fails',
      input: z.object({}),
      handler: () => {
        throw new Error('gripper jammed');
      },
    });
    const { proxy } = await linked([fails]);

    await expect(proxy.call('fails')).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      message: expect.stringContaining('gripper jammed'),
    });
  });

  it('a tool whose argument parsing throws fails the call at once, not at the deadline', async () => {
    const picky = defineTool({
      name: 'picky',
      description: 'its input transform throws on "bad"',
      input: z.object({
        code: z.string().transform((code) => {
          if (code === 'bad') throw new Error('transform threw');
          return code;
        }),
      }),
      handler: ({ code }) => code,
    });
    const { proxy } = await linked([picky]);

    let outcome: unknown = 'still pending';
    proxy.call('picky', { code: 'bad' }).then(
      (value) => {
        outcome = { value };
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    await flush();
    await flush();

    expect(outcome).toMatchObject({ code: 'REMOTE_ERROR' });
    expect(proxy.pendingCalls).toBe(0);
  });

  it('registers with a proxy that starts after the provider', async () => {
    const [agentEnd, providerEnd] = InMemoryRoom.createLinkedPair();
    const provider = track(new ToolProvider({ tools: [add] }));
    await provider.connect(providerEnd);
    await flush();
    const proxy = track(new ToolProxy());
    await proxy.start(agentEnd);
    await flush();

    await expect(proxy.call('add', { a: 2, b: 3 })).resolves.toBe(5);
  });

  it('agent_loop_stopped aborts the handler with reason agent-loop-stopped', async () => {
    const { tool, runs } = controlledTool();
    const { proxy, provider, wire } = await linked([tool]);

    const call = proxy.call('slow', {}, { sessionKey: 's' });
    const rejected = expect(call).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
    });
    await flush();
    const run = nth(runs, 0);
    expect(run.ctx.signal.aborted).toBe(false);

    proxy.lifecycle('agent_loop_stopped', {
      session_key: 's',
      platform: 'livekit',
      reason: 'Stop requested',
      invalidation_reason: 'stop_command',
    });
    await rejected;
    await flush();

    expect(run.ctx.signal.aborted).toBe(true);
    expect(run.ctx.signal.reason).toBeInstanceOf(ToolProxyError);
    expect(run.ctx.signal.reason).toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
      detail: expect.stringContaining('Stop requested'),
      callId: run.ctx.callId,
    });
    expect(provider.runningCalls).toBe(0);

    run.done.resolve('finished anyway');
    await flush();
    const fromProvider = wire.filter(
      (w) => w.from === 'provider' && w.frame.call_id === run.ctx.callId,
    );
    expect(fromProvider).toEqual([]);
    expect(proxy.stats().results).toMatchObject({ late: 0, unknown: 0 });
  });

  it("the proxy's deadline aborts the handler with TIMEOUT", async () => {
    const { tool, signals } = abortableTool();
    const { proxy, provider } = await linked([tool]);

    const call = proxy.call('abortable');
    const rejected = expect(call).rejects.toMatchObject({ code: 'TIMEOUT' });
    await flush();
    expect(nth(signals, 0).aborted).toBe(false);

    await vi.advanceTimersByTimeAsync(29_999);
    expect(nth(signals, 0).aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await rejected;
    await flush();

    expect(nth(signals, 0).reason).toBeInstanceOf(ToolProxyError);
    expect(nth(signals, 0).reason).toMatchObject({ code: 'TIMEOUT' });
    expect(provider.runningCalls).toBe(0);
  });

  it('gets a suffixed exposed name when another provider has the same tool', async () => {
    const room = new InMemoryRoom();
    const proxy = track(new ToolProxy());
    await proxy.start(room.join('agent', { isAgent: true }));
    const first = track(new ToolProvider({ tools: [echo] }));
    const second = track(new ToolProvider({ tools: [echo] }));
    const onFirst = vi.fn();
    const onSecond = vi.fn();
    first.events.on('registered', onFirst);
    second.events.on('registered', onSecond);
    await first.connect(room.join('robot-a'));
    await flush();
    await second.connect(room.join('robot-b'));
    await flush();

    const exposed = proxy.tools().find((t) => t.provider === 'robot-b')?.name;
    expect(exposed).toMatch(/^echo_[0-9a-f]{8}$/);
    expect(onFirst).toHaveBeenCalledWith({ proxy: 'agent', name: 'echo', exposedName: 'echo' });
    expect(onSecond).toHaveBeenCalledWith({ proxy: 'agent', name: 'echo', exposedName: exposed });
  });
});

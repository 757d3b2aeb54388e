/** Edges found by reading the code against the protocol: each pinned so it stays fixed. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../bridge/memory.js';
import { defineTool, ToolProvider, ToolProxy } from '../src/index.js';
import { HelloFrame } from '../src/protocol/frames.js';
import { microtasks, observe, setup } from './support/harness.js';
import { WirePeer } from './support/wire-peer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
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

describe('registration', () => {
  it('a replace batch from a provider at its cap swaps its tools instead of refusing the new ones', async () => {
    const { proxy, room } = await setup({ maxToolsPerProvider: 2 });
    const page = await WirePeer.join(room, 'page');
    await page.register('a');
    await page.register('b');
    const tool = (name: string) => ({ name, description: name, input_schema: { type: 'object' } });
    await page.send({
      type: 'client:tool-register-batch',
      replace: true,
      tools: [tool('c'), tool('d')],
    });
    await microtasks();
    expect(
      proxy
        .tools()
        .filter((t) => t.provider === 'page')
        .map((t) => t.name),
    ).toEqual(['c', 'd']);
    expect(page.frames('agent:tool-registered').map((f) => f.success)).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  it('a registration policy that throws refuses the tool (not-allowed) and still answers', async () => {
    const { robot } = await setup({
      policy: () => {
        throw new Error('policy store offline');
      },
    });
    expect(robot.frames('agent:tool-registered')).toEqual([
      expect.objectContaining({
        name: 'move_arm',
        success: false,
        reason: 'not-allowed',
        detail: expect.stringContaining('policy store offline'),
      }),
      expect.objectContaining({ name: 'ping', success: false, reason: 'not-allowed' }),
    ]);
  });
});

describe('results', () => {
  it('an oversize result whose head names the call fails that call at once with INVALID_RESULT', async () => {
    const { proxy, robot } = await setup({ maxFrameChars: 1_000 });
    const call = proxy.call('ping');
    await microtasks();
    const text = `{"type":"client:tool-result","call_id":"${robot.callId()}","result":"${'x'.repeat(2_000)}"}`;
    await robot.channel.send('agent', text);
    await expect(call).rejects.toMatchObject({
      code: 'INVALID_RESULT',
      message: expect.stringContaining('exceeds'),
    });
    expect(proxy.stats().frames.tooLarge).toBe(1);
  });

  it('an oversize result from another participant does not touch the call', async () => {
    const { proxy, robot, room } = await setup({ maxFrameChars: 1_000 });
    const stranger = await WirePeer.join(room, 'stranger');
    const call = observe(proxy.call('ping'));
    await microtasks();
    await stranger.channel.send(
      'agent',
      `{"type":"client:tool-result","call_id":"${robot.callId()}","result":"${'x'.repeat(2_000)}"}`,
    );
    await microtasks();
    expect(call.state()).toBe('pending');
  });

  it('the provider runtime turns a result too large for a frame into an error result', async () => {
    const { proxy, room } = await setup();
    const provider = new ToolProvider({
      maxFrameChars: 500,
      tools: [
        defineTool({
          name: 'dump',
          description: 'big',
          input: z.object({}),
          handler: () => 'y'.repeat(1_000),
        }),
      ],
    });
    await provider.connect(room.join('dumper'));
    await proxy.waitForTool('dump');
    await expect(proxy.call('dump')).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      message: expect.stringContaining('a frame holds at most 500'),
    });
  });
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

/**
 * Against a real LiveKit server (test/live/global-setup.ts starts it; test/live-suite.test.ts runs
 * this suite in a loopback-only network namespace). The real @livekit/rtc-node on both sides: the
 * proxy's seat (LiveKitAgentChannel) and a Node provider.
 */
import { dispose, Room } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { LiveKitAgentChannel, mintProviderToken } from '../../bridge/livekit/index.js';
import { rtcProviderChannel } from '../../bridge/livekit/node-provider.js';
import { defineTool, ToolProvider, ToolProxy } from '../../src/index.js';

const { url, apiKey, apiSecret } = inject('livekit');

describe('live LiveKit server: rtc-node agent and rtc-node provider', () => {
  const room = `toolproxy-live-${Date.now().toString(36)}`;
  const aborts: unknown[] = [];
  let proxy: ToolProxy;
  let provider: ToolProvider;
  let robotRoom: Room;

  beforeAll(async () => {
    const credentials = { apiKey: apiKey, apiSecret: apiSecret };
    proxy = new ToolProxy();
    await proxy.start(
      new LiveKitAgentChannel({
        url: url,
        room,
        ...credentials,
        disposeOnClose: false,
      }),
    );
    robotRoom = new Room();
    await robotRoom.connect(
      url,
      await mintProviderToken({ ...credentials, room, identity: 'live-robot' }),
      {
        autoSubscribe: false,
        dynacast: false,
      },
    );
    provider = new ToolProvider({
      tools: [
        defineTool({
          name: 'echo',
          description: 'echo',
          input: z.object({ text: z.string() }),
          handler: ({ text }) => text,
        }),
        defineTool({
          name: 'hold',
          description: 'runs until aborted',
          input: z.object({}),
          handler: (_args, { signal }) =>
            new Promise((_resolve, reject) => {
              signal.addEventListener('abort', () => {
                aborts.push(signal.reason);
                reject(signal.reason as Error);
              });
            }),
        }),
      ],
    });
    await provider.connect(rtcProviderChannel(robotRoom));
    await proxy.waitForTool('hold', { signal: AbortSignal.timeout(10_000) });
  }, 30_000);

  afterAll(async () => {
    await provider?.close();
    await robotRoom?.disconnect();
    await proxy?.close();
    await dispose();
  });

  it('calls a tool in the room', async () => {
    await expect(proxy.call('echo', { text: 'hello room' })).resolves.toBe('hello room');
  });

  it('carries a frame larger than one data packet (text stream)', async () => {
    const text = 'x'.repeat(100_000);
    await expect(proxy.call('echo', { text })).resolves.toBe(text);
  });

  it('agent_loop_stopped cancels at once and the robot handler sees the abort', async () => {
    const call = proxy.call('hold', {}, { sessionKey: 'live' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    proxy.lifecycle('agent_loop_stopped', { session_key: 'live', reason: 'Stop requested' });
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
    for (let i = 0; i < 50 && aborts.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(aborts[0]).toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
  });

  it('the robot leaving removes its tools', async () => {
    await provider.close();
    await robotRoom.disconnect();
    for (let i = 0; i < 50 && proxy.tools().length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(proxy.tools()).toEqual([]);
  });
});

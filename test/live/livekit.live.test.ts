/**
 * Against a real LiveKit server, when one is configured:
 *
 *   livekit-server --dev &
 *   LIVEKIT_URL=ws://localhost:7880 LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret npm test
 *
 * Without those variables the suite is reported as skipped. It uses the real @livekit/rtc-node on
 * both sides: the proxy's seat (LiveKitAgentChannel) and a Node provider.
 */
import { dispose, Room } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LiveKitAgentChannel, mintProviderToken } from '../../bridge/livekit/index.js';
import { rtcProviderChannel } from '../../bridge/livekit/node-provider.js';
import { defineTool, ToolProvider, ToolProxy } from '../../src/index.js';

const url = process.env.LIVEKIT_URL;
const apiKey = process.env.LIVEKIT_API_KEY;
const apiSecret = process.env.LIVEKIT_API_SECRET;
const configured = Boolean(url && apiKey && apiSecret);

describe.skipIf(!configured)(
  'live LiveKit server (skipped: set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)',
  () => {
    const room = `toolproxy-live-${Date.now().toString(36)}`;
    const aborts: unknown[] = [];
    let proxy: ToolProxy;
    let provider: ToolProvider;
    let robotRoom: Room;

    beforeAll(async () => {
      const credentials = { apiKey: apiKey as string, apiSecret: apiSecret as string };
      proxy = new ToolProxy();
      await proxy.start(
        new LiveKitAgentChannel({
          url: url as string,
          room,
          ...credentials,
          disposeOnClose: false,
        }),
      );
      robotRoom = new Room();
      await robotRoom.connect(
        url as string,
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
  },
);

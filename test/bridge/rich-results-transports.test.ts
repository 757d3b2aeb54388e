/**
 * A ~600 KB image result through every bridge: the in-memory room, the WebSocket bridge, and the
 * LiveKit double with rtc-node and livekit-client providers (there it is far over one packet, so
 * it travels as a text stream). Above the frame cap the provider answers with an error instead.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LiveKitAgentChannel, mintProviderToken } from '../../bridge/livekit/index.js';
import { rtcProviderChannel } from '../../bridge/livekit/node-provider.js';
import { rtcRoomPort } from '../../bridge/livekit/rtc-port.js';
import { FakeLiveKitServer, FakeRtcRoom } from '../../bridge/livekit/testing/index.js';
import {
  defineTool,
  toolContent,
  ToolProvider,
  ToolProxy,
  ToolResultContent,
} from '../../src/index.js';
import { liveKitWorld } from '../contract/livekit-worlds.js';
import { memoryWorld } from '../contract/memory-world.js';
import { webSocketWorld } from '../contract/websocket-world.js';
import type { BridgeWorld } from '../contract/world.js';
import { flush } from '../support/util.js';

/** 450,000 random bytes: 600,000 characters of base64, as a camera frame might be. */
const IMAGE = randomBytes(450_000).toString('base64');

const snapshot = defineTool({
  name: 'snapshot',
  description: 'a big picture',
  input: z.object({ bytes: z.number().int() }),
  handler: ({ bytes }) =>
    toolContent(
      [
        {
          type: 'image',
          data: bytes === 450_000 ? IMAGE : randomBytes(bytes).toString('base64'),
          mimeType: 'image/png',
        },
        { type: 'text', text: 'the whole room' },
      ],
      { bytes },
    ),
});

function bigImageThrough(makeWorld: () => BridgeWorld): void {
  let world: BridgeWorld;
  let proxy: ToolProxy;
  let provider: ToolProvider;

  beforeEach(async () => {
    world = makeWorld();
    proxy = new ToolProxy();
    await proxy.start(world.proxyChannel());
    provider = new ToolProvider({ tools: [snapshot], maxFrameChars: world.maxFrameBytes });
    await provider.connect(await world.providerChannel('camera'));
    await world.settle();
    await proxy.waitForTool('snapshot');
  });

  afterEach(async () => {
    await provider.close();
    await proxy.close();
    await world.teardown();
  });

  it('a 600 KB base64 image arrives whole, as content beside its structured value', async () => {
    const value = await proxy.call('snapshot', { bytes: 450_000 });
    expect(value).toBeInstanceOf(ToolResultContent);
    const { content, structured } = value as ToolResultContent;
    expect(content).toHaveLength(2);
    expect(content[0]).toMatchObject({ type: 'image', mimeType: 'image/png' });
    // Compared as a boolean: a failure should not print 600,000 characters.
    expect(content[0]?.type === 'image' && content[0].data === IMAGE).toBe(true);
    expect(content[1]).toEqual({ type: 'text', text: 'the whole room' });
    expect(structured).toEqual({ bytes: 450_000 });
  });

  it('an image over the frame cap is answered with an error saying what to send instead', async () => {
    await expect(proxy.call('snapshot', { bytes: 800_000 })).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      message: expect.stringMatching(/a frame holds at most 1048576 .*resource_link/),
    });
  });
}

describe('through the in-memory room', () => bigImageThrough(memoryWorld));
describe('through the WebSocket bridge', () => bigImageThrough(webSocketWorld));
describe('through LiveKit, rtc-node provider', () => bigImageThrough(liveKitWorld('rtc-node')));
describe('through LiveKit, livekit-client provider', () =>
  bigImageThrough(liveKitWorld('livekit-client')));

describe('on LiveKit the image goes as a text stream', () => {
  it('no data packet carries more than the reliable packet limit', async () => {
    const server = new FakeLiveKitServer();
    const { apiKey, apiSecret } = server;
    const proxy = new ToolProxy();
    await proxy.start(
      new LiveKitAgentChannel({
        url: server.url,
        room: 'lab',
        apiKey,
        apiSecret,
        runtime: {
          createRoom: () => new FakeRtcRoom(server),
          port: rtcRoomPort,
          dispose: () => Promise.resolve(),
        },
      }),
    );
    const room = new FakeRtcRoom(server);
    await room.connect(
      server.url,
      await mintProviderToken({ apiKey, apiSecret, room: 'lab', identity: 'camera' }),
    );
    const provider = new ToolProvider({ tools: [snapshot] });
    try {
      await provider.connect(rtcProviderChannel(room));
      for (let i = 0; i < 3; i++) {
        await server.settle();
        await flush();
      }
      await proxy.waitForTool('snapshot');
      const value = await proxy.call('snapshot', { bytes: 450_000 });
      expect(value).toBeInstanceOf(ToolResultContent);
      expect(server.largestPacketBytes).toBeLessThanOrEqual(15_000);
    } finally {
      await provider.close();
      await proxy.close();
      await room.disconnect();
    }
  });
});

/**
 * The LiveKit bridge as contract worlds, on the LiveKit double: the proxy's seat on rtc-node, and
 * providers on rtc-node (robots, Node programs) or on livekit-client (browser pages).
 */
import { LiveKitAgentChannel, mintProviderToken } from '../../bridge/livekit/index.js';
import { rtcRoomPort } from '../../bridge/livekit/rtc-port.js';
import { browserProviderChannel } from '../../bridge/livekit/browser.js';
import { rtcProviderChannel } from '../../bridge/livekit/node-provider.js';
import {
  FakeClientRoom,
  FakeLiveKitServer,
  FakeRtcRoom,
} from '../../bridge/livekit/testing/index.js';
import type { ToolChannel } from '../../src/index.js';
import { flush } from '../support/util.js';
import type { BridgeWorld } from './world.js';

const ROOM = 'contract';
const AGENT = 'toolproxy-agent';

type ProviderFlavour = 'rtc-node' | 'livekit-client';

export function liveKitWorld(flavour: ProviderFlavour): () => BridgeWorld {
  return () => {
    const server = new FakeLiveKitServer({ dataBeforeJoin: true });
    const rooms: Array<{ disconnect(): Promise<void> }> = [];
    const credentials = { apiKey: server.apiKey, apiSecret: server.apiSecret, room: ROOM };

    const joinAsProvider = async (identity: string): Promise<ToolChannel> => {
      const token = await mintProviderToken({ ...credentials, identity });
      if (flavour === 'rtc-node') {
        const room = new FakeRtcRoom(server);
        await room.connect(server.url, token);
        rooms.push(room);
        return rtcProviderChannel(room);
      }
      const room = new FakeClientRoom(server);
      await room.connect(server.url, token);
      rooms.push(room);
      return browserProviderChannel(room);
    };

    return {
      name: `LiveKit: rtc-node agent ↔ ${flavour} provider`,
      proxyChannel: () =>
        new LiveKitAgentChannel({
          url: server.url,
          ...credentials,
          identity: AGENT,
          runtime: {
            createRoom: () => new FakeRtcRoom(server),
            port: rtcRoomPort,
            dispose: () => Promise.resolve(),
          },
        }),
      proxyIdentity: () => AGENT,
      providerChannel: joinAsProvider,
      // Handed over once the proxy has seen the join: like the real server, the double does not
      // order a joiner's first packets after its join.
      strangerChannel: async (identity) => {
        const channel = await joinAsProvider(identity);
        await settle(server);
        return channel;
      },
      maxFrameBytes: 1_048_576,
      dropProvider: async (identity) => {
        server.removeParticipant(ROOM, identity);
        await settle(server);
      },
      resumeProxy: async () => {
        server.interrupt(ROOM, AGENT);
        await settle(server);
        server.resume(ROOM, AGENT);
        await settle(server);
      },
      settle: () => settle(server),
      teardown: async () => {
        for (const room of rooms) await room.disconnect().catch(() => {});
      },
    };
  };
}

async function settle(server: FakeLiveKitServer): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await server.settle();
    await flush();
  }
}

/**
 * The LiveKit bridge as a contract world on the real server: the proxy's seat and the providers on
 * real @livekit/rtc-node rooms, one room per test. "Settled" is counted, not waited for: every
 * channel is tapped, and settle() resolves once every frame handed to the SFU has been delivered
 * (or after a bound, for frames addressed to someone who left).
 */
import { Room, RoomEvent, SimulateScenarioKind } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { LiveKitAgentChannel, mintProviderToken } from '../../bridge/livekit/index.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../bridge/livekit/channel.js';
import { rtcProviderChannel } from '../../bridge/livekit/node-provider.js';
import { rtcRoomPort } from '../../bridge/livekit/rtc-port.js';
import type { ToolChannel } from '../../src/index.js';
import type { BridgeWorld } from '../contract/world.js';
import { FrameLedger } from './frame-ledger.js';

const AGENT = 'toolproxy-agent';

export interface LiveKitCredentials {
  url: string;
  apiKey: string;
  apiSecret: string;
}

/**
 * The proxy's seat on rtc-node in `room`, as the contract worlds use it: `onRoom` gets each room it
 * makes (to force reconnects and to see whom it has seen), and rtc-node is disposed by the suite.
 */
export function rtcProxySeat(
  { url, apiKey, apiSecret }: LiveKitCredentials,
  room: string,
  onRoom: (made: Room) => void,
): LiveKitAgentChannel {
  return new LiveKitAgentChannel({
    url,
    apiKey,
    apiSecret,
    room,
    identity: AGENT,
    runtime: {
      createRoom: () => {
        const made = new Room();
        onRoom(made);
        return made;
      },
      port: rtcRoomPort,
      dispose: () => Promise.resolve(),
    },
  });
}

let worlds = 0;

export function realLiveKitWorld(server: LiveKitCredentials): () => BridgeWorld {
  return () => {
    const { url, apiKey, apiSecret } = server;
    const room = `contract-${++worlds}-${Date.now().toString(36)}`;
    const rooms: Room[] = [];
    const ledger = new FrameLedger();
    let agentRoom: Room | undefined;
    const service = new RoomServiceClient(url.replace(/^ws/, 'http'), apiKey, apiSecret);

    /** Joined once the proxy's room lists it too: joins and data are not ordered on the SFU. */
    const joinAsProvider = async (identity: string): Promise<ToolChannel> => {
      const participant = new Room();
      const token = await mintProviderToken({ apiKey, apiSecret, room, identity });
      await participant.connect(url, token, { autoSubscribe: false, dynacast: false });
      rooms.push(participant);
      await seenByProxy(identity);
      return ledger.tap(rtcProviderChannel(participant));
    };
    const seenByProxy = (identity: string) =>
      new Promise<void>((resolve) => {
        const proxyRoom = agentRoom;
        if (proxyRoom === undefined || proxyRoom.remoteParticipants.has(identity)) return resolve();
        const joined = (participant: { identity: string }) => {
          if (participant.identity !== identity) return;
          proxyRoom.off(RoomEvent.ParticipantConnected, joined);
          resolve();
        };
        proxyRoom.on(RoomEvent.ParticipantConnected, joined);
      });

    return {
      name: 'LiveKit (real server): rtc-node agent ↔ rtc-node provider',
      proxyChannel: () => ledger.tap(rtcProxySeat(server, room, (made) => (agentRoom = made))),
      proxyIdentity: () => AGENT,
      providerChannel: joinAsProvider,
      strangerChannel: joinAsProvider,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      dropProvider: async (identity) => {
        await service.removeParticipant(room, identity);
      },
      resumeProxy: async () => {
        if (agentRoom === undefined) throw new Error('the proxy has not joined');
        await agentRoom.simulateScenario(SimulateScenarioKind.SIMULATE_SIGNAL_RECONNECT);
      },
      settle: () => ledger.settled(),
      teardown: async () => {
        for (const participant of rooms) await participant.disconnect().catch(() => {});
        await service.deleteRoom(room).catch(() => {});
      },
    };
  };
}

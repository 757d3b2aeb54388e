/** RoomPort over livekit-client's Room (browser providers). Browser-safe: types only from livekit-client. */
import type { PeerInfo } from '../../src/seam.js';
import { type ProviderPolicy, peerInfo, type RoomPort, listenToRoom } from './room-port.js';
import type { ClientParticipant, ClientRoom } from './client-room.js';

export function clientRoomPort(room: ClientRoom, policy?: ProviderPolicy): RoomPort {
  const toPeer = (participant: ClientParticipant): PeerInfo =>
    peerInfo(participant.identity, participant.isAgent, participant.attributes, policy);
  return {
    localIdentity: () => room.localParticipant.identity,
    peers: () => [...room.remoteParticipants.values()].map(toPeer),
    publish: (payload, to, topic) =>
      room.localParticipant.publishData(new Uint8Array(payload), {
        reliable: true,
        destinationIdentities: [to],
        ...(topic === undefined ? {} : { topic }),
      }),
    sendText: async (text, to, topic) => {
      await room.localParticipant.sendText(text, { topic, destinationIdentities: [to] });
    },
    listen: (listeners, streamTopic) =>
      listenToRoom(room, listeners, streamTopic, toPeer, (reason) => String(reason ?? 'unknown')),
  };
}

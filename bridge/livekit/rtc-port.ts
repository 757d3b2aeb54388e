/** RoomPort over @livekit/rtc-node's Room (the agent side, and Node providers such as robots). */
import { DisconnectReason, ParticipantKind } from '@livekit/rtc-node';
import type { PeerInfo } from '../../src/seam.js';
import { type ProviderPolicy, peerInfo, type RoomPort, listenToRoom } from './room-port.js';
import type { RtcParticipant, RtcRoom } from './rtc-room.js';

export function rtcRoomPort(room: RtcRoom, policy?: ProviderPolicy): RoomPort {
  const toPeer = (participant: RtcParticipant): PeerInfo =>
    peerInfo(
      participant.identity,
      participant.kind === ParticipantKind.AGENT,
      participant.attributes,
      policy,
    );
  return {
    localIdentity: () => room.localParticipant?.identity ?? '',
    peers: () => [...room.remoteParticipants.values()].map(toPeer),
    publish: (payload, to, topic) =>
      local(room).publishData(payload, {
        reliable: true,
        destination_identities: [to],
        ...(topic === undefined ? {} : { topic }),
      }),
    sendText: async (text, to, topic) => {
      await local(room).sendText(text, { topic, destinationIdentities: [to] });
    },
    listen: (listeners, streamTopic) =>
      listenToRoom(room, listeners, streamTopic, toPeer, (reason) =>
        reason === undefined ? 'unknown' : (DisconnectReason[reason] ?? String(reason)),
      ),
  };
}

function local(room: RtcRoom) {
  const participant = room.localParticipant;
  if (participant === undefined) throw new Error('the LiveKit room is not connected');
  return participant;
}

/** RoomPort over @livekit/rtc-node's Room (the agent side, and Node providers such as robots). */
import { DisconnectReason, ParticipantKind, RoomEvent } from '@livekit/rtc-node';
import type { PeerInfo } from '../../src/channel.js';
import {
  type ProviderPolicy,
  peerInfo,
  type RoomPort,
  type RoomPortListeners,
} from './room-port.js';
import type { RtcParticipant, RtcRoom, RtcRoomEvents } from './rtc-room.js';

export function rtcRoomPort(room: RtcRoom, policy?: ProviderPolicy): RoomPort {
  const toPeer = (participant: RtcParticipant): PeerInfo =>
    peerInfo(
      participant.identity,
      participant.kind === ParticipantKind.AGENT,
      participant.attributes,
      policy,
    );
  const byIdentity = (identity: string): PeerInfo | undefined => {
    const participant = room.remoteParticipants.get(identity);
    return participant === undefined ? undefined : toPeer(participant);
  };
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
    listen: (listeners, streamTopic) => listen(room, listeners, streamTopic, toPeer, byIdentity),
  };
}

function local(room: RtcRoom) {
  const participant = room.localParticipant;
  if (participant === undefined) throw new Error('the LiveKit room is not connected');
  return participant;
}

function listen(
  room: RtcRoom,
  listeners: RoomPortListeners,
  streamTopic: string,
  toPeer: (participant: RtcParticipant) => PeerInfo,
  byIdentity: (identity: string) => PeerInfo | undefined,
): () => void {
  const onData: RtcRoomEvents[RoomEvent.DataReceived] = (payload, participant, _kind, topic) =>
    listeners.data(payload, participant === undefined ? undefined : toPeer(participant), topic);
  const onJoined: RtcRoomEvents[RoomEvent.ParticipantConnected] = (p) =>
    listeners.joined(toPeer(p));
  const onLeft: RtcRoomEvents[RoomEvent.ParticipantDisconnected] = (p) => listeners.left(toPeer(p));
  const onDisconnected: RtcRoomEvents[RoomEvent.Disconnected] = (reason) =>
    listeners.disconnected(DisconnectReason[reason]);
  const onReconnecting = () => listeners.reconnecting();
  const onReconnected = () => listeners.reconnected();
  room.on(RoomEvent.DataReceived, onData);
  room.on(RoomEvent.ParticipantConnected, onJoined);
  room.on(RoomEvent.ParticipantDisconnected, onLeft);
  room.on(RoomEvent.Disconnected, onDisconnected);
  room.on(RoomEvent.Reconnecting, onReconnecting);
  room.on(RoomEvent.Reconnected, onReconnected);
  room.registerTextStreamHandler(streamTopic, (reader, { identity }) =>
    listeners.text(reader.readAll(), byIdentity(identity)),
  );
  return () => {
    room.off(RoomEvent.DataReceived, onData);
    room.off(RoomEvent.ParticipantConnected, onJoined);
    room.off(RoomEvent.ParticipantDisconnected, onLeft);
    room.off(RoomEvent.Disconnected, onDisconnected);
    room.off(RoomEvent.Reconnecting, onReconnecting);
    room.off(RoomEvent.Reconnected, onReconnected);
    room.unregisterTextStreamHandler(streamTopic);
  };
}

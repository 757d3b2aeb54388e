/** RoomPort over livekit-client's Room (browser providers). Browser-safe: no Node built-ins. */
import { RoomEvent } from 'livekit-client';
import type { PeerInfo } from '../../src/channel.js';
import {
  type ProviderPolicy,
  peerInfo,
  type RoomPort,
  type RoomPortListeners,
} from './room-port.js';
import type { ClientParticipant, ClientRoom, ClientRoomEvents } from './client-room.js';

export function clientRoomPort(room: ClientRoom, policy?: ProviderPolicy): RoomPort {
  const toPeer = (participant: ClientParticipant): PeerInfo =>
    peerInfo(participant.identity, participant.isAgent, participant.attributes, policy);
  const byIdentity = (identity: string): PeerInfo | undefined => {
    const participant = room.remoteParticipants.get(identity);
    return participant === undefined ? undefined : toPeer(participant);
  };
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
    listen: (listeners, streamTopic) => listen(room, listeners, streamTopic, toPeer, byIdentity),
  };
}

function listen(
  room: ClientRoom,
  listeners: RoomPortListeners,
  streamTopic: string,
  toPeer: (participant: ClientParticipant) => PeerInfo,
  byIdentity: (identity: string) => PeerInfo | undefined,
): () => void {
  // livekit-client names the sender in a 6th argument even when the participant object is missing;
  // only a participant the room knows is trusted as a sender.
  const onData: ClientRoomEvents[RoomEvent.DataReceived] = (payload, participant, _kind, topic) =>
    listeners.data(payload, participant === undefined ? undefined : toPeer(participant), topic);
  const onJoined: ClientRoomEvents[RoomEvent.ParticipantConnected] = (p) =>
    listeners.joined(toPeer(p));
  const onLeft: ClientRoomEvents[RoomEvent.ParticipantDisconnected] = (p) =>
    listeners.left(toPeer(p));
  const onDisconnected: ClientRoomEvents[RoomEvent.Disconnected] = (reason) =>
    listeners.disconnected(String(reason ?? 'unknown'));
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

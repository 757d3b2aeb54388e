/**
 * The part of livekit-client's `Room` (the browser SDK) the bridge uses. Same rules as rtc-room.ts:
 * the real `Room` must satisfy it, and the test double implements it.
 */
import type {
  DisconnectReason,
  LocalParticipant,
  RemoteParticipant,
  Room,
  RoomEvent,
  TextStreamReader,
} from 'livekit-client';

export type ClientParticipant = Pick<RemoteParticipant, 'identity' | 'isAgent' | 'attributes'>;

export type ClientDataOptions = NonNullable<Parameters<LocalParticipant['publishData']>[1]>;
export type ClientTextOptions = NonNullable<Parameters<LocalParticipant['sendText']>[1]>;

export interface ClientLocalParticipant {
  readonly identity: string;
  publishData(data: Uint8Array<ArrayBuffer>, options?: ClientDataOptions): Promise<void>;
  sendText(text: string, options?: ClientTextOptions): Promise<unknown>;
}

export type ClientTextReader = Pick<TextStreamReader, 'readAll' | typeof Symbol.asyncIterator>;
export type ClientTextStreamHandler = (
  reader: ClientTextReader,
  participant: { identity: string },
) => void;

/** The events the bridge listens to, with livekit-client's argument order. */
export interface ClientRoomEvents {
  [RoomEvent.DataReceived]: (
    payload: Uint8Array,
    participant?: ClientParticipant,
    kind?: number,
    topic?: string,
    encryptionType?: unknown,
    participantIdentity?: string,
  ) => void;
  [RoomEvent.ParticipantConnected]: (participant: ClientParticipant) => void;
  [RoomEvent.ParticipantDisconnected]: (participant: ClientParticipant) => void;
  [RoomEvent.Disconnected]: (reason?: DisconnectReason) => void;
  [RoomEvent.Reconnecting]: () => void;
  [RoomEvent.Reconnected]: () => void;
}

export interface ClientRoom {
  readonly remoteParticipants: ReadonlyMap<string, ClientParticipant>;
  readonly localParticipant: ClientLocalParticipant;
  // One overload per event (not a generic signature), so the SDK's own typed `on` fits.
  on(event: RoomEvent.DataReceived, listener: ClientRoomEvents[RoomEvent.DataReceived]): unknown;
  on(
    event: RoomEvent.ParticipantConnected,
    listener: ClientRoomEvents[RoomEvent.ParticipantConnected],
  ): unknown;
  on(
    event: RoomEvent.ParticipantDisconnected,
    listener: ClientRoomEvents[RoomEvent.ParticipantDisconnected],
  ): unknown;
  on(event: RoomEvent.Disconnected, listener: ClientRoomEvents[RoomEvent.Disconnected]): unknown;
  on(event: RoomEvent.Reconnecting, listener: ClientRoomEvents[RoomEvent.Reconnecting]): unknown;
  on(event: RoomEvent.Reconnected, listener: ClientRoomEvents[RoomEvent.Reconnected]): unknown;
  off(event: RoomEvent.DataReceived, listener: ClientRoomEvents[RoomEvent.DataReceived]): unknown;
  off(
    event: RoomEvent.ParticipantConnected,
    listener: ClientRoomEvents[RoomEvent.ParticipantConnected],
  ): unknown;
  off(
    event: RoomEvent.ParticipantDisconnected,
    listener: ClientRoomEvents[RoomEvent.ParticipantDisconnected],
  ): unknown;
  off(event: RoomEvent.Disconnected, listener: ClientRoomEvents[RoomEvent.Disconnected]): unknown;
  off(event: RoomEvent.Reconnecting, listener: ClientRoomEvents[RoomEvent.Reconnecting]): unknown;
  off(event: RoomEvent.Reconnected, listener: ClientRoomEvents[RoomEvent.Reconnected]): unknown;
  registerTextStreamHandler(topic: string, handler: ClientTextStreamHandler): void;
  unregisterTextStreamHandler(topic: string): void;
}

type Fits<T extends ClientRoom> = T;
export type RealClientRoomFits = Fits<Room>;

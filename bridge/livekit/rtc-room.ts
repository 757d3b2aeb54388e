/**
 * The part of @livekit/rtc-node's `Room` the bridge uses, as a narrow interface. The real `Room`
 * must satisfy it (checked at compile time below), so an SDK shape change breaks the build, and the
 * test double implements the same interface without casts.
 */
import type {
  DisconnectReason,
  LocalParticipant,
  ParticipantKind,
  RemoteParticipant,
  Room,
  RoomEvent,
  RoomOptions,
  TextStreamReader,
} from '@livekit/rtc-node';

/** What the bridge reads of a participant. */
export type RtcParticipant = Pick<RemoteParticipant, 'identity' | 'kind' | 'attributes'>;

export type RtcDataOptions = Parameters<LocalParticipant['publishData']>[1];
export type RtcTextOptions = NonNullable<Parameters<LocalParticipant['sendText']>[1]>;

export interface RtcLocalParticipant {
  readonly identity: string;
  publishData(data: Uint8Array, options: RtcDataOptions): Promise<void>;
  sendText(text: string, options?: RtcTextOptions): Promise<unknown>;
}

export type RtcTextReader = Pick<TextStreamReader, 'readAll' | typeof Symbol.asyncIterator>;
export type RtcTextStreamHandler = (
  reader: RtcTextReader,
  participant: { identity: string },
) => void;

/** The events the bridge listens to, with rtc-node's argument order. */
export interface RtcRoomEvents {
  [RoomEvent.DataReceived]: (
    payload: Uint8Array,
    participant?: RtcParticipant,
    kind?: number,
    topic?: string,
  ) => void;
  [RoomEvent.ParticipantConnected]: (participant: RtcParticipant) => void;
  [RoomEvent.ParticipantDisconnected]: (participant: RtcParticipant) => void;
  [RoomEvent.Disconnected]: (reason: DisconnectReason) => void;
  [RoomEvent.Reconnecting]: () => void;
  [RoomEvent.Reconnected]: () => void;
}

export interface RtcRoom {
  readonly remoteParticipants: ReadonlyMap<string, RtcParticipant>;
  readonly localParticipant?: RtcLocalParticipant;
  readonly isConnected: boolean;
  connect(url: string, token: string, opts?: RoomOptions): Promise<void>;
  disconnect(): Promise<void>;
  // One overload per event (not a generic signature), so the SDK's own typed `on` fits.
  on(event: RoomEvent.DataReceived, listener: RtcRoomEvents[RoomEvent.DataReceived]): unknown;
  on(
    event: RoomEvent.ParticipantConnected,
    listener: RtcRoomEvents[RoomEvent.ParticipantConnected],
  ): unknown;
  on(
    event: RoomEvent.ParticipantDisconnected,
    listener: RtcRoomEvents[RoomEvent.ParticipantDisconnected],
  ): unknown;
  on(event: RoomEvent.Disconnected, listener: RtcRoomEvents[RoomEvent.Disconnected]): unknown;
  on(event: RoomEvent.Reconnecting, listener: RtcRoomEvents[RoomEvent.Reconnecting]): unknown;
  on(event: RoomEvent.Reconnected, listener: RtcRoomEvents[RoomEvent.Reconnected]): unknown;
  off(event: RoomEvent.DataReceived, listener: RtcRoomEvents[RoomEvent.DataReceived]): unknown;
  off(
    event: RoomEvent.ParticipantConnected,
    listener: RtcRoomEvents[RoomEvent.ParticipantConnected],
  ): unknown;
  off(
    event: RoomEvent.ParticipantDisconnected,
    listener: RtcRoomEvents[RoomEvent.ParticipantDisconnected],
  ): unknown;
  off(event: RoomEvent.Disconnected, listener: RtcRoomEvents[RoomEvent.Disconnected]): unknown;
  off(event: RoomEvent.Reconnecting, listener: RtcRoomEvents[RoomEvent.Reconnecting]): unknown;
  off(event: RoomEvent.Reconnected, listener: RtcRoomEvents[RoomEvent.Reconnected]): unknown;
  registerTextStreamHandler(topic: string, handler: RtcTextStreamHandler): void;
  unregisterTextStreamHandler(topic: string): void;
}

/** rtc-node's participant kind for agents (ParticipantKind.AGENT). */
export type RtcParticipantKind = ParticipantKind;

// Compile-time proof that the real SDK fits the narrow interface.
type Fits<T extends RtcRoom> = T;
export type RealRtcRoomFits = Fits<Room>;

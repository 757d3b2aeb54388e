/**
 * Pins of the LiveKit SDK surfaces the bridge and its test doubles rely on. The `expectTypeOf`
 * checks run under `tsc -p .`: an SDK update that reorders or retypes a listener argument, or
 * renames an option, breaks the build here instead of silently at runtime.
 */
import {
  ConnectionState as RtcConnectionState,
  DataPacketKind,
  DisconnectReason,
  ParticipantKind,
  RoomEvent,
  type EncryptionType,
  type LocalParticipant,
  type RemoteParticipant,
  type Room,
} from '@livekit/rtc-node';
import {
  DataPacket_Kind,
  DisconnectReason as ClientDisconnectReason,
  ParticipantKind as ClientParticipantKind,
  RoomEvent as ClientRoomEvent,
  type DataPublishOptions as ClientDataPublishOptions,
  type Encryption_Type,
  type LocalParticipant as ClientLocalParticipant,
  type RemoteParticipant as ClientRemoteParticipant,
  type RoomEventCallbacks,
  type SendTextOptions,
} from 'livekit-client';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ClientRoomEvents } from '../../../bridge/livekit/client-room.js';
import type { RtcRoomEvents } from '../../../bridge/livekit/rtc-room.js';

/**
 * rtc-node does not export its `RoomCallbacks`, and inferring them from the emitter type yields only
 * its generic constraint, so each listener type is read off the typed `on` instead.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- a handle for `typeof rtcRoom.on<…>`
declare const rtcRoom: Room;
type RtcListener<F> = F extends (event: never, listener: infer L) => unknown ? L : never;
type RtcCallbacks = {
  dataReceived: RtcListener<typeof rtcRoom.on<'dataReceived'>>;
  participantConnected: RtcListener<typeof rtcRoom.on<'participantConnected'>>;
  participantDisconnected: RtcListener<typeof rtcRoom.on<'participantDisconnected'>>;
  disconnected: RtcListener<typeof rtcRoom.on<'disconnected'>>;
  reconnecting: RtcListener<typeof rtcRoom.on<'reconnecting'>>;
  reconnected: RtcListener<typeof rtcRoom.on<'reconnected'>>;
};
type RtcArgs<E extends keyof RtcCallbacks> = Parameters<RtcCallbacks[E]>;
type ClientArgs<E extends keyof RoomEventCallbacks> = Parameters<RoomEventCallbacks[E]>;

/**
 * One `true` per parameter of a narrow listener whose type accepts the SDK's argument at the same
 * position; `false` where it does not (or where the SDK passes nothing there).
 */
type AcceptsAtEachPosition<Narrow extends unknown[], Real extends unknown[]> = {
  [I in keyof Narrow]-?: I extends keyof Real
    ? [Real[I]] extends [Narrow[I]]
      ? true
      : false
    : false;
};

describe('@livekit/rtc-node', () => {
  it('pins the Room listener parameter lists', () => {
    expectTypeOf<RtcArgs<'dataReceived'>>().toEqualTypeOf<
      [
        payload: Uint8Array,
        participant?: RemoteParticipant,
        kind?: DataPacketKind,
        topic?: string,
        encryptionType?: EncryptionType,
      ]
    >();
    expectTypeOf<RtcArgs<'participantConnected'>>().toEqualTypeOf<[RemoteParticipant]>();
    expectTypeOf<RtcArgs<'participantDisconnected'>>().toEqualTypeOf<[RemoteParticipant]>();
    expectTypeOf<RtcArgs<'disconnected'>>().toEqualTypeOf<[reason: DisconnectReason]>();
    expectTypeOf<RtcArgs<'reconnecting'>>().toEqualTypeOf<[]>();
    expectTypeOf<RtcArgs<'reconnected'>>().toEqualTypeOf<[]>();
  });

  it('pins publishData (options required, snake_case) and sendText options (camelCase)', () => {
    expectTypeOf<Parameters<LocalParticipant['publishData']>>().toEqualTypeOf<
      [
        data: Uint8Array,
        options: { reliable?: boolean; destination_identities?: string[]; topic?: string },
      ]
    >();
    expectTypeOf<Parameters<LocalParticipant['sendText']>>().toEqualTypeOf<
      [
        text: string,
        options?: {
          topic?: string;
          attributes?: Record<string, string>;
          destinationIdentities?: string[];
          streamId?: string;
          compress?: boolean;
        },
      ]
    >();
  });

  it("narrow listeners accept rtc-node's argument at every position", () => {
    type Narrow<E extends keyof RtcRoomEvents> = Parameters<RtcRoomEvents[E]>;
    expectTypeOf<
      AcceptsAtEachPosition<Narrow<RoomEvent.DataReceived>, RtcArgs<'dataReceived'>>
    >().toEqualTypeOf<[true, true, true, true]>();
    expectTypeOf<
      AcceptsAtEachPosition<Narrow<RoomEvent.ParticipantConnected>, RtcArgs<'participantConnected'>>
    >().toEqualTypeOf<[true]>();
    expectTypeOf<
      AcceptsAtEachPosition<
        Narrow<RoomEvent.ParticipantDisconnected>,
        RtcArgs<'participantDisconnected'>
      >
    >().toEqualTypeOf<[true]>();
    expectTypeOf<
      AcceptsAtEachPosition<Narrow<RoomEvent.Disconnected>, RtcArgs<'disconnected'>>
    >().toEqualTypeOf<[true]>();
    expectTypeOf<Narrow<RoomEvent.Reconnecting>>().toEqualTypeOf<[]>();
    expectTypeOf<Narrow<RoomEvent.Reconnected>>().toEqualTypeOf<[]>();
  });

  it('pins the enum values the bridge relies on', () => {
    expect(DataPacketKind.KIND_LOSSY).toBe(0);
    expect(DataPacketKind.KIND_RELIABLE).toBe(1);
    expect(ParticipantKind.STANDARD).toBe(0);
    expect(ParticipantKind.AGENT).toBe(4);
    expect(DisconnectReason.CLIENT_INITIATED).toBe(1);
    expect(DisconnectReason.DUPLICATE_IDENTITY).toBe(2);
    expect(DisconnectReason.PARTICIPANT_REMOVED).toBe(4);
    expect(DisconnectReason.ROOM_DELETED).toBe(5);
    expect(RtcConnectionState.CONN_DISCONNECTED).toBe(0);
    expect(RtcConnectionState.CONN_CONNECTED).toBe(1);
    expect(RtcConnectionState.CONN_RECONNECTING).toBe(2);
    expect({ ...RoomEvent }).toMatchObject({
      DataReceived: 'dataReceived',
      ParticipantConnected: 'participantConnected',
      ParticipantDisconnected: 'participantDisconnected',
      Disconnected: 'disconnected',
      Reconnecting: 'reconnecting',
      Reconnected: 'reconnected',
      ConnectionStateChanged: 'connectionStateChanged',
    });
  });
});

describe('livekit-client', () => {
  it('pins the RoomEventCallbacks parameter lists', () => {
    expectTypeOf<ClientArgs<'dataReceived'>>().toEqualTypeOf<
      [
        payload: Uint8Array<ArrayBuffer>,
        participant?: ClientRemoteParticipant,
        kind?: DataPacket_Kind,
        topic?: string,
        encryptionType?: Encryption_Type,
        participantIdentity?: string,
      ]
    >();
    expectTypeOf<ClientArgs<'participantConnected'>>().toEqualTypeOf<[ClientRemoteParticipant]>();
    expectTypeOf<ClientArgs<'participantDisconnected'>>().toEqualTypeOf<
      [participant: ClientRemoteParticipant, disconnectReason?: ClientDisconnectReason]
    >();
    expectTypeOf<ClientArgs<'disconnected'>>().toEqualTypeOf<[reason?: ClientDisconnectReason]>();
    expectTypeOf<ClientArgs<'connected'>>().toEqualTypeOf<[]>();
    expectTypeOf<ClientArgs<'reconnecting'>>().toEqualTypeOf<[]>();
    expectTypeOf<ClientArgs<'reconnected'>>().toEqualTypeOf<[]>();
  });

  it('pins publishData (options optional, camelCase) and sendText options', () => {
    expectTypeOf<Parameters<ClientLocalParticipant['publishData']>>().toEqualTypeOf<
      [data: Uint8Array<ArrayBuffer>, options?: ClientDataPublishOptions]
    >();
    expectTypeOf<ClientDataPublishOptions>().toEqualTypeOf<{
      reliable?: boolean;
      destinationIdentities?: string[];
      topic?: string;
    }>();
    expectTypeOf<Parameters<ClientLocalParticipant['sendText']>>().toEqualTypeOf<
      [text: string, options?: SendTextOptions]
    >();
    expectTypeOf<Pick<SendTextOptions, 'topic' | 'destinationIdentities'>>().toEqualTypeOf<{
      topic?: string;
      destinationIdentities?: string[];
    }>();
  });

  it("narrow listeners accept livekit-client's argument at every position", () => {
    type Narrow<E extends keyof ClientRoomEvents> = Parameters<ClientRoomEvents[E]>;
    expectTypeOf<
      AcceptsAtEachPosition<Narrow<ClientRoomEvent.DataReceived>, ClientArgs<'dataReceived'>>
    >().toEqualTypeOf<[true, true, true, true, true, true]>();
    expectTypeOf<
      AcceptsAtEachPosition<
        Narrow<ClientRoomEvent.ParticipantConnected>,
        ClientArgs<'participantConnected'>
      >
    >().toEqualTypeOf<[true]>();
    expectTypeOf<
      AcceptsAtEachPosition<
        Narrow<ClientRoomEvent.ParticipantDisconnected>,
        ClientArgs<'participantDisconnected'>
      >
    >().toEqualTypeOf<[true]>();
    expectTypeOf<
      AcceptsAtEachPosition<Narrow<ClientRoomEvent.Disconnected>, ClientArgs<'disconnected'>>
    >().toEqualTypeOf<[true]>();
    expectTypeOf<Narrow<ClientRoomEvent.Reconnecting>>().toEqualTypeOf<[]>();
    expectTypeOf<Narrow<ClientRoomEvent.Reconnected>>().toEqualTypeOf<[]>();
  });

  it('pins the enum values the bridge relies on', () => {
    expect(DataPacket_Kind.RELIABLE).toBe(0);
    expect(DataPacket_Kind.LOSSY).toBe(1);
    expect(ClientParticipantKind.STANDARD).toBe(0);
    expect(ClientParticipantKind.AGENT).toBe(4);
    expect(ClientDisconnectReason.CLIENT_INITIATED).toBe(1);
    expect(ClientDisconnectReason.DUPLICATE_IDENTITY).toBe(2);
    expect(ClientDisconnectReason.PARTICIPANT_REMOVED).toBe(4);
    expect(ClientDisconnectReason.ROOM_DELETED).toBe(5);
    expect({ ...ClientRoomEvent }).toMatchObject({
      Connected: 'connected',
      DataReceived: 'dataReceived',
      ParticipantConnected: 'participantConnected',
      ParticipantDisconnected: 'participantDisconnected',
      Disconnected: 'disconnected',
      Reconnecting: 'reconnecting',
      Reconnected: 'reconnected',
    });
  });
});

/**
 * A test double of `livekit-client`'s `Room` (the browser SDK, 2.x) on a `FakeLiveKitServer`,
 * implementing the bridge's narrow `ClientRoom`. It shares rooms, routing and limits with
 * `FakeRtcRoom`, so a browser-side participant and an rtc-node agent can talk in one fake room.
 * Where livekit-client differs from rtc-node, it follows livekit-client:
 *
 * - `localParticipant` always exists (identity '' before `connect()`);
 * - `DataReceived(payload, participant | undefined, kind, topic, encryptionType,
 *   participantIdentity)` with livekit-client's `DataPacket_Kind` (RELIABLE = 0, LOSSY = 1); the
 *   sixth argument names the sender even when `participant` is undefined ('' from the server);
 * - `publishData(data, { reliable, destinationIdentities, topic })`, options optional, camelCase;
 *   above the size limit it rejects with `PublishDataError`;
 * - `Connected` is emitted; `Disconnected(reason)`; `ParticipantDisconnected(participant, reason)`;
 *   participants have `isAgent`; `remoteParticipants` is cleared on disconnect;
 * - a send after a disconnect (or cut short by one) resolves without sending, as livekit-client's
 *   closed data channel does; before the first connect it rejects with `UnexpectedConnectionState`;
 * - open text readers fail with a `DataStreamError` when the room disconnects or when their sender
 *   leaves mid-stream.
 *
 * Not reproduced: the reliable channel's resend buffer across a resume (packets sent or due while
 * interrupted are lost, as with rtc-node), tracks, RPC, byte streams, e2ee.
 */
import { EventEmitter } from 'node:events';
import {
  ConnectionError,
  ConnectionState,
  DataPacket_Kind,
  DataStreamError,
  DataStreamErrorReason,
  DisconnectReason,
  Encryption_Type,
  ParticipantKind,
  PublishDataError,
  RoomEvent,
  UnexpectedConnectionState,
} from 'livekit-client';
import type { RoomConnectOptions, TextStreamInfo } from 'livekit-client';
import type {
  ClientDataOptions,
  ClientLocalParticipant,
  ClientParticipant,
  ClientRoom,
  ClientTextOptions,
  ClientTextStreamHandler,
} from '../client-room.js';
import { RoomLink } from './fake-room-core.js';
import type { RoomFlavour } from './fake-room-flavour.js';
import {
  FakeConnectError,
  PacketTooLargeError,
  type FakeParticipantInfo,
} from './fake-protocol.js';
import type { FakeLiveKitServer } from './fake-sfu.js';

/** A remote participant as livekit-client shows it (the fields the bridge and most tests read). */
export class FakeClientRemoteParticipant implements ClientParticipant {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  attributes: Record<string, string>;
  kind: ParticipantKind;

  constructor(info: FakeParticipantInfo) {
    this.sid = info.sid;
    this.identity = info.identity;
    this.name = info.name;
    this.metadata = info.metadata;
    this.attributes = { ...info.attributes };
    this.kind = info.kind === 'agent' ? ParticipantKind.AGENT : ParticipantKind.STANDARD;
  }

  get isAgent(): boolean {
    return this.kind === ParticipantKind.AGENT;
  }
}

/** livekit-client's `LocalParticipant`: present from construction, filled in by `connect()`. */
export class FakeClientLocalParticipant
  extends FakeClientRemoteParticipant
  implements ClientLocalParticipant
{
  readonly #link: RoomLink<FakeClientRemoteParticipant>;

  /** @internal */
  constructor(link: RoomLink<FakeClientRemoteParticipant>) {
    super({ sid: '', identity: '', name: '', metadata: '', attributes: {}, kind: '' });
    this.#link = link;
  }

  /** @internal Takes the identity and claims the server assigned. */
  assign(info: FakeParticipantInfo): void {
    const p = new FakeClientRemoteParticipant(info);
    this.sid = p.sid;
    this.identity = p.identity;
    this.name = p.name;
    this.metadata = p.metadata;
    this.attributes = p.attributes;
    this.kind = p.kind;
  }

  /** Options are optional and camelCase, as in livekit-client; `reliable` defaults to lossy. */
  publishData(data: Uint8Array, options: ClientDataOptions = {}): Promise<void> {
    if (this.#link.local === undefined) return Promise.reject(notConnected());
    return this.#link.publishData(data, options.reliable === true, options);
  }

  async sendText(text: string, options: ClientTextOptions = {}): Promise<TextStreamInfo> {
    if (this.#link.local === undefined) throw notConnected();
    const header = await this.#link.sendText(text, options);
    return {
      id: header.streamId,
      mimeType: 'text/plain',
      topic: header.topic,
      timestamp: header.timestamp,
      size: header.totalSize,
      attributes: { ...header.attributes },
      encryptionType: Encryption_Type.NONE,
    };
  }
}

/** The events this double emits, as listener argument tuples. */
export interface FakeClientRoomEvents {
  [RoomEvent.Connected]: [];
  [RoomEvent.DataReceived]: [
    payload: Uint8Array<ArrayBuffer>,
    participant: FakeClientRemoteParticipant | undefined,
    kind: DataPacket_Kind,
    topic: string | undefined,
    encryptionType: Encryption_Type,
    participantIdentity: string,
  ];
  [RoomEvent.ParticipantConnected]: [participant: FakeClientRemoteParticipant];
  [RoomEvent.ParticipantDisconnected]: [
    participant: FakeClientRemoteParticipant,
    reason: DisconnectReason,
  ];
  [RoomEvent.ConnectionStateChanged]: [state: ConnectionState];
  [RoomEvent.Disconnected]: [reason: DisconnectReason];
  [RoomEvent.Reconnecting]: [];
  [RoomEvent.Reconnected]: [];
}

export class FakeClientRoom extends EventEmitter<FakeClientRoomEvents> implements ClientRoom {
  readonly localParticipant: FakeClientLocalParticipant;
  readonly #link: RoomLink<FakeClientRemoteParticipant>;
  #state = ConnectionState.Disconnected;
  #name = '';

  constructor(server: FakeLiveKitServer) {
    super();
    const flavour: RoomFlavour<FakeClientRemoteParticipant> = {
      participant: (info) => new FakeClientRemoteParticipant(info),
      joined: (p) => this.emit(RoomEvent.ParticipantConnected, p),
      left: (p, reason) =>
        this.emit(RoomEvent.ParticipantDisconnected, p, DisconnectReason[reason]),
      data: (payload, participant, from, reliable, topic) => {
        const kind = reliable ? DataPacket_Kind.RELIABLE : DataPacket_Kind.LOSSY;
        const { NONE } = Encryption_Type;
        this.emit(RoomEvent.DataReceived, payload, participant, kind, topic, NONE, from ?? '');
      },
      reconnecting: () => {
        this.#setState(ConnectionState.Reconnecting);
        this.emit(RoomEvent.Reconnecting);
      },
      reconnected: () => {
        this.#setState(ConnectionState.Connected);
        this.emit(RoomEvent.Reconnected);
      },
      disconnected: (reason) => {
        this.#setState(ConnectionState.Disconnected);
        this.emit(RoomEvent.Disconnected, DisconnectReason[reason]);
      },
      sendError: (e) =>
        e instanceof PacketTooLargeError
          ? new PublishDataError(
              `cannot publish data packet larger than ${e.limit} bytes (got ${e.size})`,
            )
          : e,
      duplicateHandlerError: (topic) =>
        new DataStreamError(
          `A text stream handler for topic "${topic}" has already been set.`,
          DataStreamErrorReason.HandlerAlreadyRegistered,
        ),
      readerDisconnectedError: () =>
        new DataStreamError(
          'Room disconnected in the middle of receiving data',
          DataStreamErrorReason.AbnormalEnd,
        ),
      readerSenderLeftError: (identity) =>
        new DataStreamError(
          `Participant ${identity} unexpectedly disconnected in the middle of sending data`,
          DataStreamErrorReason.AbnormalEnd,
        ),
      clearParticipantsOnDisconnect: true,
      sendsWhenDisconnected: 'drop',
    };
    this.#link = new RoomLink(server, flavour);
    this.localParticipant = new FakeClientLocalParticipant(this.#link);
  }

  /** Participants other than the local one, by identity. */
  get remoteParticipants(): Map<string, FakeClientRemoteParticipant> {
    return this.#link.remoteParticipants;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The room name from the token; '' before connecting. */
  get name(): string {
    return this.#name;
  }

  /**
   * Emits `Connected` before resolving. Rejects with livekit-client's `ConnectionError`: after
   * `connectFailureDelayMs` (a setTimeout) for a URL the server does not listen on, at once (status
   * 401) for a bad, expired or join-less token.
   */
  async connect(url: string, token: string, _opts?: RoomConnectOptions): Promise<void> {
    this.#setState(ConnectionState.Connecting);
    try {
      await this.#link.connect(url, token, ({ local, room }) => {
        this.localParticipant.assign(local);
        this.#name = room;
        this.#setState(ConnectionState.Connected);
        this.emit(RoomEvent.Connected);
      });
    } catch (e) {
      this.#setState(ConnectionState.Disconnected);
      if (!(e instanceof FakeConnectError)) throw e;
      throw e.reason === 'unreachable'
        ? ConnectionError.serverUnreachable(e.message)
        : ConnectionError.notAllowed(e.message, 401);
    }
  }

  /** Emits `Disconnected(CLIENT_INITIATED)`; listeners stay registered, as in livekit-client. */
  async disconnect(_stopTracks?: boolean): Promise<void> {
    await this.#link.disconnect();
  }

  registerTextStreamHandler(topic: string, handler: ClientTextStreamHandler): void {
    this.#link.registerTextStreamHandler(topic, handler);
  }

  unregisterTextStreamHandler(topic: string): void {
    this.#link.unregisterTextStreamHandler(topic);
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.emit(RoomEvent.ConnectionStateChanged, state);
  }
}

function notConnected(): UnexpectedConnectionState {
  return new UnexpectedConnectionState('cannot send data before the room is connected');
}

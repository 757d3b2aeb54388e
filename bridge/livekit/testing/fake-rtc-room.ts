/**
 * A test double of `@livekit/rtc-node`'s `Room` (0.13.x) on a `FakeLiveKitServer`, implementing
 * the bridge's narrow `RtcRoom`. It reproduces rtc-node's observable behaviour:
 *
 * - an EventEmitter with rtc-node's `RoomEvent` names and argument order:
 *   `DataReceived(payload, participant | undefined, kind, topic)` with rtc-node's `DataPacketKind`
 *   (KIND_RELIABLE = 1, KIND_LOSSY = 0); `participant` is undefined for server-sent packets;
 * - `localParticipant` undefined until `connect()` resolves; participants already in the room go
 *   into `remoteParticipants` during `connect()` without `ParticipantConnected`; joins are emitted
 *   after insertion into the map, leaves after removal (with `disconnectReason` set);
 *   `RoomEvent.Connected` is never emitted (as in rtc-node), `ConnectionStateChanged` is;
 * - `publishData(data, { reliable, destination_identities, topic })`, options required;
 *   `sendText(text, { topic, destinationIdentities })`;
 * - `Disconnected(reason)` exactly once per connection; sends still pending then, or made after,
 *   reject with the DOMException 'AbortError'; open text readers reject with
 *   'Disconnected while receiving'; `disconnect()` emits `Disconnected(CLIENT_INITIATED)` and then
 *   removes all listeners (a server-side disconnect does not);
 * - a second `registerTextStreamHandler` for a topic throws; streams on topics without a handler
 *   are dropped.
 *
 * Not reproduced: tracks, RPC, byte streams, attribute/metadata updates, e2ee.
 */
import { EventEmitter } from 'node:events';
import {
  ConnectError,
  ConnectionState,
  DataPacketKind,
  DisconnectReason,
  ParticipantKind,
  RoomEvent,
} from '@livekit/rtc-node';
import type { RoomOptions, TextStreamInfo } from '@livekit/rtc-node';
import type {
  RtcDataOptions,
  RtcLocalParticipant,
  RtcParticipant,
  RtcRoom,
  RtcTextOptions,
  RtcTextStreamHandler,
} from '../rtc-room.js';
import { RoomLink } from './fake-room-core.js';
import type { RoomFlavour } from './fake-room-flavour.js';
import { FakeConnectError, type FakeParticipantInfo } from './fake-protocol.js';
import type { FakeLiveKitServer } from './fake-sfu.js';

/** rtc-node's `dispose()`: nothing to release here, but code under test may call it. */
export async function dispose(): Promise<void> {
  // no native client to shut down
}

/** A remote participant as rtc-node shows it (the fields the bridge and most tests read). */
export class FakeRtcRemoteParticipant implements RtcParticipant {
  readonly sid: string;
  readonly identity: string;
  readonly name: string;
  readonly metadata: string;
  readonly attributes: Record<string, string>;
  readonly kind: ParticipantKind;
  /** Set when it leaves, before `ParticipantDisconnected`. */
  disconnectReason: DisconnectReason | undefined;

  constructor(info: FakeParticipantInfo) {
    this.sid = info.sid;
    this.identity = info.identity;
    this.name = info.name;
    this.metadata = info.metadata;
    this.attributes = { ...info.attributes };
    this.kind = rtcKind(info.kind);
  }
}

/** rtc-node's `LocalParticipant`: sends through the room's connection. */
export class FakeRtcLocalParticipant
  extends FakeRtcRemoteParticipant
  implements RtcLocalParticipant
{
  readonly #link: RoomLink<FakeRtcRemoteParticipant>;

  /** @internal */
  constructor(info: FakeParticipantInfo, link: RoomLink<FakeRtcRemoteParticipant>) {
    super(info);
    this.#link = link;
  }

  /** Options are required, in snake_case, as in rtc-node; `reliable` defaults to lossy. */
  publishData(data: Uint8Array, options: RtcDataOptions): Promise<void> {
    return this.#link.publishData(data, options.reliable === true, {
      destinationIdentities: options.destination_identities,
      topic: options.topic,
    });
  }

  async sendText(text: string, options: RtcTextOptions = {}): Promise<TextStreamInfo> {
    const header = await this.#link.sendText(text, options);
    return {
      streamId: header.streamId,
      mimeType: 'text/plain',
      topic: header.topic,
      timestamp: header.timestamp,
      totalSize: header.totalSize,
      attributes: { ...header.attributes },
    };
  }
}

/** The events this double emits, as listener argument tuples. */
export interface FakeRtcRoomEvents {
  [RoomEvent.DataReceived]: [
    payload: Uint8Array,
    participant: FakeRtcRemoteParticipant | undefined,
    kind: DataPacketKind,
    topic: string | undefined,
  ];
  [RoomEvent.ParticipantConnected]: [participant: FakeRtcRemoteParticipant];
  [RoomEvent.ParticipantDisconnected]: [participant: FakeRtcRemoteParticipant];
  [RoomEvent.ConnectionStateChanged]: [state: ConnectionState];
  [RoomEvent.Disconnected]: [reason: DisconnectReason];
  [RoomEvent.Reconnecting]: [];
  [RoomEvent.Reconnected]: [];
}

export class FakeRtcRoom extends EventEmitter<FakeRtcRoomEvents> implements RtcRoom {
  localParticipant: FakeRtcLocalParticipant | undefined;
  readonly #link: RoomLink<FakeRtcRemoteParticipant>;
  #connectionState = ConnectionState.CONN_DISCONNECTED;
  #roomName: string | undefined;

  constructor(server: FakeLiveKitServer) {
    super();
    const flavour: RoomFlavour<FakeRtcRemoteParticipant> = {
      participant: (info) => new FakeRtcRemoteParticipant(info),
      joined: (p) => this.emit(RoomEvent.ParticipantConnected, p),
      left: (p, reason) => {
        p.disconnectReason = DisconnectReason[reason];
        this.emit(RoomEvent.ParticipantDisconnected, p);
      },
      data: (payload, participant, _from, reliable, topic) => {
        const kind = reliable ? DataPacketKind.KIND_RELIABLE : DataPacketKind.KIND_LOSSY;
        this.emit(RoomEvent.DataReceived, payload, participant, kind, topic);
      },
      reconnecting: () => {
        this.#setState(ConnectionState.CONN_RECONNECTING);
        this.emit(RoomEvent.Reconnecting);
      },
      reconnected: () => {
        this.#setState(ConnectionState.CONN_CONNECTED);
        this.emit(RoomEvent.Reconnected);
      },
      disconnected: (reason) => {
        this.#setState(ConnectionState.CONN_DISCONNECTED);
        this.emit(RoomEvent.Disconnected, DisconnectReason[reason]);
      },
      sendError: (e) => e, // the server's message is rtc-node's
      duplicateHandlerError: (topic) =>
        new Error(`A text stream handler for topic "${topic}" has already been set.`),
      readerDisconnectedError: () => new Error('Disconnected while receiving'),
      clearParticipantsOnDisconnect: false,
      sendsWhenDisconnected: 'abort',
    };
    this.#link = new RoomLink(server, flavour);
  }

  /** Participants other than the local one, by identity. */
  get remoteParticipants(): Map<string, FakeRtcRemoteParticipant> {
    return this.#link.remoteParticipants;
  }

  get connectionState(): ConnectionState {
    return this.#connectionState;
  }

  get isConnected(): boolean {
    return this.#connectionState !== ConnectionState.CONN_DISCONNECTED;
  }

  /** The room name from the token, once connected. */
  get name(): string | undefined {
    return this.#roomName;
  }

  /**
   * Rejects with rtc-node's `ConnectError`: after `connectFailureDelayMs` (a setTimeout) for a URL
   * the server does not listen on, at once for a bad, expired or join-less token.
   */
  async connect(url: string, token: string, _opts?: RoomOptions): Promise<void> {
    try {
      await this.#link.connect(url, token, ({ local, room }) => {
        this.localParticipant = new FakeRtcLocalParticipant(local, this.#link);
        this.#roomName = room;
        this.#setState(ConnectionState.CONN_CONNECTED);
      });
    } catch (e) {
      throw e instanceof FakeConnectError ? new ConnectError(e.message) : e;
    }
  }

  async disconnect(): Promise<void> {
    if (await this.#link.disconnect()) this.removeAllListeners();
  }

  registerTextStreamHandler(topic: string, handler: RtcTextStreamHandler): void {
    this.#link.registerTextStreamHandler(topic, handler);
  }

  unregisterTextStreamHandler(topic: string): void {
    this.#link.unregisterTextStreamHandler(topic);
  }

  #setState(state: ConnectionState): void {
    if (state === this.#connectionState) return;
    this.#connectionState = state;
    this.emit(RoomEvent.ConnectionStateChanged, state);
  }
}

function rtcKind(kind: string): ParticipantKind {
  return kind === 'agent' ? ParticipantKind.AGENT : ParticipantKind.STANDARD;
}

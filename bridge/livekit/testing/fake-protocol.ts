/**
 * What passes between `FakeLiveKitServer` and the fake rooms: participant records, the events the
 * server delivers down a connection, a joined participant's send handle, and the errors the
 * server raises (each room turns them into its SDK's own).
 */

/** The reliable-packet limit LiveKit's docs give for user data: 15 KiB. */
export const DEFAULT_MAX_PACKET_BYTES = 15 * 1024;
/** The SDKs cut text streams into chunks of at most this many bytes. */
export const STREAM_CHUNK_BYTES = 15_000;

/** A participant as the server knows it, from its token's claims. */
export interface FakeParticipantInfo {
  readonly sid: string;
  readonly identity: string;
  readonly name: string;
  readonly metadata: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** The token's `kind` claim ('agent', 'sip', …); '' when absent. */
  readonly kind: string;
}

/** Why a participant left; the member names of both SDKs' `DisconnectReason`. */
export type FakeDisconnectReason =
  | 'CLIENT_INITIATED'
  | 'DUPLICATE_IDENTITY'
  | 'PARTICIPANT_REMOVED'
  | 'ROOM_DELETED'
  /** A participant whose connection died (no leave was sent). */
  | 'UNKNOWN_REASON';

export interface FakeStreamHeader {
  readonly streamId: string;
  readonly topic: string;
  readonly timestamp: number;
  /** UTF-8 size of the whole text. */
  readonly totalSize: number;
  readonly attributes: Readonly<Record<string, string>>;
}

/** What the server sends down a participant's connection. */
export type FakeServerEvent =
  | { type: 'participant-joined'; participant: FakeParticipantInfo }
  | { type: 'participant-left'; participant: FakeParticipantInfo; reason: FakeDisconnectReason }
  | {
      type: 'data';
      /** Sender identity; undefined when the server itself sent it (`sendData`). */
      from: string | undefined;
      payload: Uint8Array;
      reliable: boolean;
      topic: string | undefined;
    }
  | { type: 'stream-header'; from: string; header: FakeStreamHeader }
  | { type: 'stream-chunk'; streamId: string; text: string }
  | { type: 'stream-end'; streamId: string }
  | { type: 'reconnecting' }
  | { type: 'reconnected' }
  | { type: 'disconnected'; reason: FakeDisconnectReason };

/** The receiving end of a connection: implemented by the fake rooms. */
export interface FakeSignalSink {
  receive(event: FakeServerEvent): void;
}

/** A joined participant's handle on the server: how a fake room sends. */
export interface FakeServerLink {
  /** Routes a packet; throws `PacketTooLargeError` above the limit. */
  publishData(
    payload: Uint8Array,
    options: { reliable: boolean; destinationIdentities: readonly string[]; topic?: string },
  ): void;
  /** Routes one part of an outgoing text stream to its destinations. */
  sendStreamPart(
    part: Extract<FakeServerEvent, { type: 'stream-header' | 'stream-chunk' | 'stream-end' }>,
    destinationIdentities: readonly string[],
  ): void;
  /** Leaves the room (client-initiated); nothing more is delivered to this participant. */
  leave(): void;
}

export interface FakeJoin {
  readonly room: string;
  readonly link: FakeServerLink;
  readonly local: FakeParticipantInfo;
  /** Already in the room, in join order. */
  readonly others: readonly FakeParticipantInfo[];
}

/** A connect that failed: `unreachable` (unknown URL) or `unauthorized` (bad token). */
export class FakeConnectError extends Error {
  override readonly name = 'FakeConnectError';
  constructor(
    readonly reason: 'unreachable' | 'unauthorized',
    message: string,
  ) {
    super(message);
  }
}

/** A `publishData` above the server's `maxPacketBytes`; the message is rtc-node's. */
export class PacketTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      `data packet size (${size} bytes) exceeds the negotiated maximum message size (${limit} bytes)`,
    );
  }
}
